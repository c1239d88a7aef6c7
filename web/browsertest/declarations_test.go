package browsertest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestDeclarationFormsFollowTheProfile checks that the councillor's room and the
// clerk's console offer the kinds of interest of the committee's code of conduct: a
// Welsh committee's personal and prejudicial interests, and England's three kinds once
// the committee follows England's code. A councillor declares a prejudicial interest
// from the room.
func TestDeclarationFormsFollowTheProfile(t *testing.T) {
	b := newBrowser(t, "councillor")
	s := startServer(t)
	c := s.newCouncil("Cllr Siân Evans")
	member := c.members[0]
	room := fmt.Sprintf("/meetings/%d/room", c.meeting)
	console := fmt.Sprintf("/meetings/%d/console", c.meeting)
	const (
		roomKinds    = `[...document.querySelectorAll("#declare-form input[name=kind]")].map(i => i.value + "=" + i.parentElement.textContent.trim()).join("|")`
		consoleKinds = `[...document.querySelectorAll("#declaration-form input[name=kind]")].map(i => i.value + "=" + i.parentElement.textContent.trim()).join("|")`
		welsh        = "personal=Personal interest|prejudicial=Prejudicial interest"
		english      = "pecuniary=Disclosable pecuniary interest|registrable=Other registrable interest|non_registrable=Non-registrable interest"
	)

	b.open(s.signInLink(member, room))
	b.waitJS("the room page loads signed in", `location.pathname === "`+room+`" && !!document.querySelector("#declare-form")`)
	if got := eval[string](b, roomKinds); got != welsh {
		t.Errorf("the room offers %q under the Welsh code, want %q", got, welsh)
	}

	// Declare a prejudicial interest in the planning item, leaving the room for it.
	b.do("open the declaration form", chromedp.Click(chromedp.CSS("#declare summary")))
	b.do("fill in the declaration",
		chromedp.SetValue(chromedp.CSS("#declare-item"), itoa(c.items[1].ID)),
		chromedp.Click(chromedp.CSS(`#declare-form input[name=kind][value=prejudicial]`)),
		chromedp.SendKeys(chromedp.CSS("#declare-description"), "My brother owns the land next to the site."),
		chromedp.Click(chromedp.CSS("#declare-withdraws")),
		chromedp.Click(chromedp.CSS("#declare-form button[type=submit]")))
	b.waitJS("the declaration is recorded", `document.querySelector("#declare-result").textContent.includes("recorded")`)
	var decls []struct {
		UserID    int64  `json:"user_id"`
		ItemID    int64  `json:"item_id"`
		Kind      string `json:"kind"`
		Withdraws bool   `json:"withdraws"`
	}
	c.clerkAPI.do("GET", c.path("/declarations"), nil, 200, &decls)
	if len(decls) != 1 || decls[0].UserID != member || decls[0].ItemID != c.items[1].ID || decls[0].Kind != "prejudicial" || !decls[0].Withdraws {
		t.Errorf("declarations: got %+v", decls)
	}

	c.chairAPI.do("POST", c.path("/next"), nil, 200, nil) // on to the planning item

	clerk := b.profile("clerk")
	clerk.open(s.signInLink(c.clerk, console))
	clerk.waitJS("the console loads signed in", `location.pathname === "`+console+`" && !!document.querySelector("#declaration-form")`)
	if got := eval[string](clerk, consoleKinds); got != welsh {
		t.Errorf("the console offers %q under the Welsh code, want %q", got, welsh)
	}
	clerk.waitJS("the declaration is listed on the current item", `document.querySelector("#declarations-list").textContent.includes(
		"Cllr Siân Evans: prejudicial interest. My brother owns the land next to the site. Leaves the room for the item.")`)

	// The committee now follows England's code: both forms offer its kinds.
	c.clerkAPI.do("PATCH", fmt.Sprintf("/api/v1/committees/%d", c.committee),
		map[string]any{"overrides": map[string]any{"conduct_code": "england"}}, 200, nil)
	b.open(s.url + room)
	b.waitJS("the room page loads again", `!!document.querySelector("#declare-form")`)
	if got := eval[string](b, roomKinds); got != english {
		t.Errorf("the room offers %q under England's code, want %q", got, english)
	}
	clerk.open(s.url + console)
	clerk.waitJS("the console loads again", `!!document.querySelector("#declaration-form")`)
	if got := eval[string](clerk, consoleKinds); got != english {
		t.Errorf("the console offers %q under England's code, want %q", got, english)
	}
}
