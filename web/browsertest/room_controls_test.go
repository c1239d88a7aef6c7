package browsertest

import (
	"fmt"
	"strings"
	"testing"
)

// TestCouncillorRoomControls has two councillors in the meeting room, each on their
// own browser with camera and microphone: the page names who is speaking, and when
// one turns the camera off the other sees their initials instead of a picture, until
// it is turned on again. The agenda beside the video links each item's papers.
func TestCouncillorRoomControls(t *testing.T) {
	s := startServer(t)
	c := s.newCouncil("Cllr Siân Evans", "Cllr Rhodri Price")
	first := newBrowser(t, "councillor1")
	second := first.profile("councillor2")
	room := fmt.Sprintf("/meetings/%d/room", c.meeting)
	for i, b := range []*browser{first, second} {
		b.open(s.signInLink(c.members[i], room))
		b.waitJS("the room page loads signed in", `!!document.querySelector("#room") && !!document.querySelector("#join-button")`)
		b.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
		b.click("#join-button")
		b.waitJS("the room is joined", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
	}
	tileOf := func(user int64) string { return fmt.Sprintf(`#grid .tile[data-identity="user-%d"]`, user) }
	evans := tileOf(c.members[0])
	second.waitJS("the colleague's video plays", `(() => { const v = document.querySelector('`+evans+` video');
		return v && !v.hidden && v.videoWidth > 0; })()`)

	// The fake microphone plays a tone: someone is named as speaking.
	second.waitJS("a speaker is named", `document.querySelector("#speaking").textContent.startsWith("Speaking: Cllr ")`)

	// The papers of the planning item are linked from the agenda.
	if got := second.text(fmt.Sprintf("#item-%d .papers", c.items[1].ID)); !strings.Contains(got, "Officer's report") {
		t.Errorf("the planning item's papers read %q", got)
	}

	// Camera off: the colleague sees initials, then the picture again.
	first.click("#camera-button")
	first.waitJS("the camera shows off", `document.querySelector("#camera-button").getAttribute("aria-pressed") === "true"`)
	second.waitJS("the colleague's tile shows the camera off", `(() => { const t = document.querySelector('`+evans+`');
		return t.querySelector("video").hidden && !t.classList.contains("has-video") && t.querySelector(".name").textContent.includes("camera off"); })()`)
	if got := second.text(evans + " .initials"); got != "SE" {
		t.Errorf("initials %q, want SE", got)
	}
	second.screenshot("camera-off")
	first.click("#camera-button")
	second.waitJS("the colleague's video is back", `(() => { const t = document.querySelector('`+evans+`');
		const v = t.querySelector("video");
		return !v.hidden && t.classList.contains("has-video") && v.videoWidth > 0 && !t.querySelector(".name").textContent.includes("camera off"); })()`)
}
