package browsertest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chamber/chamber/agenda"
)

// TestConsoleNoCastingVote: a vote ties 1–1 and the chair, presiding, gives no casting
// vote. The chair's console and the clerk's both offer to record that none will come;
// the clerk's refuses it without a reason, asks for confirmation, and records it by
// keyboard. Both consoles then show the vote lost with the reason, as does the public
// meeting page, live and as the server renders it; the meeting moves on to the next item.
func TestConsoleNoCastingVote(t *testing.T) {
	clerk := newBrowser(t, "clerk")
	chair := clerk.profile("chair")
	observer := clerk.profile("observer")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones")
	gwen, ifan := c.members[0], c.members[1]
	for _, u := range []int64{c.chair, gwen, ifan} {
		c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}
	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil)

	observer.open(fmt.Sprintf("%s/meetings/%d", s.url, c.meeting))
	observer.waitJS("the public page follows the meeting", `document.querySelector("#live").dataset.state === "connected"`)
	console := fmt.Sprintf("/meetings/%d/console", c.meeting)
	clerk.open(s.signInLink(c.clerk, console))
	clerk.waitJS("the clerk's console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	chair.open(s.signInLink(c.chair, console))
	chair.waitJS("the chair's console is ready", `document.querySelector("#console-status").textContent === "Ready."`)

	// Gwen votes for, Ifan against; the chair does not vote, and the vote closes tied.
	clerk.do("type the question", chromedpSendKeys("#poll-question-input", "That planning permission be granted."))
	clerk.click("#open-poll-button")
	clerk.waitJS("the vote is open", `!document.querySelector("#console-poll").hidden`)
	var polls []pollView
	c.clerkAPI.do("GET", c.path("/polls"), nil, 200, &polls)
	if len(polls) != 1 {
		t.Fatalf("polls: %+v", polls)
	}
	poll := polls[0]
	voters := c.goVoters()
	voters.vote(c.meeting, poll.ID, gwen, "for")
	voters.vote(c.meeting, poll.ID, ifan, "against")
	clerk.click("#close-poll-button")
	clerk.waitJS("the clerk may record that no casting vote will come", `!document.querySelector("#no-casting-form").hidden &&
		document.querySelector("#casting-summary").textContent.includes("awaits the casting vote of Cllr Dafydd Chair")`)
	if eval[bool](clerk, `!document.querySelector("#casting-form").hidden`) {
		t.Errorf("the clerk, who does not preside, is offered the casting vote")
	}
	chair.waitJS("the chair is offered both the casting vote and none", `!document.querySelector("#casting-form").hidden &&
		!document.querySelector("#no-casting-form").hidden`)
	observer.waitJS("the public page shows the tie", `document.querySelector("#live-results").textContent.includes("Tied")`)

	// Without a reason it is refused, and the reason's field takes the focus.
	clerk.click("#no-casting-button")
	clerk.waitJS("a reason is asked for", `document.querySelector("#no-casting-status").textContent.startsWith("Say why no casting vote will be given") &&
		document.activeElement.id === "no-casting-reason" && document.activeElement.getAttribute("aria-invalid") === "true"`)
	if eval[bool](clerk, `!document.querySelector("#no-casting-confirm").hidden`) {
		t.Errorf("confirmation is asked for without a reason")
	}

	// With the reason, it asks first; going back records nothing.
	reason := "The chair has left the meeting"
	clerk.do("type the reason", chromedpSendKeys("#no-casting-reason", reason))
	clerk.click("#no-casting-button")
	clerk.waitJS("confirmation is asked for", `!document.querySelector("#no-casting-confirm").hidden &&
		document.querySelector("#no-casting-button").getAttribute("aria-expanded") === "true" &&
		document.activeElement.id === "no-casting-yes" &&
		document.querySelector("#no-casting-question").textContent.includes("on “That planning permission be granted”?")`)
	clerk.screenshot("no-casting-confirm")
	axeCheck(clerk, "no casting vote to confirm")
	clerk.click("#no-casting-no")
	clerk.waitJS("going back hides the question", `document.querySelector("#no-casting-confirm").hidden &&
		document.activeElement.id === "no-casting-button"`)
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d", poll.ID)), nil, 200, &poll)
	if poll.Status != "awaiting_casting_vote" {
		t.Fatalf("after going back the poll is %s", poll.Status)
	}

	// By keyboard, from the button the focus went back to: the button, then the
	// confirmation.
	clerk.key(kb.Enter)
	clerk.waitJS("confirmation is asked again", `document.activeElement.id === "no-casting-yes"`)
	clerk.key(kb.Enter)
	const stands = "There was an equality of votes, and the member presiding gave no casting vote, so the equality stands. Reason given: The chair has left the meeting."
	clerk.waitJS("the result shows lost with the reason", `document.querySelector("#no-casting-status").textContent === "Recorded: no casting vote will be given, so the equality stands." &&
		document.querySelector("#casting-summary").textContent.includes("granted: Lost. For 1, against 1, abstentions 0. `+stands+`") &&
		document.querySelector("#no-casting-form").hidden && document.querySelector("#casting-form").hidden`)
	if got := eval[string](clerk, `document.activeElement.id`); got != "casting-title" {
		t.Errorf("after recording, the focus is on %q, want the casting vote's heading", got)
	}
	clerk.waitJS("the console's results show it lost", `document.querySelector("#console-results").textContent.includes("`+stands+`")`)
	clerk.screenshot("no-casting-recorded")
	axeCheck(clerk, "no casting vote recorded")
	chair.waitJS("the chair's console shows it lost", `document.querySelector("#casting-summary").textContent.includes("`+stands+`") &&
		document.querySelector("#casting-form").hidden && document.querySelector("#no-casting-form").hidden`)

	var decided struct {
		Status string `json:"status"`
		Result struct {
			Outcome  string `json:"outcome"`
			Equality struct {
				Resolution string `json:"resolution"`
			} `json:"equality"`
		} `json:"result"`
		Declined struct {
			DeclaredBy int64  `json:"declared_by"`
			Reason     string `json:"reason"`
		} `json:"casting_declined"`
	}
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d", poll.ID)), nil, 200, &decided)
	if decided.Status != "closed" || decided.Result.Outcome != "lost" || decided.Result.Equality.Resolution != "casting_vote_not_given" ||
		decided.Declined.DeclaredBy != c.clerk || decided.Declined.Reason != reason {
		t.Errorf("the poll after no casting vote: %+v", decided)
	}

	// The public page says so live, and as the server renders it.
	observer.waitJS("the public page shows it lost, live", `document.querySelector("#live-results").textContent.includes("Lost. For 1, against 1, abstentions 0. `+stands+`")`)
	observer.screenshot("no-casting-live")
	observer.open(fmt.Sprintf("%s/meetings/%d", s.url, c.meeting))
	if got := oneLine(observer.text(fmt.Sprintf("#item-%d .vote", c.items[1].ID))); got != "Vote: That planning permission be granted. Lost (For 1, Against 1, Abstentions 0): "+
		"there was an equality of votes, and the member presiding gave no casting vote, so the equality stands. Reason given: The chair has left the meeting." {
		t.Errorf("the public page's vote: %q", got)
	}

	// The meeting moves on.
	clerk.click("#next-button")
	clerk.waitJS("the next item is taken", `document.querySelector("#now").textContent.includes("`+c.items[2].Title+`")`)
}

// TestConsoleMinutesCorrection: the clerk corrects published minutes from the console:
// an item's decision, with the reason. A correction that changes nothing, or gives no
// reason, is refused in words. The versions list the new version with its reason, and
// the public minutes page shows the corrected decision with the correction's note,
// the version corrected being kept as it was.
func TestConsoleMinutesCorrection(t *testing.T) {
	clerk := newBrowser(t, "clerk")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones")
	earlier := c.minutesOfEarlierMeeting(c.goVoters())
	var items []agenda.Item
	c.clerkAPI.do("GET", fmt.Sprintf("/api/v1/meetings/%d/items", earlier), nil, 200, &items)
	if len(items) != 1 {
		t.Fatalf("the earlier meeting's items: %+v", items)
	}
	item := items[0]

	clerk.open(s.signInLink(c.clerk, fmt.Sprintf("/meetings/%d/console", earlier)))
	clerk.waitJS("the published minutes offer a correction", `document.querySelector("#minutes-facts").dataset.status === "published" &&
		!document.querySelector("#correction-form").hidden && document.querySelector("#correction-item").value === "`+itoa(item.ID)+`"`)
	if got := clerk.text("#correction-item"); !strings.Contains(got, "Old school, Stryd Fawr") {
		t.Errorf("the items to correct: %q", got)
	}
	published := eval[string](clerk, `document.querySelector("#correction-decision").value`)

	// Nothing changed: refused.
	clerk.click("#correction-button")
	clerk.waitJS("a correction that changes nothing is refused", `document.querySelector("#correction-status").textContent.includes("changes nothing yet") &&
		document.activeElement.id === "correction-decision"`)

	// A new decision without a reason: refused.
	decision := "Planning permission granted, subject to the conditions in the officer's report and a further condition on parking."
	clerk.do("correct the decision", chromedp.SetValue(chromedp.CSS("#correction-decision"), decision))
	clerk.click("#correction-button")
	clerk.waitJS("a correction without a reason is refused", `document.querySelector("#correction-status").textContent.startsWith("Give the reason") &&
		document.activeElement.id === "correction-reason"`)

	reason := "The decision left out the condition on parking that the committee agreed."
	clerk.do("give the reason", chromedpSendKeys("#correction-reason", reason))
	clerk.click("#correction-button")
	clerk.waitJS("the correction is published", `document.querySelector("#correction-status").textContent.startsWith("The correction is published as version 2") &&
		(document.querySelector('#minutes-versions li[data-version="2"]')||{}).textContent?.includes("corrects version 1: `+reason+`")`)
	if got := clerk.text(fmt.Sprintf(`#minutes-items form[data-item="%d"] .decision`, item.ID)); got != decision {
		t.Errorf("the decision shown after the correction: %q", got)
	}
	if got := eval[string](clerk, `document.querySelector("#correction-decision").value + "|" + document.querySelector("#correction-reason").value`); got != decision+"|" {
		t.Errorf("the correction's fields after publishing: %q", got)
	}
	if got := clerk.text("#minutes-status"); !strings.Contains(got, "Version 2 of the minutes is published") {
		t.Errorf("the minutes' status: %q", got)
	}
	clerk.screenshot("minutes-corrected")
	axeCheck(clerk, "the minutes corrected")

	// The public minutes page, read with no sign-in: the corrected decision and the
	// correction's note; version 1 as it was.
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return strings.ReplaceAll(string(body), "&#39;", "'")
	}
	page := get(fmt.Sprintf("/meetings/%d/minutes", earlier))
	for _, want := range []string{decision, "Version 2 corrects version 1", "Reason: " + reason, "Corrects version 1: " + reason} {
		if !strings.Contains(page, want) {
			t.Errorf("the public minutes page lacks %q", want)
		}
	}
	first := get(fmt.Sprintf("/meetings/%d/minutes?version=1", earlier))
	if strings.Contains(first, decision) || (published != "" && !strings.Contains(first, published)) {
		t.Errorf("version 1 of the minutes changed with the correction")
	}
	clerk.open(s.url + fmt.Sprintf("/meetings/%d/minutes", earlier))
	clerk.waitJS("the public minutes page shows the correction", `document.body.textContent.includes("Version 2 corrects version 1")`)
	clerk.screenshot("public-minutes-corrected")
}
