package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestObserverWatches opens a meeting's public page while a member publishes video
// and sound: the page plays them, goes blank with the private-session message when
// the public is excluded, and plays again when they are readmitted. With sound only,
// the server stops sending video (and still sends none after the page resumes a
// dropped connection) until the visitor asks for it again.
func TestObserverWatches(t *testing.T) {
	b := newBrowser(t, "observer")
	s := startServer(t)
	c := s.newCouncil("Cllr Eira Hughes")
	c.publishMember(c.members[0])

	b.open(c.s.url + "/meetings/" + itoa(c.meeting))
	b.waitJS("the page has its live section", `!!document.querySelector("#live[data-meeting-id]")`)
	b.waitJS("the video plays", `(() => { const v = document.querySelector("#live video");
		return v && !v.hidden && v.videoWidth > 0 && v.currentTime > 0; })()`)
	t0 := eval[float64](b, `document.querySelector("#live video").currentTime`)
	b.waitJS("the video keeps playing", `document.querySelector("#live video").currentTime > `+ftoa(t0+0.5))
	if w := eval[int](b, `document.querySelector("#live video").videoWidth`); w != 320 {
		t.Errorf("video width %d, want 320", w)
	}
	b.waitJS("the sound plays", `[...document.querySelectorAll("#live audio")].some(a => !a.paused && a.srcObject)`)
	b.screenshot("live")

	// The public is excluded: the page says so and shows no video.
	c.chairAPI.do("POST", c.path("/session"), map[string]any{"private": true, "paragraph": 3, "reason": "Terms of the sale"}, 200, nil)
	b.waitJS("the private-session message shows", `(() => { const p = document.querySelector("#private-session");
		return p && !p.hidden && p.textContent.includes("The meeting is in private session"); })()`)
	if got := b.text("#live .live-status"); !strings.HasPrefix(got, "In private session") {
		t.Errorf("the meeting's status reads %q in private session", got)
	}
	if got := eval[bool](b, `(() => { const v = document.querySelector("#live video"); return !v || v.hidden || !v.srcObject; })()`); !got {
		t.Errorf("the video still shows in private session")
	}
	if got := eval[bool](b, `[...document.querySelectorAll("#live audio")].every(a => a.paused)`); !got {
		t.Errorf("the sound still plays in private session")
	}
	b.screenshot("private")

	// The public is readmitted: video resumes without reloading.
	c.chairAPI.do("POST", c.path("/session"), map[string]any{"private": false}, 200, nil)
	b.waitJS("the private-session message goes", `document.querySelector("#private-session").hidden`)
	b.waitJS("the video plays again", `(() => { const v = document.querySelector("#live video");
		return v && !v.hidden && v.videoWidth > 0 && !v.paused; })()`)
	t1 := eval[float64](b, `document.querySelector("#live video").currentTime`)
	b.waitJS("the video advances again", `document.querySelector("#live video").currentTime > `+ftoa(t1+0.5))

	// The agenda moves on: the page follows.
	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil)
	b.waitJS("the current item changes", `document.querySelector("#live-now").textContent.includes("Land at Heol Las")`)
	if got := b.text("ol.agenda > li[aria-current]"); !strings.Contains(got, "Land at Heol Las") {
		t.Errorf("the agenda marks %q as current, want the planning item", got)
	}

	// Sound only: the video goes and the server stops sending it; the sound stays.
	b.click("#audio-only")
	b.waitJS("the video hides", `document.querySelector("#live video").hidden`)
	if got := eval[string](b, `document.querySelector("#audio-only").getAttribute("aria-pressed")`); got != "true" {
		t.Errorf("the sound-only switch is aria-pressed=%q, want true", got)
	}
	b.waitJS("the server says it sends no video", `window.chamberWatch.receiving && window.chamberWatch.receiving.video === false`)
	b.screenshot("sound-only")
	noVideoWhileSound(b, "with sound only")

	// The connection drops: the page says so and resumes, still with sound only.
	eval[bool](b, `(() => { window.chamberWatch.client.ws.close(); return true; })()`)
	b.waitJS("the page resumes", `window.chamberWatch.client.resumed && document.querySelector("#live").dataset.state === "connected"`)
	if got := eval[string](b, `window.chamberWatch.statusLog.join(" | ")`); !strings.Contains(got, "The connection to the meeting was lost. Trying again in") ||
		!strings.Contains(got, "Reconnected to the meeting.") {
		t.Errorf("what the page said while reconnecting: %q", got)
	}
	b.waitJS("the resumed connection sends no video", `window.chamberWatch.receiving && window.chamberWatch.receiving.video === false`)
	noVideoWhileSound(b, "with sound only after resuming")
	b.waitJS("the sound plays after resuming", `[...document.querySelectorAll("#live audio")].some(a => !a.paused && a.srcObject)`)

	// Video again: the server sends it and the page plays it.
	b.click("#audio-only")
	b.waitJS("the server sends video again", `window.chamberWatch.receiving.video === true`)
	before := mediaPackets(b)
	waitPackets(b, "video arrives again", func(n packetCounts) bool { return n.Video > before.Video+30 })
	b.waitJS("the video plays after resuming", `(() => { const v = document.querySelector("#live video");
		return v && !v.hidden && v.videoWidth > 0 && !v.paused && v.srcObject.getVideoTracks()[0].readyState === "live"; })()`)
	t2 := eval[float64](b, `document.querySelector("#live video").currentTime`)
	b.waitJS("the video advances after resuming", `document.querySelector("#live video").currentTime > `+ftoa(t2+0.5))
}

// packetCounts are the RTP packets the page's peer connection has received, by kind.
type packetCounts struct {
	Audio float64 `json:"audio"`
	Video float64 `json:"video"`
}

// mediaPackets reads the watch page's receive statistics.
func mediaPackets(b *browser) packetCounts {
	b.t.Helper()
	return eval[packetCounts](b, `(async () => {
		const out = { audio: 0, video: 0 };
		const pc = window.chamberWatch.client.pc;
		if (!pc) return out;
		for (const r of (await pc.getStats()).values()) {
			if (r.type === "inbound-rtp" && r.kind in out) out[r.kind] += r.packetsReceived || 0;
		}
		return out; })()`)
}

// waitPackets waits until the page's receive statistics satisfy cond.
func waitPackets(b *browser, what string, cond func(packetCounts) bool) packetCounts {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitLimit)
	defer cancel()
	for {
		n := mediaPackets(b)
		if cond(n) {
			return n
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("%s: waiting until %s: packets received %+v", b.name, what, n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// noVideoWhileSound checks that while plenty of sound arrives, no video does. Packets
// on their way when the server stopped sending may still land first.
func noVideoWhileSound(b *browser, when string) {
	b.t.Helper()
	start := mediaPackets(b)
	settled := waitPackets(b, "some sound arrives "+when, func(n packetCounts) bool { return n.Audio > start.Audio+25 })
	after := waitPackets(b, "more sound arrives "+when, func(n packetCounts) bool { return n.Audio > settled.Audio+100 })
	if after.Video != settled.Video {
		b.t.Errorf("%s: %v video packets arrived while %v audio packets did, want none", when, after.Video-settled.Video, after.Audio-settled.Audio)
	}
}
