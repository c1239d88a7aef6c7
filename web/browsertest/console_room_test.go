package browsertest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chamber/chamber/agenda"
	rtcclient "github.com/chamber/chamber/signaling/client"
)

// TestClerkRunsTheRoom drives the console's room business: the clerk takes the roll
// (the chair and a member in the room, a member's apologies with a substitute sitting
// for them, and a member who joins the meeting room from their own browser showing as
// remote), records a declaration of interest that bars a member from the item, then
// gives the floor to a councillor who raised a hand in the room page, mutes them and
// takes the floor back; finally a public speaker is given the floor on their item and
// the console counts down their time.
func TestClerkRunsTheRoom(t *testing.T) {
	clerk := newBrowser(t, "clerk")
	councillor := newBrowser(t, "councillor")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones", "Cllr Nia Rees")
	remote, apologetic, inRoom := c.members[0], c.members[1], c.members[2]
	sub := c.addSubstitute("Cllr Owain Bevan")
	row := func(user int64) string { return fmt.Sprintf(`#roll-body tr[data-user="%d"]`, user) }
	person := func(user int64) string { return fmt.Sprintf(`li[data-identity="user-%d"]`, user) }

	clerk.open(s.signInLink(c.clerk, fmt.Sprintf("/meetings/%d/console", c.meeting)))
	clerk.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	clerk.waitJS("the roll lists the members and the substitute", `document.querySelectorAll("#roll-body tr[data-user]").length === 5`)
	clerk.waitJS("the console is in the meeting room", `document.querySelector("#room-status").dataset.state === "connected"`)
	clerk.waitJS("the console asked for no media", `(() => { const r = window.chamberConsole.panels.room.receiving;
		return !!r && r.audio === false && r.video === false; })()`)
	if got := clerk.text("#roll-modes"); !strings.Contains(got, "Remote: counts towards the quorum, may vote") {
		t.Errorf("the rules under the roll read %q", got)
	}
	clerk.click("#next-button")
	clerk.waitJS("the planning item is current", `document.querySelector("#now").textContent.includes("Land at Heol Las")`)

	// The roll: the chair and a member in the room.
	for _, u := range []int64{c.chair, inRoom} {
		clerk.click(row(u) + ` button[data-action="mode"][data-mode="in_room"]`)
		clerk.waitJS(c.names[u]+" is in the room", `document.querySelector('`+row(u)+`').dataset.state === "in_room" &&
			document.querySelector('`+row(u)+` button[data-mode="in_room"]').getAttribute("aria-pressed") === "true"`)
	}
	if got := clerk.text(row(c.chair) + " .attendance"); !strings.HasPrefix(got, "In the room since ") {
		t.Errorf("the chair's attendance reads %q", got)
	}

	// Apologies, with the substitute sitting for the member, who is then in the room.
	clerk.click(row(apologetic) + ` button[data-action="apologies"]`)
	clerk.waitJS("the apologies form has the focus", `document.activeElement.id === "roll-form-`+itoa(apologetic)+`-reason"`)
	clerk.do("fill in the apologies",
		chromedp.SendKeys(chromedp.CSS(`#roll-form-`+itoa(apologetic)+`-reason`), "Another council meeting"),
		chromedp.SetValue(chromedp.CSS(`#roll-form-`+itoa(apologetic)+`-substitute`), itoa(sub)),
		chromedp.Click(chromedp.CSS(`tr[data-form-for="`+itoa(apologetic)+`"] button[type=submit]`)))
	clerk.waitJS("the apologies are recorded", `document.querySelector('`+row(apologetic)+`').dataset.state === "apologies" &&
		document.querySelector('`+row(sub)+` .attendance').textContent.includes("Sitting for Cllr Ifan Jones")`)
	if got := clerk.text(row(apologetic) + " .attendance"); !strings.Contains(got, "Apologies: Another council meeting") ||
		!strings.Contains(got, "Substitute: Cllr Owain Bevan") {
		t.Errorf("the apologetic member's attendance reads %q", got)
	}
	clerk.click(row(sub) + ` button[data-action="mode"][data-mode="in_room"]`)
	clerk.waitJS("the substitute is in the room", `document.querySelector('`+row(sub)+`').dataset.state === "in_room"`)

	// A member joins the meeting room from their own browser: the roll shows them remote.
	roomPage := fmt.Sprintf("/meetings/%d/room", c.meeting)
	councillor.open(s.signInLink(remote, roomPage))
	councillor.waitJS("the room page loads signed in", `location.pathname === "`+roomPage+`" && !!document.querySelector("#room")`)
	councillor.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
	councillor.click("#join-button")
	councillor.waitJS("the councillor is in the room", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
	clerk.waitJS("the roll shows the member remote", `document.querySelector('`+row(remote)+`').dataset.state === "remote_voting"`)
	clerk.waitJS("the console lists the member in the meeting room", `!!document.querySelector('#participants `+person(remote)+`')`)
	clerk.waitJS("the meeting is quorate with four counting", `document.querySelector("#quorum").dataset.quorate === "true" &&
		document.querySelector("#quorum").textContent.includes("Present and counting: 4.")`)

	var att []agenda.Attendance
	c.clerkAPI.do("GET", c.path("/attendance"), nil, 200, &att)
	want := map[int64]agenda.AttendanceMode{c.chair: agenda.InRoom, inRoom: agenda.InRoom, sub: agenda.InRoom, remote: agenda.RemoteVoting}
	for _, a := range att {
		if w, ok := want[a.UserID]; ok && a.LeftAt == nil {
			if a.Mode != w {
				t.Errorf("%s: mode %s, want %s", c.names[a.UserID], a.Mode, w)
			}
			delete(want, a.UserID)
		}
	}
	if len(want) != 0 {
		t.Errorf("not recorded present: %v (attendance %+v)", want, att)
	}
	var apologies []agenda.Apology
	c.clerkAPI.do("GET", c.path("/apologies"), nil, 200, &apologies)
	if len(apologies) != 1 || apologies[0].UserID != apologetic || apologies[0].Reason != "Another council meeting" {
		t.Errorf("apologies: %+v", apologies)
	}
	var subs []agenda.Substitution
	c.clerkAPI.do("GET", c.path("/substitutions"), nil, 200, &subs)
	if len(subs) != 1 || subs[0].SubstituteID != sub || subs[0].MemberID != apologetic {
		t.Errorf("substitutions: %+v", subs)
	}

	// A declaration on the current item that takes a member out of the room for it.
	clerk.do("open the declaration form", chromedp.Click(chromedp.CSS("#declaration-details summary")))
	if got := eval[string](clerk, `document.querySelector("#declaration-item").value`); got != itoa(c.items[1].ID) {
		t.Errorf("the declaration's item is %q, want the current item %d", got, c.items[1].ID)
	}
	clerk.do("fill in the declaration",
		chromedp.SetValue(chromedp.CSS("#declaration-member"), itoa(inRoom)),
		chromedp.Click(chromedp.CSS(`#declaration-form input[name=kind][value=prejudicial]`)),
		chromedp.SendKeys(chromedp.CSS("#declaration-description"), "Owns the field next to the site."),
		chromedp.Click(chromedp.CSS("#declaration-withdraws")),
		chromedp.Click(chromedp.CSS("#declaration-form button[type=submit]")))
	clerk.waitJS("the declaration is listed on the item", `document.querySelector("#declarations-list").textContent.includes(
		"Cllr Nia Rees: prejudicial interest. Owns the field next to the site. Leaves the room for the item.")`)
	clerk.waitJS("the member no longer counts on this item", `document.querySelector("#quorum").textContent.includes(
		"Present and counting: 3 (and 1 barred from this item by an interest)")`)
	var decls []agenda.Declaration
	c.clerkAPI.do("GET", c.path("/declarations"), nil, 200, &decls)
	if len(decls) != 1 || decls[0].UserID != inRoom || decls[0].ItemID != c.items[1].ID || decls[0].Kind != agenda.Prejudicial || !decls[0].Withdraws {
		t.Errorf("declarations: %+v", decls)
	}
	clerk.screenshot("roll")

	// The councillor raises a hand; the clerk gives them the floor from the queue, by
	// keyboard.
	councillor.click("#hand-button")
	clerk.waitJS("the hand is in the queue", `!!document.querySelector('#hands `+person(remote)+`') &&
		!document.querySelector("#no-hands").checkVisibility()`)
	clerk.waitJS("the raised hand is announced", `document.querySelector("#room-announce").textContent.includes("Cllr Gwen Morgan raised a hand.")`)
	clerk.screenshot("hand")
	clerk.do("focus the hand's floor button", chromedp.Focus(chromedp.CSS(`#hands `+person(remote)+` button[data-action="grant"]`)))
	clerk.key(kb.Enter)
	councillor.waitJS("the councillor has the floor", `document.querySelector("#floor").textContent === "Cllr Gwen Morgan has the floor."`)
	clerk.waitJS("the console shows who has the floor", `document.querySelector("#floor-now").dataset.identity === "user-`+itoa(remote)+`" &&
		document.querySelectorAll("#hands li").length === 0`)
	clerk.waitJS("the floor is announced", `document.querySelector("#room-announce").textContent === "Cllr Gwen Morgan has the floor."`)
	if got := eval[bool](clerk, `document.activeElement !== document.body`); !got {
		t.Errorf("the focus was lost when the hand left the queue")
	}

	// The clerk mutes them, then takes the floor back.
	clerk.click(`#participants ` + person(remote) + ` button[data-action="mute"]`)
	councillor.waitJS("the councillor's microphone is muted", `document.querySelector("#mic-button").getAttribute("aria-pressed") === "true"`)
	clerk.waitJS("the console shows the microphone muted", `document.querySelector('#participants `+person(remote)+` .state').textContent.includes("microphone muted")`)
	clerk.screenshot("floor")
	clerk.click(`#participants ` + person(remote) + ` button[data-action="withdraw"]`)
	councillor.waitJS("the floor is taken back", `document.querySelector("#floor").textContent === ""`)
	clerk.waitJS("the console shows nobody has the floor", `document.querySelector("#floor-now").textContent === "Nobody has the floor."`)

	// A hand raised again is lowered by the clerk.
	councillor.click("#hand-button")
	clerk.waitJS("the hand is back in the queue", `!!document.querySelector('#hands `+person(remote)+`')`)
	clerk.click(`#hands ` + person(remote) + ` button[data-action="lower"]`)
	councillor.waitJS("the councillor's hand is down", `document.querySelector("#hand-button").getAttribute("aria-pressed") === "false"`)
	clerk.waitJS("the queue is empty", `document.querySelectorAll("#hands li").length === 0 && document.querySelector("#no-hands").checkVisibility()`)

	// A public speaker on the planning item: the console counts down their time.
	var sp agenda.Speaker
	c.clerkAPI.do("POST", c.path("/speakers"), map[string]any{"item_id": c.items[1].ID, "name": "Mair Pritchard", "capacity": "objector"}, 201, &sp)
	var pass struct {
		Pass string `json:"pass"`
	}
	c.clerkAPI.do("POST", c.path(fmt.Sprintf("/speakers/%d/pass", sp.ID)), nil, 201, &pass)
	var j joinAnswer
	c.clerkAPI.do("POST", "/api/v1/rtc/speaker-join", map[string]string{"pass": pass.Pass}, 200, &j)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	speaker, err := rtcclient.Connect(ctx, j.URL, nil, rtcclient.Options{Token: j.Token})
	if err != nil {
		t.Fatalf("the public speaker joins: %v", err)
	}
	t.Cleanup(func() { speaker.Close() })
	speakerLi := fmt.Sprintf(`#participants li[data-identity="speaker-%d"]`, sp.ID)
	clerk.waitJS("the public speaker is listed", `!!document.querySelector('`+speakerLi+`')`)
	eval[bool](clerk, `(() => { const i = document.querySelector("#timer-minutes"); i.value = "2";
		i.dispatchEvent(new Event("change")); return true; })()`)
	clerk.click(speakerLi + ` button[data-action="grant"]`)
	clerk.waitJS("the timer shows", `document.querySelector("#timer").checkVisibility() &&
		/^[0-2]:[0-5][0-9]$/.test(document.querySelector("#timer-clock").textContent)`)
	clerk.waitJS("the timer is announced", `document.querySelector("#timer-announce").textContent === "Mair Pritchard has the floor: 2 minutes."`)
	if got := clerk.text("#timer-who"); got != "Mair Pritchard (public speaker) has the floor: 2 minutes allowed." {
		t.Errorf("the timer says %q", got)
	}
	if got := eval[string](clerk, `document.querySelector("#timer-clock").getAttribute("role")`); got != "timer" {
		t.Errorf("the clock's role is %q, want timer (not read out each second)", got)
	}
	clerk.screenshot("speaker-timer")
	clerk.click("#withdraw-floor-button")
	clerk.waitJS("the timer stops", `!document.querySelector("#timer").checkVisibility() &&
		document.querySelector("#timer-done").textContent.startsWith("Mair Pritchard spoke for ")`)
}

// TestChairSitsAndRunsTheRoom: the chair sits in the meeting room on camera and opens
// the console in another tab of the same browser (signed in as the same person). Both
// stay in the room: the console gives the chair's raised hand the floor and takes it
// back while the room page goes on; nobody sees the console in the room, and opening
// it does not touch the roll.
func TestChairSitsAndRunsTheRoom(t *testing.T) {
	room := newBrowser(t, "chair")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan")
	seat := fmt.Sprintf(`li[data-identity="user-%d"]`, c.chair)

	roomPage := fmt.Sprintf("/meetings/%d/room", c.meeting)
	room.open(s.signInLink(c.chair, roomPage))
	room.waitJS("the room page loads signed in", `location.pathname === "`+roomPage+`" && !!document.querySelector("#room")`)
	room.waitJS("the preview shows the camera", `document.querySelector("#preview").videoWidth > 0`)
	room.click("#join-button")
	room.waitJS("the chair is in the room", `document.querySelector("#room-status").dataset.state === "connected" && !document.querySelector("#stage").hidden`)
	c.waitPresent(c.chair)
	var before []agenda.Attendance
	c.clerkAPI.do("GET", c.path("/attendance"), nil, 200, &before)

	console := room.tab("chair's console")
	console.open(fmt.Sprintf("%s/meetings/%d/console", s.url, c.meeting))
	console.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	console.waitJS("the console is in the meeting room", `document.querySelector("#room-status").dataset.state === "connected"`)
	console.waitJS("the console lists the chair's seat", `!!document.querySelector('#participants `+seat+`')`)
	if got := eval[string](console, `JSON.stringify(window.chamberConsole.panels.room.receiving)`); got != `{"audio":false,"video":false}` {
		t.Errorf("the console receives %s, want no media", got)
	}

	// The chair asks to speak from their seat; the console gives them the floor and
	// takes it back, while the room page stays in the room.
	room.click("#hand-button")
	console.waitJS("the chair's hand is in the queue", `!!document.querySelector('#hands `+seat+`')`)
	console.click(`#hands ` + seat + ` button[data-action="grant"]`)
	room.waitJS("the chair has the floor", `document.querySelector("#floor").textContent === "Cllr Dafydd Chair has the floor."`)
	console.click(`#participants ` + seat + ` button[data-action="withdraw"]`)
	room.waitJS("the floor is taken back", `document.querySelector("#floor").textContent === ""`)
	console.waitJS("the console shows nobody has the floor", `document.querySelector("#floor-now").textContent === "Nobody has the floor."`)

	for _, b := range []*browser{room, console} {
		if got := eval[string](b, `document.querySelector("#room-status").dataset.state`); got != "connected" {
			t.Errorf("%s: the room status is %q (%s), want connected", b.name, got, b.text("#room-status"))
		}
	}
	if got := eval[int](room, `window.chamberRoom.participants.size`); got != 1 {
		t.Errorf("the room page knows %d participants, want the chair alone (the console is not one)", got)
	}
	if got := eval[int](console, `document.querySelectorAll("#participants li[data-identity]").length`); got != 1 {
		t.Errorf("the console lists %d participants, want the chair's seat alone", got)
	}
	var after []agenda.Attendance
	c.clerkAPI.do("GET", c.path("/attendance"), nil, 200, &after)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("opening the console changed the roll:\nbefore %+v\nafter  %+v", before, after)
	}
}

// addSubstitute adds a councillor to the council and makes them a substitute on the
// committee.
func (c *council) addSubstitute(name string) int64 {
	t := c.s.t
	t.Helper()
	ctx := context.Background()
	p, err := c.s.svc.AddPerson(ctx, c.s.admin, c.id, agenda.PersonInput{Name: name, Email: "substitute@afon.example", Role: agenda.RoleCouncillor})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.svc.SetMember(ctx, c.s.admin, c.committee, p.UserID, agenda.Substitute); err != nil {
		t.Fatal(err)
	}
	c.names[p.UserID] = name
	return p.UserID
}
