package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// holdSoundBack is the browser's own autoplay policy: no sound until the visitor has
// done something on the page (the other tests let pages play sound at once).
var holdSoundBack = chromedp.Flag("autoplay-policy", "document-user-activation-required")

// TestObserverPlaysSound opens the public page in a browser that holds sound back
// until the visitor does something on the page: the page offers a Play sound button,
// reachable from the keyboard, which starts the sound and goes.
func TestObserverPlaysSound(t *testing.T) {
	b := newBrowser(t, "observer", holdSoundBack)
	s := startServer(t)
	c := s.newCouncil("Cllr Eira Hughes")
	c.publishMember(c.members[0])

	b.open(c.s.url + "/meetings/" + itoa(c.meeting))
	waitUntouched(b, "the Play sound button shows", `(() => { const b = document.querySelector("#play-sound");
		return !!b && !b.hidden && b.getClientRects().length > 0; })()`)
	waitUntouched(b, "the muted video plays", `document.querySelector("#live video").currentTime > 0`)
	if got := eval[bool](b, `[...document.querySelectorAll("#live audio")].every(a => a.paused)`); !got {
		t.Errorf("the sound plays before the visitor asked, with autoplay held back")
	}
	if got := b.text("#live-connection"); !strings.Contains(got, "Play sound") {
		t.Errorf("the connection line reads %q, want it to point to Play sound", got)
	}
	b.screenshot("sound-held-back")

	b.tabTo(`document.activeElement.id === "play-sound"`)
	b.click("#play-sound")
	b.waitJS("the sound plays", `(() => { const as = [...document.querySelectorAll("#live audio")];
		return as.length > 0 && as.every(a => !a.paused && a.srcObject); })()`)
	b.waitJS("the Play sound button goes", `document.querySelector("#play-sound").hidden`)
}

// TestCouncillorPlaysSound: a councillor whose browser holds sound back is offered a
// Play sound button in the room, which starts a colleague's sound and goes. (A page
// using the camera or microphone may always play sound, so this councillor has
// neither; and the join button is pressed by a script, which is no user action.)
func TestCouncillorPlaysSound(t *testing.T) {
	b := newBrowser(t, "councillor", holdSoundBack, chromedp.Flag("use-fake-device-for-media-stream", false))
	s := startServer(t)
	c := s.newCouncil("Cllr Siân Evans", "Cllr Rhodri Price")
	c.publishMember(c.members[1])

	room := fmt.Sprintf("/meetings/%d/room", c.meeting)
	b.open(s.signInLink(c.members[0], room))
	waitUntouched(b, "the room page finds no camera", `location.pathname === "`+room+`" &&
		document.querySelector("#room-status").textContent.includes("not available")`)
	eval[bool](b, `(() => { document.querySelector("#join-button").click(); return true; })()`)
	waitUntouched(b, "the colleague's video plays", `[...document.querySelectorAll("#grid .tile:not(.self) video")].some(v => v.videoWidth > 0)`)
	waitUntouched(b, "the Play sound button shows", `(() => { const b = document.querySelector("#play-sound");
		return !!b && !b.hidden && b.getClientRects().length > 0; })()`)
	if got := eval[bool](b, `[...document.querySelectorAll("#room audio")].every(a => a.paused)`); !got {
		t.Errorf("the sound plays before the councillor asked, with autoplay held back")
	}
	b.screenshot("sound-held-back")

	b.tabTo(`document.activeElement.id === "play-sound"`)
	b.click("#play-sound")
	b.waitJS("the colleague's sound plays", `(() => { const as = [...document.querySelectorAll("#room audio")];
		return as.length > 0 && as.every(a => !a.paused && a.srcObject); })()`)
	b.waitJS("the Play sound button goes", `document.querySelector("#play-sound").hidden`)
}

// waitUntouched waits until a JavaScript expression is truthy, as waitJS does, but
// without the user gesture that chromedp's polling carries, which would let the page
// play sound.
func waitUntouched(b *browser, what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	for !eval[bool](b, "!!("+expr+")") {
		select {
		case <-ctx.Done():
			b.t.Fatalf("%s: waiting until %s (%s): %v", b.name, what, expr, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
