package browsertest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// The accessibility checks: axe-core, from the npm registry and for the tests only
// (.ci/services.sh installs the version pinned by testdata/axe/package-lock.json and
// names its script in CHAMBER_TEST_AXE), runs in each page as the test finds it. The
// product neither serves nor downloads it: the test reads the file and evaluates it in
// the page. A serious or critical violation of a WCAG 2.0, 2.1 or 2.2 A or AA rule, or
// of one of axe's best practices, fails the test; lesser ones are logged. Each page is
// checked at phone and desktop widths, in light and dark colour schemes, and tabbed
// through to check that every stop shows where the focus is.

// axeTags are the rule sets axe runs.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"}

// axeScript returns axe-core's script, or skips the test when there is none.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHAMBER_TEST_AXE")
	if path == "" {
		if os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("axe-core is required (CHAMBER_TEST_REQUIRE_SERVICES=1) but CHAMBER_TEST_AXE is not set: source .ci/services.sh")
		}
		t.Skip("no axe-core: set CHAMBER_TEST_AXE to its axe.min.js, as .ci/services.sh does")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("axe-core is required (CHAMBER_TEST_REQUIRE_SERVICES=1): %v", err)
		}
		t.Skipf("no axe-core: %v", err)
	}
	return string(src)
}

// axeViolation is one rule that failed, as axe reports it.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  json.RawMessage `json:"target"`
		HTML    string          `json:"html"`
		Summary string          `json:"failureSummary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s <%s>", v.ID, v.Impact, v.Help, v.HelpURL)
	for i, n := range v.Nodes {
		if i == 5 {
			fmt.Fprintf(&b, "\n\t… and %d more", len(v.Nodes)-i)
			break
		}
		fmt.Fprintf(&b, "\n\t%s %s\n\t\t%s", n.Target, oneLine(n.HTML), oneLine(n.Summary))
	}
	return b.String()
}

// a11y checks a page for accessibility.
type a11y struct {
	b      *browser
	script string
}

func newA11y(t *testing.T, name string) *a11y {
	t.Helper()
	script := axeScript(t)
	return &a11y{b: newBrowser(t, name), script: script}
}

// check runs axe on the page as it is, at each width and colour scheme, and tabs
// through it; then it leaves the desktop width and the page's own colour scheme.
func (a *a11y) check(state string) {
	b := a.b
	b.t.Helper()
	defer func() {
		b.do("reset the viewport and colour scheme", chromedp.ResetViewport(), emulateColourScheme(""))
	}()
	for _, vp := range viewports {
		var opts []chromedp.EmulateViewportOption
		if vp.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(1))
		}
		for _, scheme := range []string{"light", "dark"} {
			where := fmt.Sprintf("%s at %s width in %s", state, vp.name, scheme)
			b.do("emulate "+where, chromedp.EmulateViewport(vp.width, vp.height, opts...), emulateColourScheme(scheme))
			a.run(where)
		}
		a.tabThrough(fmt.Sprintf("%s at %s width", state, vp.name))
	}
}

// emulateColourScheme makes the page prefer a colour scheme ("" for the browser's own).
func emulateColourScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		p := emulation.SetEmulatedMediaParams{}
		if scheme != "" {
			p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, p)
		return err
	})
}

// run injects axe into the page, when it is not there yet, and runs it.
func (a *a11y) run(where string) {
	b := a.b
	b.t.Helper()
	if !eval[bool](b, `typeof window.axe === "object"`) {
		b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](a.script+"\n;undefined"))
	}
	tags, _ := json.Marshal(axeTags)
	violations := eval[[]axeViolation](b, `(async () => {
		await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
		const r = await axe.run(document, { runOnly: { type: "tag", values: `+string(tags)+` }, resultTypes: ["violations"] });
		return r.violations;
	})()`)
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("%s: %s: accessibility: %s", b.name, where, v)
		} else {
			b.t.Logf("%s: %s: accessibility (not failing): %s", b.name, where, v)
		}
	}
}

// focusStop is what tabThrough finds at one stop.
type focusStop struct {
	HTML    string `json:"html"`
	Ring    bool   `json:"ring"`
	Visible bool   `json:"visible"`
	Body    bool   `json:"body"`
	Seen    bool   `json:"seen"`
}

// tabThrough presses Tab until the focus comes round again, and checks that each
// element it stops on shows on the page and draws a focus ring.
func (a *a11y) tabThrough(where string) {
	b := a.b
	b.t.Helper()
	b.do("start counting tab stops", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.scrollTo(0, 0);
		window.chamberFocusSeen = new Set(); undefined`))
	stops := 0
	for range 200 {
		b.key(kb.Tab)
		s := eval[focusStop](b, `(() => {
			const e = document.activeElement;
			if (!e || e === document.body) return { body: true };
			if (window.chamberFocusSeen.has(e)) return { seen: true };
			window.chamberFocusSeen.add(e);
			const st = getComputedStyle(e);
			// The style sheets draw a ring of at least 2px: the browser's own is thinner.
			const ring = st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2 &&
				!/^(transparent|rgba\(.*, 0\))$/.test(st.outlineColor);
			// Where it is on the page (not in the viewport: live pages may grow while
			// the test tabs): one hidden off the page, or clipped to a pixel, shows
			// nothing when focused. One the page has just hidden has no box at all.
			const r = e.getBoundingClientRect();
			const gone = r.width === 0 && r.height === 0;
			const shown = gone || (r.width > 1 && r.height > 1 && r.right > 0 && r.bottom + scrollY > 0 &&
				r.left + scrollX < document.documentElement.scrollWidth);
			const where = " at " + [r.left + scrollX, r.top + scrollY, r.width, r.height].map(Math.round).join(",");
			return { html: e.outerHTML.slice(0, 160) + where, ring, visible: shown };
		})()`)
		if s.Seen {
			if stops < 2 {
				b.t.Errorf("%s: %s: Tab reached only %d elements", b.name, where, stops)
			}
			b.t.Logf("%s: %s: Tab stopped on %d elements", b.name, where, stops)
			b.do("leave the focus", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); undefined`))
			return
		}
		if s.Body {
			// Out of the page, or the element with the focus went: Tab goes on
			// from where it was.
			continue
		}
		stops++
		if !s.Ring {
			b.t.Errorf("%s: %s: the keyboard focus shows no ring on %s", b.name, where, oneLine(s.HTML))
		}
		if !s.Visible {
			b.t.Errorf("%s: %s: the keyboard focus is on %s, which does not show", b.name, where, oneLine(s.HTML))
		}
	}
	b.t.Errorf("%s: %s: Tab never came round again after %d stops", b.name, where, stops)
}

// TestAccessibilityPublic checks the pages anyone may read: the home page, the list of
// meetings, the meeting room's sign-in form, a meeting's page while it runs (with the current item and a closed vote's result, then
// in private session), and published minutes.
func TestAccessibilityPublic(t *testing.T) {
	a := newA11y(t, "public")
	b := a.b
	s := startServer(t)
	c := s.newCouncil("Cllr Eira Hughes", "Cllr Rhodri Price")
	voters := c.goVoters()
	earlier := c.minutesOfEarlierMeeting(voters)
	for _, u := range []int64{c.chair, c.members[0], c.members[1]} {
		c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}

	b.open(s.url + "/")
	b.waitJS("the home page lists the meeting", `!!document.querySelector('a[href="/meetings/`+itoa(c.meeting)+`"]')`)
	a.check("home")
	b.open(s.url + "/meetings")
	b.waitJS("the list shows the meeting", `!!document.querySelector('a[href="/meetings/`+itoa(c.meeting)+`"]')`)
	a.check("meetings")
	b.open(s.url + "/meetings/" + itoa(c.meeting) + "/room")
	b.waitJS("the room asks to sign in", `!!document.querySelector("#signin")`)
	a.check("room, signed out")

	b.open(s.url + "/meetings/" + itoa(c.meeting))
	b.waitJS("the page is live", `document.querySelector("#live").dataset.state === "connected"`)
	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil)
	b.waitJS("the planning item is current", `document.querySelector("#live-now").textContent.includes("Land at Heol Las")`)
	var p pollView
	c.chairAPI.do("POST", c.path("/polls"), map[string]any{"question": "That planning permission be granted."}, 201, &p)
	voters.vote(c.meeting, p.ID, c.members[0], "for")
	voters.vote(c.meeting, p.ID, c.members[1], "against")
	voters.vote(c.meeting, p.ID, c.chair, "for")
	c.chairAPI.do("POST", c.path(fmt.Sprintf("/polls/%d/close", p.ID)), nil, 200, nil)
	b.waitJS("the result shows", `document.querySelector("#live-results").textContent.includes("Carried")`)
	a.check("live")
	b.screenshot("live")

	c.chairAPI.do("POST", c.path("/session"), map[string]any{"private": true, "paragraph": 3, "reason": "Terms of the sale"}, 200, nil)
	b.waitJS("the private-session message shows", `!document.querySelector("#private-session").hidden`)
	a.check("private")
	b.open(s.url + "/meetings/" + itoa(c.meeting))
	b.waitJS("the reloaded page is live", `document.querySelector("#live").dataset.state === "connected"`)
	a.check("private, reloaded")
	b.screenshot("private")

	b.open(s.url + "/meetings/" + itoa(earlier) + "/minutes")
	b.waitJS("the minutes show", `!!document.querySelector("article.minutes h1, article.minutes h2")`)
	a.check("minutes")
	b.screenshot("minutes")
}

// TestAccessibilityRoom checks the meeting room of a councillor signed in and set up
// for voting: before joining, joined with a vote open, and after voting by keyboard
// alone.
func TestAccessibilityRoom(t *testing.T) {
	a := newA11y(t, "room")
	b := a.b
	s := startServer(t)
	c := s.newCouncil("Cllr Siân Evans", "Cllr Rhodri Price")
	voter := c.members[0]
	c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": c.chair, "mode": "in_room"}, 201, nil)
	c.publishMember(c.members[1])

	room := fmt.Sprintf("/meetings/%d/room", c.meeting)
	b.open(s.signInLink(voter, room))
	b.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
	b.click("#enrol-button")
	b.waitJS("the key awaits approval", `document.querySelector("#key-status").textContent.includes("waiting for a clerk")`)
	a.check("before joining")
	c.approveKey(c.pendingKeys(t, 1)[0].ID)
	b.click("#key-refresh")
	b.waitJS("the key is approved", `document.querySelector("#key-status").textContent.includes("set up for voting")`)

	b.click("#join-button")
	b.waitJS("the room is joined", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
	b.waitJS("the colleague's video plays", `[...document.querySelectorAll("#grid .tile:not(.self) video")].some(v => v.videoWidth > 0)`)
	var p pollView
	c.chairAPI.do("POST", c.path("/polls"), map[string]any{"question": "That the apologies be noted."}, 201, &p)
	b.waitJS("the ballot shows", `!document.querySelector("#poll").hidden && document.querySelector("#poll-question").textContent.includes("apologies")`)
	b.do("open the declaration form", chromedp.Click(chromedp.CSS("#declare summary")))
	a.check("joined, vote open")
	b.screenshot("vote-open")

	// The vote, by keyboard alone.
	b.do("leave the focus at the top", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur(); window.scrollTo(0, 0); undefined`))
	b.tabTo(`document.activeElement.name === "choice"`)
	b.key(kb.ArrowDown)
	b.waitJS("against is chosen", `document.activeElement.value === "against" && document.activeElement.checked`)
	b.tabTo(`document.activeElement.id === "cast-button"`)
	b.key(kb.Enter)
	b.waitJS("the receipt shows", `document.querySelector("#vote-result").textContent.includes("(Against) is recorded")`)
	b.tabTo(`document.activeElement.id === "check-receipt"`)
	b.key(kb.Enter)
	b.waitJS("the receipt checks out", `document.querySelector("#receipt-check").textContent.includes("checks out")`)
	a.check("voted")
	c.chairAPI.do("POST", c.path(fmt.Sprintf("/polls/%d/close", p.ID)), nil, 200, &p)
	if p.Result == nil || !hasVote(p, voter, "against") {
		t.Errorf("the poll's result: %+v", p.Result)
	}
	b.waitJS("the result shows", `document.querySelector("#vote-result").textContent.includes("apologies")`)
	a.check("vote closed")
	b.screenshot("vote-closed")
}

// TestAccessibilityConsole checks the clerk's console with a vote open, and after it
// closes in private session.
func TestAccessibilityConsole(t *testing.T) {
	a := newA11y(t, "console")
	b := a.b
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones")
	for _, u := range []int64{c.chair, c.members[0], c.members[1]} {
		c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}
	b.open(s.signInLink(c.clerk, fmt.Sprintf("/meetings/%d/console", c.meeting)))
	b.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	a.check("ready")

	b.do("type the question", chromedpSendKeys("#poll-question-input", "That the apologies be noted."))
	b.click("#open-poll-button")
	b.waitJS("the vote is open", `!document.querySelector("#console-poll").hidden`)
	b.do("show who has not voted", chromedpClick("#waiting-details summary"))
	b.waitJS("the waiting list shows", `document.querySelector("#waiting").textContent.includes("Gwen Morgan")`)
	a.check("vote open")
	b.screenshot("vote-open")

	b.click("#close-poll-button")
	b.waitJS("the result shows", `document.querySelector("#console-results").children.length > 0`)
	b.click("#session-button")
	b.waitJS("the session is private", `document.querySelector("#meeting-session").textContent.startsWith("private")`)
	a.check("private")
}

// goVoters cast members' ballots from Go, each with a device key that the clerk
// approves the first time.
type goVoters struct {
	c    *council
	keys map[int64]ed25519.PrivateKey
}

func (c *council) goVoters() *goVoters { return &goVoters{c: c, keys: map[int64]ed25519.PrivateKey{}} }

// vote casts member's ballot in a poll of a meeting.
func (v *goVoters) vote(meeting, poll, member int64, choice string) {
	t := v.c.s.t
	t.Helper()
	api := v.c.s.apiFor(member)
	priv, ok := v.keys[member]
	if !ok {
		pub, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var key voting.Key
		api.do("POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": "tablet"}, 201, &key)
		v.c.approveKey(string(key.ID))
		priv, v.keys[member] = p, p
	}
	path := fmt.Sprintf("/api/v1/meetings/%d/polls/%d", meeting, poll)
	var p voting.PollView
	api.do("GET", path, nil, 200, &p)
	ballot := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: member, Choice: choice, CastAt: time.Now(), Challenge: p.Challenge}
	rand.Read(ballot.Nonce[:])
	sb, err := voting.SignBallot(ballot, priv)
	if err != nil {
		t.Fatal(err)
	}
	api.do("POST", path+"/ballots", sb, 201, nil)
}

// minutesOfEarlierMeeting holds an earlier meeting of the committee with a recorded
// vote, closes it, waits for its minutes to be drafted, and has them approved at the council's meeting in
// progress, and published. It returns the earlier meeting.
func (c *council) minutesOfEarlierMeeting(voters *goVoters) int64 {
	t := c.s.t
	t.Helper()
	ctx := context.Background()
	m, err := c.s.svc.CreateMeeting(ctx, c.s.admin, agenda.MeetingInput{CommitteeID: c.committee, Title: "Planning Committee",
		StartsAt: time.Now().Add(-30 * 24 * time.Hour), Location: "Council Chamber and online", Published: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.svc.AddItem(ctx, c.s.admin, m.ID, agenda.ItemInput{Title: "24/0990/FUL Old school, Stryd Fawr: change of use",
		Kind: agenda.Planning, Description: "Officer recommends approval."}); err != nil {
		t.Fatal(err)
	}
	path := func(p string) string { return fmt.Sprintf("/api/v1/meetings/%d%s", m.ID, p) }
	c.chairAPI.do("POST", path("/start"), nil, 200, nil)
	for _, u := range []int64{c.chair, c.members[0], c.members[1]} {
		c.clerkAPI.do("POST", path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}
	c.chairAPI.do("POST", path("/next"), nil, 200, nil)
	var p pollView
	c.chairAPI.do("POST", path("/polls"), map[string]any{"question": "That planning permission be granted.", "recorded": true}, 201, &p)
	voters.vote(m.ID, p.ID, c.members[0], "for")
	voters.vote(m.ID, p.ID, c.members[1], "against")
	voters.vote(m.ID, p.ID, c.chair, "for")
	c.chairAPI.do("POST", path(fmt.Sprintf("/polls/%d/close", p.ID)), nil, 200, nil)
	c.chairAPI.do("POST", path("/close"), nil, 200, nil)
	// Closing the meeting drafts its minutes.
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(100 * time.Millisecond) {
		_, err := c.s.node.Minutes.GetVersion(ctx, c.s.admin, m.ID, 0)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the minutes of the closed meeting were never drafted: %v", err)
		}
	}
	c.chairAPI.do("POST", path("/minutes/approve"), map[string]any{"at_meeting": c.meeting}, 200, nil)
	c.clerkAPI.do("POST", path("/minutes/publish"), nil, 200, nil)
	return m.ID
}
