package browsertest

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/voting"
)

// TestClerkRunsMeeting drives the console: the clerk moves through the agenda, opens a
// vote, watches who has not voted while a member votes from another device, closes it,
// and excludes and readmits the public.
func TestClerkRunsMeeting(t *testing.T) {
	b := newBrowser(t, "clerk")
	s := startServer(t)
	c := s.newCouncil("Cllr Gwen Morgan", "Cllr Ifan Jones")
	member := c.members[0]
	for _, u := range []int64{c.chair, member, c.members[1]} {
		c.clerkAPI.do("POST", c.path("/attendance"), map[string]any{"user_id": u, "mode": "in_room"}, 201, nil)
	}
	memberAPI := s.apiFor(member)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var key voting.Key
	memberAPI.do("POST", "/api/v1/me/keys", map[string]string{"public_key": voting.EncodePublicKey(pub), "label": "tablet"}, 201, &key)
	c.approveKey(string(key.ID))

	b.open(s.signInLink(c.clerk, fmt.Sprintf("/meetings/%d/console", c.meeting)))
	b.waitJS("the console is ready", `document.querySelector("#console-status").textContent === "Ready."`)
	b.click("#next-button")
	b.waitJS("the planning item is current", `document.querySelector("#now").textContent.includes("Land at Heol Las")`)
	var m struct {
		CurrentItemID int64  `json:"current_item_id"`
		Session       string `json:"session"`
	}
	c.clerkAPI.do("GET", c.path(""), nil, 200, &m)
	if m.CurrentItemID != c.items[1].ID {
		t.Fatalf("current item %d, want %d", m.CurrentItemID, c.items[1].ID)
	}

	b.click("#previous-button")
	b.waitJS("the first item is current again", `document.querySelector("#now").textContent.includes("Apologies")`)
	b.click("#next-button")
	b.waitJS("the planning item is current again", `document.querySelector("#now").textContent.includes("Land at Heol Las")`)

	b.do("type the question", chromedpSendKeys("#poll-question-input", "That planning permission be granted."))
	b.click("#open-poll-button")
	b.waitJS("the vote is open", `!document.querySelector("#console-poll").hidden`)
	b.waitJS("nobody has voted", `document.querySelector("#console-progress").textContent.startsWith("0 of 3")`)
	b.do("show who has not voted", chromedpClick("#waiting-details summary"))
	if got := b.text("#waiting"); !strings.Contains(got, "Gwen Morgan") || !strings.Contains(got, "Dafydd Chair") {
		t.Errorf("waiting: %q", got)
	}

	var polls []voting.PollView
	c.clerkAPI.do("GET", c.path("/polls"), nil, 200, &polls)
	if len(polls) != 1 {
		t.Fatalf("polls: %d, want 1", len(polls))
	}
	p := polls[0]
	ballot := voting.Ballot{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Voter: member, Choice: "for", CastAt: time.Now(), Challenge: p.Challenge}
	rand.Read(ballot.Nonce[:])
	sb, err := voting.SignBallot(ballot, priv)
	if err != nil {
		t.Fatal(err)
	}
	memberAPI.do("POST", c.path(fmt.Sprintf("/polls/%d/ballots", p.ID)), sb, 201, nil)
	b.waitJS("the member's vote is counted", `document.querySelector("#console-progress").textContent.startsWith("1 of 3")`)
	if got := b.text("#waiting"); strings.Contains(got, "Gwen Morgan") || !strings.Contains(got, "Dafydd Chair") {
		t.Errorf("waiting after the member voted: %q", got)
	}
	b.screenshot("vote-open")
	b.click("#close-poll-button")
	b.waitJS("the result shows", `document.querySelector("#console-results").textContent.includes("Carried")`)

	b.click("#session-button")
	b.waitJS("the session is private", `document.querySelector("#meeting-session").textContent.startsWith("private")`)
	c.clerkAPI.do("GET", c.path(""), nil, 200, &m)
	if m.Session != "private" {
		t.Errorf("session %q after excluding the public", m.Session)
	}
	b.screenshot("private")
	b.click("#session-button")
	b.waitJS("the session is public", `document.querySelector("#meeting-session").textContent === "public"`)

	// The exempt item takes the meeting into private session by itself.
	b.click("#next-button")
	b.waitJS("the exempt item is current", `document.querySelector("#now").textContent.includes("Sale of the old depot")`)
	b.waitJS("the session is private again", `document.querySelector("#meeting-session").textContent.startsWith("private")`)
}
