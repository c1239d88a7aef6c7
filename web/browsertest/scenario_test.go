package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chamber/chamber/agenda"
)

// TestWholeMeeting runs a meeting from its start to its published minutes, every step
// in a browser as the people who take it would: the clerk starts the meeting from the
// console; three councillors sign in, set their devices up for voting and join with
// camera and microphone; a member of the public watches the video play; the chair
// opens a recorded vote from the console and the councillors vote by clicking; the
// result reaches the public page; the public is excluded, which blanks their page,
// and readmitted, which brings the video back; the clerk closes the meeting, and the
// minutes drafted from it are approved at the next meeting and published from the
// console; the public minutes page shows how each councillor voted.
func TestWholeMeeting(t *testing.T) {
	s := startServer(t)
	names := []string{"Cllr Siân Evans", "Cllr Rhodri Price", "Cllr Eleri Rees"}
	c := s.newCouncilNotStarted(names...)
	// The next meeting of the committee, at which these minutes are approved.
	next, err := s.svc.CreateMeeting(context.Background(), s.admin, agenda.MeetingInput{CommitteeID: c.committee,
		Title: "Planning Committee", StartsAt: time.Now().Add(time.Hour), Location: "Council Chamber and online", Published: true})
	if err != nil {
		t.Fatal(err)
	}

	first := newBrowser(t, "observer")
	observer := first
	clerk := first.profile("clerk")
	chair := first.profile("chair")
	members := make([]*browser, len(names))
	for i := range names {
		members[i] = first.profile(fmt.Sprintf("councillor%d", i+1))
	}
	meetingPage := fmt.Sprintf("%s/meetings/%d", s.url, c.meeting)
	consolePage := fmt.Sprintf("/meetings/%d/console", c.meeting)
	roomPage := fmt.Sprintf("/meetings/%d/room", c.meeting)

	// The clerk starts the meeting from the console.
	clerk.open(s.signInLink(c.clerk, consolePage))
	clerk.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	clerk.click("#start-button")
	clerk.waitJS("the meeting is in progress", `document.querySelector("#meeting-status").textContent === "in progress"`)
	clerk.screenshot("started")

	// The chair is in the chamber: the clerk puts it on the roll.
	chairRow := fmt.Sprintf(`#roll-body tr[data-user="%d"]`, c.chair)
	clerk.click(chairRow + ` button[data-action="mode"][data-mode="in_room"]`)
	clerk.waitJS("the chair is in the room", `document.querySelector('`+chairRow+`').dataset.state === "in_room"`)

	// The councillors sign in, set their devices up for voting and join the room.
	for i, b := range members {
		b.open(s.signInLink(c.members[i], roomPage))
		b.waitJS("the room page loads signed in", `location.pathname === "`+roomPage+`" && !!document.querySelector("#room")`)
		b.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
		b.click("#enrol-button")
		b.waitJS("the key awaits approval", `document.querySelector("#key-status").textContent.includes("waiting for a clerk")`)
	}
	for _, k := range c.pendingKeys(t, len(names)) {
		c.approveKey(k.ID)
	}
	for i, b := range members {
		b.click("#key-refresh")
		b.waitJS("the key is approved", `document.querySelector("#key-status").textContent.includes("set up for voting")`)
		b.click("#join-button")
		b.waitJS("the room is joined", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
		c.waitPresent(c.members[i])
	}
	for _, b := range members {
		b.waitJS("every colleague's video plays", `[...document.querySelectorAll("#grid .tile:not(.self) video")].filter(v => v.videoWidth > 0).length === 2`)
	}
	members[0].screenshot("three-councillors")

	// The public watches.
	observer.open(meetingPage)
	observer.waitJS("the video plays", `(() => { const v = document.querySelector("#live video");
		return v && !v.hidden && v.videoWidth > 0 && v.currentTime > 0; })()`)
	t0 := eval[float64](observer, `document.querySelector("#live video").currentTime`)
	observer.waitJS("the video advances", `document.querySelector("#live video").currentTime > `+ftoa(t0+0.5))
	observer.screenshot("watching")

	// The clerk takes the apologies, then the planning application; the chair opens
	// a recorded vote.
	clerk.click("#next-button")
	clerk.waitJS("the first item is current", `document.querySelector("#now").textContent.includes("Apologies")`)
	observer.waitJS("the public page shows the first item", `document.querySelector("#live-now").textContent.includes("Apologies")`)
	clerk.click("#next-button")
	clerk.waitJS("the planning item is current", `document.querySelector("#now").textContent.includes("Land at Heol Las")`)
	observer.waitJS("the public page follows the agenda", `document.querySelector("#live-now").textContent.includes("Land at Heol Las")`)
	chair.open(s.signInLink(c.chair, consolePage))
	chair.waitJS("the chair's console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	chair.do("type the question", chromedpSendKeys("#poll-question-input", "That planning permission be granted."))
	chair.click("#poll-recorded")
	chair.click("#open-poll-button")
	chair.waitJS("the vote is open", `!document.querySelector("#console-poll").hidden`)

	// The councillors vote by clicking: two for, one against.
	var polls []pollView
	c.chairAPI.do("GET", c.path("/polls"), nil, 200, &polls)
	if len(polls) != 1 {
		t.Fatalf("polls: %+v, want one", polls)
	}
	poll := polls[0]
	choices := []string{"for", "for", "against"}
	for i, b := range members {
		b.waitJS("the ballot shows", `!document.querySelector("#poll").hidden && document.querySelector("#poll-question").textContent.includes("planning permission")`)
		b.click(fmt.Sprintf("#option-%d-%s", poll.ID, choices[i]))
		b.click("#cast-button")
		b.waitJS("the vote is recorded", `!document.querySelector("#receipt").hidden && document.querySelector("#vote-result").textContent.includes("is recorded")`)
	}
	members[2].screenshot("voted")
	chair.waitJS("the councillors have voted", `document.querySelector("#console-progress").textContent.startsWith("3 of 4")`)
	chair.click("#close-poll-button")
	chair.waitJS("the result shows in the console", `document.querySelector("#console-results").textContent.includes("Carried")`)

	// The result reaches the public page.
	observer.waitJS("the result shows on the public page", `document.querySelector("#live-results").textContent.includes("Carried")`)
	if got := observer.text("#live-results"); !strings.Contains(got, "planning permission") {
		t.Errorf("the public page's results read %q", got)
	}
	observer.screenshot("result")

	// A private session blanks the public page; readmission restores the video.
	clerk.click("#session-button")
	clerk.waitJS("the session is private", `document.querySelector("#meeting-session").textContent.startsWith("private")`)
	observer.waitJS("the public page blanks", `(() => { const p = document.querySelector("#private-session");
		const v = document.querySelector("#live video");
		return p && !p.hidden && (!v || v.hidden || !v.srcObject); })()`)
	observer.screenshot("private")
	clerk.click("#session-button")
	clerk.waitJS("the session is public", `document.querySelector("#meeting-session").textContent === "public"`)
	observer.waitJS("the private-session message goes", `document.querySelector("#private-session").hidden`)
	observer.waitJS("the video plays again", `(() => { const v = document.querySelector("#live video");
		return v && !v.hidden && v.videoWidth > 0 && !v.paused; })()`)
	t1 := eval[float64](observer, `document.querySelector("#live video").currentTime`)
	observer.waitJS("the video advances again", `document.querySelector("#live video").currentTime > `+ftoa(t1+0.5))

	// The clerk closes the meeting; its minutes are drafted.
	clerk.click("#close-meeting-button")
	clerk.click("#close-meeting-yes")
	clerk.waitJS("the meeting is closed", `document.querySelector("#meeting-status").textContent === "closed"`)
	observer.waitJS("the public page says the meeting has ended", `document.querySelector("#live").textContent.includes("The meeting has closed")`)
	clerk.waitJS("the minutes are drafted", `!document.querySelector("#minutes-panel").hidden &&
		document.querySelector("#minutes-status").textContent.toLowerCase().includes("draft")`)
	clerk.screenshot("minutes-draft")

	// The chair approves them at the next meeting, once it has begun; the clerk
	// publishes them.
	c.chairAPI.do("POST", fmt.Sprintf("/api/v1/meetings/%d/start", next.ID), nil, 200, nil)
	chair.open(s.url + consolePage)
	chair.waitJS("the next meeting is offered for the approval", `[...document.querySelectorAll("#minutes-approve-at option")].some(o => o.value === "`+itoa(next.ID)+`")`)
	chair.do("choose the next meeting", chromedp.SetValue(chromedp.CSS("#minutes-approve-at"), itoa(next.ID)))
	chair.click("#minutes-approve")
	chair.waitJS("the minutes are approved", `document.querySelector("#minutes-status").textContent.toLowerCase().includes("approved")`)
	clerk.open(s.url + consolePage)
	clerk.waitJS("the clerk may publish", `!document.querySelector("#minutes-publish").hidden`)
	clerk.click("#minutes-publish")
	clerk.waitJS("the minutes are published", `document.querySelector("#minutes-status").textContent.toLowerCase().includes("published")`)
	clerk.screenshot("minutes-published")

	// The public minutes page shows the named votes.
	observer.open(meetingPage + "/minutes")
	observer.waitJS("the minutes page shows the vote", `document.querySelector("article.minutes").textContent.includes("planning permission")`)
	// Each recorded vote is a table of members, their party and their vote.
	votes := eval[map[string]string](observer, `(() => {
		const t = [...document.querySelectorAll("article.minutes table")].find(t => t.caption && t.caption.textContent.startsWith("Recorded vote"));
		const out = {};
		if (t) for (const r of t.tBodies[0].rows) out[r.cells[0].textContent.trim()] = r.cells[2].textContent.trim();
		return out; })()`)
	for i, name := range names {
		want := map[string]string{"for": "For", "against": "Against"}[choices[i]]
		if votes[name] != want {
			t.Errorf("the published minutes show %s voting %q, want %q (all: %v)", name, votes[name], want, votes)
		}
	}
	observer.screenshot("minutes")
}
