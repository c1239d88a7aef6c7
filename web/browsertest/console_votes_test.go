package browsertest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// TestConsoleVotes takes the clerk and the chair through the console's signed votes and
// the minutes. The clerk sets the console's device up for signing (another clerk approves
// a clerk's own key), approves the chair's key and revokes a councillor's lost one from
// the key panel; records a member's vote given in the room and one given by proxy; the
// vote ties and the chair gives the casting vote by keyboard from their console. In a
// vote that is not recorded the clerk counts a show of hands, and a count larger than
// the room is refused in words. Once the meeting has closed the clerk drafts and edits
// the minutes, the chair approves them at the next meeting and the clerk publishes
// them; the public minutes page shows the decision and the recorded vote by name.
func TestConsoleVotes(t *testing.T) {
	clerk := newBrowser(t, "clerk")
	chair := newBrowser(t, "chair")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones", "Cllr Nia Roberts")
	ctx := context.Background()
	gwen, ifan, nia := c.members[0], c.members[1], c.members[2]
	planning := c.items[1]

	// The committee's rules let an absent member vote by proxy; Nia's proxy is held by
	// Gwen. Those present come before the planning item, which they must attend whole.
	c.clerkAPI.do("PATCH", fmt.Sprintf("/api/v1/committees/%d", c.committee),
		map[string]any{"overrides": map[string]any{"proxies_allowed": true, "max_proxies_per_holder": 1}}, 200, nil)
	for _, u := range []int64{c.chair, gwen, ifan} {
		c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}
	c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": nia, "mode": "proxy", "proxy_holder_id": gwen}, 201, nil)
	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil)

	console := fmt.Sprintf("/meetings/%d/console", c.meeting)
	clerk.open(s.signInLink(c.clerk, console))
	clerk.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)

	// The clerk sets this device up; another clerk approves a clerk's own key.
	clerk.waitJS("the device is not set up", `!document.querySelector("#device-key-enrol").hidden`)
	clerk.click("#device-key-enrol")
	clerk.waitJS("the key awaits approval", `document.querySelector("#device-key-status").textContent.includes("waiting for approval by another clerk")`)
	var mine []voting.Key
	c.clerkAPI.do("GET", "/api/v1/me/keys", nil, 200, &mine)
	if len(mine) != 1 {
		t.Fatalf("the clerk's keys: %+v", mine)
	}
	if got := clerk.text("#device-key-status"); !strings.Contains(got, string(mine[0].ID)) {
		t.Errorf("the key status %q does not name key %s", got, mine[0].ID)
	}
	clerk.waitJS("the clerk's own key is listed without an approve button",
		`!!document.querySelector('#pending-keys li[data-user="`+itoa(c.clerk)+`"]') &&
		!document.querySelector('#pending-keys li[data-user="`+itoa(c.clerk)+`"] button.approve')`)
	deputy, err := s.svc.AddPerson(ctx, s.admin, c.id, agenda.PersonInput{Name: "Owain Deputy", Email: "deputy@afon.example", Role: agenda.RoleClerk})
	if err != nil {
		t.Fatal(err)
	}
	s.apiFor(deputy.UserID).do("POST", "/api/v1/keys/"+string(mine[0].ID)+"/approve", nil, 200, nil)
	clerk.click("#device-key-check")
	clerk.waitJS("the clerk's key is approved", `document.querySelector("#device-key-status").textContent.includes("is approved")`)

	// The chair sets their console's device up too, and a councillor enrols a phone.
	chair.open(s.signInLink(c.chair, console))
	chair.waitJS("the chair's console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	chair.click("#device-key-enrol")
	chair.waitJS("the chair's key awaits approval", `document.querySelector("#device-key-status").textContent.includes("waiting for approval by a clerk")`)
	if eval[bool](chair, `!!document.querySelector("#pending-keys, #in-room")`) {
		t.Errorf("the chair's console offers the clerk's key approvals or in-room votes")
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var phone voting.Key
	s.apiFor(nia).do("POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": "phone"}, 201, &phone)

	// The clerk approves the chair's key and revokes the phone's, from the panel.
	clerk.click("#pending-keys-refresh")
	chairRow := `#pending-keys li[data-user="` + itoa(c.chair) + `"]`
	niaRow := `#pending-keys li[data-key="` + string(phone.ID) + `"]`
	clerk.waitJS("both keys are listed by name", `(document.querySelector('`+chairRow+`')||{}).textContent?.includes("Dafydd Chair") &&
		(document.querySelector('`+niaRow+`')||{}).textContent?.includes("Nia Roberts")`)
	clerk.screenshot("keys")
	clerk.click(chairRow + " button.approve")
	clerk.waitJS("the chair's key is approved", `document.querySelector("#pending-keys-status").textContent.includes("Dafydd Chair is approved") &&
		!document.querySelector('`+chairRow+`')`)
	clerk.click(niaRow + " button.revoke")
	clerk.waitJS("the phone's key is revoked", `document.querySelector("#pending-keys-status").textContent.includes("Nia Roberts is revoked") &&
		!document.querySelector('`+niaRow+`')`)
	var k voting.Key
	c.clerkAPI.do("GET", "/api/v1/keys/"+string(phone.ID), nil, 200, &k)
	if k.RevokedAt.IsZero() || !k.ApprovedAt.IsZero() {
		t.Errorf("the phone's key after revoking: %+v", k)
	}
	chair.click("#device-key-check")
	chair.waitJS("the chair's key is approved", `document.querySelector("#device-key-status").textContent.includes("is approved")`)

	// A recorded vote: Gwen votes on her own device, the clerk records Ifan's vote given
	// in the room; the chair does not vote, so it ties 1–1.
	clerk.do("type the question", chromedpSendKeys("#poll-question-input", "That planning permission be granted."))
	clerk.click("#poll-recorded")
	clerk.click("#open-poll-button")
	clerk.waitJS("the in-room votes show", `!document.querySelector("#in-room").hidden &&
		!!document.querySelector("#in-room-vote-`+itoa(ifan)+`")`)
	var polls []pollView
	c.clerkAPI.do("GET", c.path("/polls"), nil, 200, &polls)
	if len(polls) != 1 || polls[0].Status != "open" {
		t.Fatalf("polls: %+v", polls)
	}
	named := polls[0]
	if eval[bool](clerk, `!document.querySelector("#count-form").hidden`) {
		t.Errorf("a recorded vote offers a count of hands")
	}
	if got := clerk.text(`#in-room-rows tr[data-user="` + itoa(nia) + `"]`); !strings.Contains(got, "By proxy, held by Cllr Gwen Morgan") {
		t.Errorf("Nia's row: %q", got)
	}
	voters := c.goVoters()
	voters.vote(c.meeting, named.ID, gwen, "for")
	clerk.do("choose Ifan's vote", chromedp.SetValue(chromedp.CSS("#in-room-vote-"+itoa(ifan)), "against"))
	clerk.click("#in-room-button")
	clerk.waitJS("Ifan's vote is recorded", `document.querySelector("#in-room-result-`+itoa(ifan)+`").textContent.startsWith("Against") &&
		document.querySelector("#in-room-status").textContent === "Recorded 1 vote."`)
	clerk.screenshot("in-room")
	var prog struct {
		Voted int `json:"voted"`
	}
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d/progress", named.ID)), nil, 200, &prog)
	if prog.Voted != 2 {
		t.Errorf("after the in-room vote %d have voted, want 2", prog.Voted)
	}

	// The vote closes on an equality: the clerk sees it await the casting vote, and the
	// chair gives it by keyboard alone.
	clerk.click("#close-poll-button")
	clerk.waitJS("the clerk sees the result await the casting vote", `!document.querySelector("#casting").hidden &&
		document.querySelector("#casting-summary").textContent.includes("awaits the casting vote of Cllr Dafydd Chair")`)
	if eval[bool](clerk, `!document.querySelector("#casting-form").hidden`) {
		t.Errorf("the clerk, who does not preside, is offered the casting vote")
	}
	chair.waitJS("the chair is asked for the casting vote", `!document.querySelector("#casting-form").hidden &&
		document.querySelectorAll("#casting-options input").length === 2`)
	chair.screenshot("casting-vote")
	axeCheck(chair, "the casting vote asked for")
	chair.do("go to the casting vote", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); document.querySelector("#casting-title").scrollIntoView()`))
	chair.tabTo(`document.activeElement.name === "casting"`)
	chair.key(" ")
	chair.waitJS("for is chosen", `document.activeElement.value === "for" && document.activeElement.checked`)
	chair.tabTo(`document.activeElement.id === "casting-button"`)
	chair.key(kb.Enter)
	chair.waitJS("the receipt shows", `!document.querySelector("#casting-receipt").hidden &&
		document.querySelector("#casting-status").textContent.includes("Carried")`)
	if got := eval[string](chair, `document.activeElement.id`); got != "casting-receipt-title" {
		t.Errorf("after the casting vote the focus is on %q, want the receipt", got)
	}
	chair.screenshot("casting-receipt")
	var decided pollView
	var casting struct {
		Result struct {
			CastingVote string `json:"casting_vote"`
		} `json:"result"`
	}
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d", named.ID)), nil, 200, &decided)
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d", named.ID)), nil, 200, &casting)
	if decided.Result == nil || decided.Result.Outcome != "carried" || casting.Result.CastingVote != "for" ||
		!hasVote(decided, gwen, "for") || !hasVote(decided, ifan, "against") {
		t.Fatalf("the recorded vote's result: %+v, casting vote %q", decided.Result, casting.Result.CastingVote)
	}
	clerk.waitJS("the clerk sees it carried on the casting vote", `document.querySelector("#console-results").textContent.includes("Carried") &&
		document.querySelector("#casting-summary").textContent.includes("casting vote: For")`)

	// A vote that is not recorded: the form to open a vote was reset when the first
	// opened, so the next is not recorded unless the clerk asks again. The clerk records
	// Nia's proxy vote, then counts the hands of the others; a count larger than the
	// room is refused.
	if eval[bool](clerk, `document.querySelector("#poll-recorded").checked || document.querySelector("#poll-question-input").value !== ""`) {
		t.Errorf("the form to open a vote still holds the last vote's question or recorded vote")
	}
	clerk.do("type the second question", chromedpSendKeys("#poll-question-input", "That the officers report on parking."))
	clerk.click("#open-poll-button")
	clerk.waitJS("the count of hands shows", `!document.querySelector("#count-form").hidden && !!document.querySelector("#count-for")`)
	clerk.do("choose Nia's proxy vote", chromedp.SetValue(chromedp.CSS("#in-room-vote-"+itoa(nia)), "for"))
	clerk.click("#in-room-button")
	clerk.waitJS("Nia's proxy vote is recorded", `document.querySelector("#in-room-result-`+itoa(nia)+`").textContent.startsWith("For (by proxy)")`)
	clerk.do("count too many hands", chromedp.SetValue(chromedp.CSS("#count-for"), "5"))
	clerk.click("#count-button")
	clerk.waitJS("the count is refused in words", `document.querySelector("#count-status").textContent.includes("more votes than members who may still give them")`)
	clerk.screenshot("count-refused")
	axeCheck(clerk, "a count refused")
	clerk.do("count the hands",
		chromedp.SetValue(chromedp.CSS("#count-for"), "2"),
		chromedp.SetValue(chromedp.CSS("#count-against"), "1"),
		chromedp.SetValue(chromedp.CSS("#count-abstain"), "0"))
	clerk.click("#count-button")
	clerk.waitJS("the count is recorded", `document.querySelector("#count-status").textContent.startsWith("The count is recorded: For 2, against 1")`)
	clerk.click("#close-poll-button")
	clerk.waitJS("the counted vote is carried", `document.querySelector("#console-results").textContent.includes("report on parking: Carried. For 3, against 1")`)
	var counted struct {
		Result struct {
			Outcome string `json:"outcome"`
			Counted []struct {
				Option string `json:"option"`
				Count  int    `json:"count"`
			} `json:"counted_in_room"`
			Votes []struct {
				Voter int64 `json:"voter"`
				Proxy int64 `json:"proxy"`
			} `json:"votes"`
		} `json:"result"`
	}
	c.clerkAPI.do("GET", c.path("/polls"), nil, 200, &polls)
	if len(polls) != 2 {
		t.Fatalf("polls: %+v", polls)
	}
	c.clerkAPI.do("GET", c.path(fmt.Sprintf("/polls/%d", polls[1].ID)), nil, 200, &counted)
	if r := counted.Result; r.Outcome != "carried" || len(r.Counted) != 3 || r.Counted[0].Count != 2 || r.Counted[1].Count != 1 ||
		len(r.Votes) != 1 || r.Votes[0].Voter != nia || r.Votes[0].Proxy != gwen {
		t.Errorf("the counted vote's result: %+v", r)
	}

	// The meeting closes; the next meeting of the committee begins.
	c.chairAPI.do("POST", c.path("/close"), nil, 200, nil)
	next, err := s.svc.CreateMeeting(ctx, s.admin, agenda.MeetingInput{CommitteeID: c.committee, Title: "Planning Committee (June)",
		StartsAt: time.Now().Add(time.Hour), Location: "Council Chamber", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	c.chairAPI.do("POST", fmt.Sprintf("/api/v1/meetings/%d/start", next.ID), nil, 200, nil)

	// The minutes are drafted as the meeting closes; the clerk edits the planning item's
	// decision, then drafts again from the records, which keeps the edit.
	decision := "Planning permission granted on the casting vote of the Chair, subject to the conditions in the officer's report."
	field := fmt.Sprintf("#minutes-decision-%d", planning.ID)
	clerk.waitJS("the draft shows", `!document.querySelector("#minutes-panel").hidden &&
		document.querySelector("#minutes-facts").dataset.status === "draft" && !!document.querySelector("`+field+`")`)
	if got := clerk.text("#minutes-status"); !strings.Contains(got, "is a draft") {
		t.Errorf("the minutes' status: %q", got)
	}
	if got := clerk.text(fmt.Sprintf(`#minutes-items form[data-item="%d"] .results`, planning.ID)); !strings.Contains(got, "Casting vote of Cllr Dafydd Chair: For") ||
		!strings.Contains(got, "Against: Cllr Ifan Jones") {
		t.Errorf("the draft's votes on the planning item: %q", got)
	}
	clerk.do("edit the decision", chromedp.SetValue(chromedp.CSS(field), decision))
	clerk.click(fmt.Sprintf("#minutes-save-%d", planning.ID))
	clerk.waitJS("the decision is saved", fmt.Sprintf(`document.querySelector("#minutes-item-status-%d").textContent.startsWith("Saved")`, planning.ID))
	clerk.click("#minutes-redraft")
	clerk.waitJS("the minutes are drafted again", `document.querySelector("#minutes-status").textContent.includes("drafted again; your edits are kept")`)
	if got := eval[string](clerk, `document.querySelector("`+field+`").value`); got != decision {
		t.Errorf("the decision after drafting again: %q", got)
	}
	clerk.screenshot("minutes-draft")
	axeCheck(clerk, "the minutes drafted")

	// The chair approves them at the next meeting; the clerk publishes them.
	chair.waitJS("the chair may approve at the next meeting", `!document.querySelector("#minutes-approve-form").hidden &&
		document.querySelector("#minutes-approve-at").value === "`+itoa(next.ID)+`"`)
	if eval[bool](chair, `!!document.querySelector("#minutes-items textarea")`) {
		t.Errorf("the chair is offered the clerk's editing")
	}
	axeCheck(chair, "the minutes to approve")
	chair.click("#minutes-approve")
	chair.waitJS("the minutes are approved", `document.querySelector("#minutes-facts").dataset.status === "approved"`)
	clerk.waitJS("the clerk may publish", `!document.querySelector("#minutes-publish").hidden`)
	clerk.click("#minutes-publish")
	clerk.waitJS("the minutes are published", `document.querySelector("#minutes-facts").dataset.status === "published" &&
		document.querySelector("#minutes-status").textContent.includes("published")`)
	if got := clerk.text(fmt.Sprintf(`#minutes-items form[data-item="%d"] .decision`, planning.ID)); got != decision {
		t.Errorf("the published decision: %q", got)
	}
	clerk.screenshot("minutes-published")

	// The public minutes page, read with no sign-in, has the decision and the names.
	resp, err := http.Get(s.url + fmt.Sprintf("/meetings/%d/minutes", c.meeting))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the public minutes page: %d", resp.StatusCode)
	}
	for _, want := range []string{"casting vote of the Chair, subject to the conditions", "Cllr Gwen Morgan", "Cllr Ifan Jones", "report on parking"} {
		if !strings.Contains(page, want) {
			t.Errorf("the public minutes page lacks %q", want)
		}
	}
	minutesPage := fmt.Sprintf("/meetings/%d/minutes", c.meeting)
	if n := eval[int](clerk, `document.querySelectorAll('#minutes-links a[href="`+minutesPage+`"], #minutes-links a[href^="/api/v1/meetings/`+itoa(c.meeting)+`/minutes."]').length`); n != 7 {
		t.Errorf("the console links to %d of the minutes page and its 6 exports", n)
	}
	clerk.open(s.url + minutesPage)
	clerk.waitJS("the minutes page opens", `document.body.textContent.includes("Ifan Jones")`)
	clerk.screenshot("public-minutes")
}

// axeCheck runs the accessibility checks (axe_test.go) on the page as it is, when
// axe-core is there; without it the rest of the test runs all the same.
func axeCheck(b *browser, state string) {
	b.t.Helper()
	if os.Getenv("CHAMBER_TEST_AXE") == "" && os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") != "1" {
		b.t.Logf("%s: no accessibility check of %s: set CHAMBER_TEST_AXE, as .ci/services.sh does", b.name, state)
		return
	}
	(&a11y{b: b, script: axeScript(b.t)}).check(state)
}

// TestCountVector encodes the count of hands of voting/testdata/entry/count-bytes.hex
// in the browser, with the page's own module, and compares the bytes.
func TestCountVector(t *testing.T) {
	b := newBrowser(t, "counts")
	s := startServer(t)
	b.open(s.url + "/")
	raw, err := os.ReadFile("../../voting/testdata/entry/count-bytes.hex")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(strings.Fields(string(raw)), "")
	bytes, err := hex.DecodeString(want)
	if err != nil {
		t.Fatal(err)
	}
	n, err := voting.ParseCount(bytes)
	if err != nil {
		t.Fatal(err)
	}
	var counts []string
	for _, oc := range n.Counts {
		counts = append(counts, fmt.Sprintf("{option: %q, count: %d}", oc.Option, oc.Count))
	}
	got := eval[string](b, fmt.Sprintf(`(async () => {
		const m = await import("/static/js/ballot.js");
		const hex = (s) => Uint8Array.from(s.match(/../g), (h) => parseInt(h, 16));
		return m.toHex(m.encodeCount({ meeting: BigInt("%d"), item: BigInt("%d"), poll: BigInt("%d"), recorder: BigInt("%d"),
			countedAt: BigInt("%d"), challenge: hex("%x"), nonce: hex("%x"), counts: [%s] }));
	})()`, n.Meeting, n.Item, n.Poll, n.Recorder, n.CountedAt.UnixMilli(), n.Challenge[:], n.Nonce[:], strings.Join(counts, ", ")))
	if got != want {
		t.Errorf("the browser made\n%s\nwant\n%s", got, want)
	}
}
