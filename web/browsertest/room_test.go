package browsertest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

type pollView struct {
	ID       int64    `json:"id"`
	Status   string   `json:"status"`
	Eligible []int64  `json:"eligible"`
	Options  []string `json:"options"`
	Result   *struct {
		Outcome string `json:"outcome"`
		Counts  []struct {
			Option string `json:"option"`
			Count  int    `json:"count"`
		} `json:"counts"`
		Votes []struct {
			Voter  int64  `json:"voter"`
			Choice string `json:"choice"`
		} `json:"votes"`
	} `json:"result"`
}

// TestCouncillorVotes takes a councillor through the meeting room: signed in by link,
// they set up the device for voting (a clerk approves the key), join with the fake
// camera beside a colleague who publishes from Go, raise a hand, declare an interest,
// then vote by clicking, check the receipt, and vote again by keyboard alone. The
// server takes both ballots and counts them.
func TestCouncillorVotes(t *testing.T) {
	b := newBrowser(t, "councillor")
	s := startServer(t)
	c := s.newCouncil("Cllr Siân Evans", "Cllr Rhodri Price")
	voter, colleague := c.members[0], c.members[1]
	c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": c.chair, "mode": "in_room"}, 201, nil)
	c.publishMember(colleague)

	room := fmt.Sprintf("/meetings/%d/room", c.meeting)
	b.open(s.signInLink(voter, room))
	b.waitJS("the room page loads signed in", `location.pathname === "`+room+`" && !!document.querySelector("#room")`)
	b.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
	b.waitJS("the device pickers list the fake devices", `document.querySelector("#camera-select").options.length > 0 &&
		document.querySelector("#camera-select").options[0].textContent.length > 0`)
	b.screenshot("before-joining")

	// Set the device up for voting; a clerk approves its key.
	b.click("#enrol-button")
	b.waitJS("the key awaits approval", `document.querySelector("#key-status").textContent.includes("waiting for a clerk")`)
	pending := c.pendingKeys(t, 1)
	if pending[0].User != voter {
		t.Fatalf("pending key of user %d, want user %d", pending[0].User, voter)
	}
	if got := eval[bool](b, `document.querySelector("#key-status").textContent.includes("`+pending[0].ID+`")`); !got {
		t.Errorf("the page does not name the pending key %s", pending[0].ID)
	}
	c.approveKey(pending[0].ID)
	b.click("#key-refresh")
	b.waitJS("the key is approved", `document.querySelector("#key-status").textContent.includes("set up for voting")`)
	if ext := eval[bool](b, `(async () => { const {storedKey} = await import("/static/js/keys.js");
		const k = await storedKey(`+itoa(voter)+`); return k.keyPair.privateKey.extractable; })()`); ext {
		t.Errorf("the private key is extractable")
	}

	// Join with the fake camera and microphone.
	b.click("#join-button")
	b.waitJS("the room is joined", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
	b.waitJS("the colleague's video plays", `[...document.querySelectorAll("#grid .tile:not(.self) video")].some(v => v.videoWidth > 0)`)
	b.waitJS("both are listed", `document.querySelectorAll("#grid .tile").length === 2`)
	c.waitPresent(voter)
	if got := eval[string](b, `document.querySelector("#grid .tile.self .name").textContent`); !strings.Contains(got, "Siân Evans (you") {
		t.Errorf("own tile is named %q", got)
	}

	// Mute, raise a hand.
	b.click("#mic-button")
	b.waitJS("the microphone shows muted", `document.querySelector("#mic-button").getAttribute("aria-pressed") === "true"`)
	b.click("#hand-button")
	b.waitJS("the hand is up", `document.querySelector("#hand-button").getAttribute("aria-pressed") === "true" &&
		document.querySelector("#grid .tile.self .name").textContent.includes("hand raised")`)

	// Declare an interest in the planning item.
	b.do("open the declaration form", chromedp.Click(chromedp.CSS("#declare summary")))
	b.do("fill in the declaration",
		chromedp.SetValue(chromedp.CSS("#declare-item"), itoa(c.items[1].ID)),
		chromedp.Click(chromedp.CSS(`input[name=kind][value=personal]`)),
		chromedp.SendKeys(chromedp.CSS("#declare-description"), "I am a member of the parish council that commented on the application."),
		chromedp.Click(chromedp.CSS("#declare-form button[type=submit]")))
	b.waitJS("the declaration is recorded", `document.querySelector("#declare-result").textContent.includes("recorded")`)
	var decls []struct {
		UserID int64  `json:"user_id"`
		ItemID int64  `json:"item_id"`
		Kind   string `json:"kind"`
	}
	c.clerkAPI.do("GET", c.path("/declarations"), nil, 200, &decls)
	if len(decls) != 1 || decls[0].UserID != voter || decls[0].ItemID != c.items[1].ID || decls[0].Kind != "personal" {
		t.Errorf("declarations: got %+v", decls)
	}

	// A vote opens: the councillor votes by clicking and checks the receipt.
	var p1 pollView
	c.chairAPI.do("POST", c.path("/polls"), map[string]any{"question": "That the apologies be noted."}, 201, &p1)
	if !contains(p1.Eligible, voter) {
		t.Fatalf("the voter is not on the roll: %+v", p1.Eligible)
	}
	b.waitJS("the ballot shows", `!document.querySelector("#poll").hidden && document.querySelector("#poll-question").textContent.includes("apologies")`)
	b.screenshot("vote-open")
	b.click(fmt.Sprintf("#option-%d-for", p1.ID))
	b.click("#cast-button")
	b.waitJS("the receipt shows", `!document.querySelector("#receipt").hidden`)
	if got := b.text("#vote-result"); !strings.Contains(got, "is recorded") {
		t.Fatalf("after casting: %q", got)
	}
	b.click("#check-receipt")
	b.waitJS("the receipt checks out", `document.querySelector("#receipt-check").textContent.includes("checks out")`)
	b.screenshot("receipt")
	c.chairAPI.do("POST", c.path(fmt.Sprintf("/polls/%d/close", p1.ID)), nil, 200, &p1)
	if p1.Result == nil || p1.Result.Outcome != "carried" || !hasVote(p1, voter, "for") {
		t.Errorf("the first poll's result: %+v", p1.Result)
	}
	b.waitJS("the result shows", `document.querySelector("#vote-result").textContent.includes("Carried")`)

	// Another vote, cast by keyboard alone: Tab to the options, arrow to Against,
	// Tab to the button, Enter.
	var p2 pollView
	c.chairAPI.do("POST", c.path("/polls"), map[string]any{"question": "That the meeting continue past nine o'clock."}, 201, &p2)
	b.waitJS("the second ballot shows", `!document.querySelector("#poll").hidden && document.querySelector("#poll-question").textContent.includes("nine")`)
	b.do("leave the focus at the top", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); document.querySelector("#vote-title").scrollIntoView()`))
	b.tabTo(`document.activeElement.name === "choice"`)
	b.key(kb.ArrowDown)
	b.waitJS("against is chosen", `document.activeElement.value === "against" && document.activeElement.checked`)
	b.tabTo(`document.activeElement.id === "cast-button"`)
	b.key(kb.Enter)
	b.waitJS("the second receipt shows", `document.querySelector("#vote-result").textContent.includes("(Against) is recorded")`)
	if got := eval[string](b, `document.activeElement.id`); got != "receipt-title" {
		t.Errorf("after voting the focus is on %q, want the receipt", got)
	}
	b.tabTo(`document.activeElement.id === "check-receipt"`)
	b.key(kb.Enter)
	b.waitJS("the second receipt checks out", `document.querySelector("#receipt-check").textContent.includes("checks out")`)
	c.chairAPI.do("POST", c.path(fmt.Sprintf("/polls/%d/close", p2.ID)), nil, 200, &p2)
	if p2.Result == nil || !hasVote(p2, voter, "against") {
		t.Errorf("the second poll's result: %+v", p2.Result)
	}
	b.waitJS("the second result shows", `document.querySelector("#vote-result").textContent.includes("nine")`)
	b.screenshot("after-votes")
}

// tabTo presses Tab until the expression holds, as a keyboard user would.
func (b *browser) tabTo(expr string) {
	b.t.Helper()
	for range 80 {
		if eval[bool](b, expr) {
			return
		}
		b.key(kb.Tab)
	}
	b.t.Fatalf("%s: Tab never reached %s (at %s)", b.name, expr, eval[string](b, `document.activeElement.outerHTML.slice(0, 120)`))
}

// waitPresent waits until the live room has recorded the user as present.
func (c *council) waitPresent(userID int64) {
	t := c.s.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	for {
		var att []struct {
			UserID int64      `json:"user_id"`
			LeftAt *time.Time `json:"left_at"`
		}
		c.clerkAPI.do("GET", c.path("/attendance"), nil, 200, &att)
		for _, a := range att {
			if a.UserID == userID && a.LeftAt == nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("user %d was never recorded present: %+v", userID, att)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func contains(ids []int64, id int64) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

func hasVote(p pollView, voter int64, choice string) bool {
	for _, v := range p.Result.Votes {
		if v.Voter == voter && v.Choice == choice {
			return true
		}
	}
	return false
}
