package agenda_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

// TestVisibility checks what each reader sees of meetings, agendas, records and the
// journal: the public sees published meetings only, never exempt business, the clerk's
// notes or private events; members and officers of the committee's council see it all.
func testVisibility(t *testing.T, w *world) {
	published, items := w.meeting(true, standardAgenda()...)
	draft, _ := w.meeting(false, agenda.ItemInput{Title: "Draft business"})
	exempt, planning := items[2], items[1]
	const notes, secret = "Chair to be firm on timing", "Named posts"
	_, err := w.svc.UpdateItem(w.ctx, w.clerk, published.ID, planning.ID, agenda.ItemPatch{Notes: ptr(notes)})
	w.must(err)
	_, err = w.svc.StartMeeting(w.ctx, w.clerk, published.ID)
	w.must(err)
	_, err = w.svc.Declare(w.ctx, w.member, published.ID, agenda.DeclarationInput{UserID: w.member.UserID, ItemID: exempt.ID,
		Kind: agenda.Pecuniary, Description: "employed in the service", Withdraws: true})
	w.must(err)
	_, err = w.svc.Declare(w.ctx, w.member2, published.ID, agenda.DeclarationInput{UserID: w.member2.UserID, ItemID: planning.ID,
		Kind: agenda.NonRegistrable, Description: "neighbour of the site"})
	w.must(err)
	_, err = w.svc.ProposeMotion(w.ctx, w.chair, published.ID, agenda.MotionInput{ItemID: exempt.ID, Text: "Approve the restructure",
		ProposerID: w.chair.UserID, SeconderID: w.member3.UserID})
	w.must(err)
	_, err = w.svc.ProposeMotion(w.ctx, w.chair, published.ID, agenda.MotionInput{ItemID: planning.ID, Text: "Grant permission",
		ProposerID: w.member3.UserID})
	w.must(err)
	_, err = w.svc.RegisterSpeaker(w.ctx, w.clerk, published.ID, agenda.SpeakerInput{ItemID: planning.ID, Name: "Olive Objector",
		Capacity: agenda.Objector, Email: "olive@example.org"})
	w.must(err)
	_, err = w.svc.SetCurrentItem(w.ctx, w.clerk, published.ID, exempt.ID)
	w.must(err)
	w.pub.take()

	readers := []struct {
		name    string
		a       agenda.Actor
		private bool // sees the draft, exempt detail, notes and private events
	}{
		{"public", public, false},
		{"other council's clerk", w.otherClerk, false},
		{"member", w.member, true},
		{"substitute", w.substitute, true},
		{"officer", w.officer, true},
		{"clerk", w.clerk, true},
		{"admin", w.admin, true},
	}
	for _, r := range readers {
		t.Run(r.name, func(t *testing.T) {
			page, err := w.svc.ListMeetings(w.ctx, r.a, agenda.MeetingQuery{CommitteeID: w.committee.ID})
			w.must(err)
			var ids []int64
			for _, m := range page.Items {
				ids = append(ids, m.ID)
			}
			wantIDs := []int64{published.ID}
			if r.private {
				wantIDs = append(wantIDs, draft.ID)
			}
			same(t, "meetings listed", ids, wantIDs)
			_, err = w.svc.GetMeeting(w.ctx, r.a, draft.ID)
			if got, want := err == nil, r.private; got != want {
				t.Errorf("reads the draft: got %v (%v), want %v", got, err, want)
			}

			its, err := w.svc.ListItems(w.ctx, r.a, published.ID)
			w.must(err)
			for _, it := range its {
				one, err := w.svc.GetItem(w.ctx, r.a, published.ID, it.ID)
				w.must(err)
				same(t, "GetItem and ListItems", one, it)
				switch {
				case r.private && it.ID == planning.ID && it.Notes != notes:
					t.Errorf("notes: got %q, want %q", it.Notes, notes)
				case !r.private && it.Notes != "":
					t.Errorf("item %s: the clerk's notes are visible: %q", it.Number, it.Notes)
				}
				if it.ID != exempt.ID {
					continue
				}
				if it.Title != "Staffing restructure" || it.Number != "3" {
					t.Errorf("exempt item's number and title: got %q %q", it.Number, it.Title)
				}
				hidden := it.Description == "" && len(it.Papers) == 0 && it.Redacted
				if hidden == r.private {
					t.Errorf("exempt item: got description %q, papers %v, redacted %v; want detail shown: %v",
						it.Description, it.Papers, it.Redacted, r.private)
				}
			}

			decl, err := w.svc.ListDeclarations(w.ctx, r.a, published.ID)
			w.must(err)
			for _, d := range decl {
				if d.ItemID == exempt.ID && (d.Description == "(exempt item)") == r.private {
					t.Errorf("declaration on the exempt item: got %q", d.Description)
				}
				if d.ItemID == planning.ID && d.Description != "neighbour of the site" {
					t.Errorf("declaration on a public item: got %q", d.Description)
				}
			}
			if len(decl) != 2 {
				t.Errorf("declarations: got %d, want 2", len(decl))
			}

			motions, err := w.svc.ListMotions(w.ctx, r.a, published.ID)
			w.must(err)
			wantMotions := 1
			if r.private {
				wantMotions = 2
			}
			if len(motions) != wantMotions {
				t.Errorf("motions: got %d, want %d", len(motions), wantMotions)
			}

			speakers, err := w.svc.ListSpeakers(w.ctx, r.a, published.ID)
			w.must(err)
			isClerk := r.name == "clerk" || r.name == "admin"
			if len(speakers) != 1 || (speakers[0].Email != "") != isClerk {
				t.Errorf("speakers: got %+v; want one, with an email only for the clerk", speakers)
			}

			evs, err := w.svc.Events(w.ctx, r.a, published.ID, 0, 0)
			w.must(err)
			all := w.journal(published.ID)
			var privates int
			for _, e := range all {
				if e.Private {
					privates++
				}
			}
			if privates == 0 {
				t.Fatal("the journal has no private events to hide")
			}
			wantN := len(all)
			if !r.private {
				wantN -= privates
			}
			if len(evs) != wantN {
				t.Errorf("events: got %d, want %d", len(evs), wantN)
			}
			for _, e := range evs {
				if e.Private && !r.private {
					t.Errorf("private event %s (seq %d) shown", e.Type, e.Seq)
				}
				if !r.private && strings.Contains(string(e.Data), secret) {
					t.Errorf("event %s (seq %d) carries exempt detail: %s", e.Type, e.Seq, e.Data)
				}
			}
			after, err := w.svc.Events(w.ctx, r.a, published.ID, all[len(all)-2].Seq, 0)
			w.must(err)
			if len(after) > 1 || (len(after) == 1 && after[0].Seq != all[len(all)-1].Seq) {
				t.Errorf("events after the last but one: got %v", types(after))
			}
		})
	}

	t.Run("public events never carry the clerk's notes", func(t *testing.T) {
		evs, err := w.svc.Events(w.ctx, public, published.ID, 0, 0)
		w.must(err)
		for _, e := range evs {
			if strings.Contains(string(e.Data), notes) {
				t.Errorf("public %s event #%d carries the clerk's notes", e.Type, e.Seq)
			}
		}
	})

	t.Run("people", func(t *testing.T) {
		for _, r := range []struct {
			name  string
			a     agenda.Actor
			staff bool
		}{{"public", public, false}, {"other council's clerk", w.otherClerk, false}, {"officer", w.officer, true}, {"member", w.member, true}} {
			people, err := w.svc.ListPeople(w.ctx, r.a, w.council.ID)
			w.must(err)
			for _, p := range people {
				if !r.staff && (p.Role != agenda.RoleCouncillor || p.Email != "") {
					t.Errorf("%s sees %s (%s) with email %q", r.name, p.Name, p.Role, p.Email)
				}
			}
			if r.staff && len(people) != 7 {
				t.Errorf("%s sees %d people, want 7", r.name, len(people))
			}
		}
	})
}

// TestListMeetingsPages pages through meetings with the cursor the service gives.
func testListMeetingsPages(t *testing.T, w *world) {
	var want []int64
	for i := range 5 {
		m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "M",
			StartsAt: start.Add(time.Duration(5-i) * time.Hour), Published: i != 2})
		w.must(err)
		want = append([]int64{m.ID}, want...)
	}
	for _, r := range []struct {
		name string
		a    agenda.Actor
		want []int64
	}{
		{"public", public, []int64{want[0], want[1], want[3], want[4]}},
		{"member", w.member, want},
	} {
		t.Run(r.name, func(t *testing.T) {
			var got []int64
			q := agenda.MeetingQuery{CommitteeID: w.committee.ID, Limit: 2}
			for range 10 {
				page, err := w.svc.ListMeetings(w.ctx, r.a, q)
				w.must(err)
				for _, m := range page.Items {
					got = append(got, m.ID)
				}
				if page.Next == "" {
					break
				}
				q.Cursor = page.Next
			}
			same(t, "meetings", got, r.want)
		})
	}
	for _, q := range []agenda.MeetingQuery{{Limit: -1}, {Limit: agenda.MaxPageSize + 1}, {Cursor: "not a cursor"}, {Status: "done"}} {
		if _, err := w.svc.ListMeetings(w.ctx, public, q); !is(err, agenda.ErrInvalid) {
			t.Errorf("query %+v: got %v, want invalid", q, err)
		}
	}
	page, err := w.svc.ListMeetings(w.ctx, public, agenda.MeetingQuery{CouncilID: w.otherCouncil.ID})
	w.must(err)
	if page.Items == nil || len(page.Items) != 0 || page.Next != "" {
		t.Errorf("empty page: got %+v, want no items and no next", page)
	}
	b, _ := json.Marshal(page)
	if string(b) != `{"items":[]}` {
		t.Errorf("empty page as JSON: got %s", b)
	}
}
