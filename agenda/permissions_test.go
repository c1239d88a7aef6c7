package agenda_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chamber/chamber/agenda"
)

// TestPermissions tries each action as each kind of actor: who may, who is told to sign
// in (the public) and who is told no (signed-in users without the role).
func testPermissions(t *testing.T, w *world) {
	actors := []struct {
		name string
		a    agenda.Actor
	}{
		{"admin", w.admin}, {"clerk", w.clerk}, {"other council's clerk", w.otherClerk}, {"chair", w.chair},
		{"member", w.member}, {"officer", w.officer}, {"public", public},
	}
	// Each action gets a fresh meeting of the committee, published and (if started)
	// in progress on its first item, and says whether it succeeded.
	type fixture struct {
		m     agenda.Meeting
		items []agenda.Item
		n     int // a number unique to this attempt, for names that must not collide
	}
	actions := []struct {
		name    string
		started bool
		may     []string // the actors allowed; every other signed-in actor is forbidden
		do      func(a agenda.Actor, f fixture) error
	}{
		{"create a council", false, []string{"admin"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.CreateCouncil(w.ctx, a, agenda.CouncilInput{Name: fmt.Sprintf("Parish %d", f.n)})
			return err
		}},
		{"add a person", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.AddPerson(w.ctx, a, w.council.ID, agenda.PersonInput{Name: "New", Email: fmt.Sprintf("new%d@example.org", f.n), Role: agenda.RoleOfficer})
			return err
		}},
		{"create a committee", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.CreateCommittee(w.ctx, a, w.council.ID, agenda.CommitteeInput{Name: fmt.Sprintf("Licensing %d", f.n)})
			return err
		}},
		{"change a committee", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.UpdateCommittee(w.ctx, a, w.committee.ID, agenda.CommitteePatch{Name: ptr("Planning Committee")})
			return err
		}},
		{"seat a member", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.SetMember(w.ctx, a, w.committee.ID, w.member3.UserID, agenda.Member)
			return err
		}},
		{"make a sign-in link", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.NewSignInLink(w.ctx, a, w.member.UserID, "/", false)
			return err
		}},
		{"schedule a meeting", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.CreateMeeting(w.ctx, a, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Extra", StartsAt: start})
			return err
		}},
		{"change a meeting", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.UpdateMeeting(w.ctx, a, f.m.ID, agenda.MeetingPatch{Location: ptr("Room 2")})
			return err
		}},
		{"add an item", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.AddItem(w.ctx, a, f.m.ID, agenda.ItemInput{Title: "Late item"})
			return err
		}},
		{"import an agenda", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.ImportAgenda(w.ctx, a, f.m.ID, agenda.AgendaFile{Items: []agenda.ItemInput{{Title: "Imported"}}}, false)
			return err
		}},
		{"register a speaker", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.RegisterSpeaker(w.ctx, a, f.m.ID, agenda.SpeakerInput{ItemID: f.items[1].ID, Name: "Pat Public", Capacity: agenda.Objector})
			return err
		}},
		{"start the meeting", false, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.StartMeeting(w.ctx, a, f.m.ID)
			return err
		}},
		{"move to the next item", true, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.NextItem(w.ctx, a, f.m.ID)
			return err
		}},
		{"go into private session", true, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.SetSession(w.ctx, a, f.m.ID, true, 3, "")
			return err
		}},
		{"adjourn", true, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.AdjournMeeting(w.ctx, a, f.m.ID)
			return err
		}},
		{"close", true, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.CloseMeeting(w.ctx, a, f.m.ID)
			return err
		}},
		{"record an arrival", true, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.RecordArrival(w.ctx, a, f.m.ID, agenda.AttendanceInput{UserID: w.member2.UserID, Mode: agenda.InRoom})
			return err
		}},
		{"record the member's apology", false, []string{"admin", "clerk", "member"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.RecordApology(w.ctx, a, f.m.ID, w.member.UserID, "")
			return err
		}},
		{"record another member's apology", false, []string{"admin", "clerk"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.RecordApology(w.ctx, a, f.m.ID, w.member2.UserID, "")
			return err
		}},
		{"declare the member's interest", true, []string{"admin", "clerk", "member"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.Declare(w.ctx, a, f.m.ID, agenda.DeclarationInput{UserID: w.member.UserID, Kind: agenda.NonRegistrable, Description: "knows the applicant"})
			return err
		}},
		{"propose a motion in the member's name", true, []string{"admin", "clerk", "chair", "member"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.ProposeMotion(w.ctx, a, f.m.ID, agenda.MotionInput{ItemID: f.items[0].ID, Text: "Noted", ProposerID: w.member.UserID})
			return err
		}},
		{"propose a motion in another's name", true, []string{"admin", "clerk", "chair"}, func(a agenda.Actor, f fixture) error {
			_, err := w.svc.ProposeMotion(w.ctx, a, f.m.ID, agenda.MotionInput{ItemID: f.items[0].ID, Text: "Noted", ProposerID: w.member2.UserID})
			return err
		}},
	}
	newFixture := func(started bool) fixture {
		m, items := w.quickMeeting(true, standardAgenda()...)
		if started {
			_, err := w.svc.StartMeeting(w.ctx, w.clerk, m.ID)
			w.must(err)
			m = w.get(m.ID)
			w.pub.take()
		}
		return fixture{m: m, items: items}
	}
	// Refusals change nothing, so they share a meeting; each success gets its own.
	shared := map[bool]fixture{false: newFixture(false), true: newFixture(true)}
	n := 0
	for _, act := range actions {
		for _, who := range actors {
			t.Run(act.name+"/"+who.name, func(t *testing.T) {
				n++
				var want error
				switch {
				case contains(act.may, who.name):
				case who.name == "public":
					want = agenda.ErrUnauthenticated
				default:
					want = agenda.ErrForbidden
				}
				f := shared[act.started]
				if want == nil {
					f = newFixture(act.started)
				}
				f.n = n
				m := w.get(f.m.ID)
				err := act.do(who.a, f)
				if !is(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
				if want != nil {
					w.checkPublished(t, m.ID, m.LastSeq) // a refusal journals nothing
					if len(w.pub.take()) != 0 {
						t.Error("a refused action published events")
					}
				}
				w.pub.take()
			})
		}
	}
}

// TestUnpublishedMeetingsAreNotFound checks that those who may not see an unpublished
// meeting are told it does not exist, whatever they try, while those who may see it
// but not act are told no.
func testUnpublishedMeetingsAreNotFound(t *testing.T, w *world) {
	m, _ := w.meeting(false, standardAgenda()...)
	tries := map[string]func(a agenda.Actor) error{
		"get": func(a agenda.Actor) error { _, err := w.svc.GetMeeting(w.ctx, a, m.ID); return err },
		"items": func(a agenda.Actor) error {
			_, err := w.svc.ListItems(w.ctx, a, m.ID)
			return err
		},
		"events": func(a agenda.Actor) error { _, err := w.svc.Events(w.ctx, a, m.ID, 0, 0); return err },
		"start":  func(a agenda.Actor) error { _, err := w.svc.StartMeeting(w.ctx, a, m.ID); return err },
		"update": func(a agenda.Actor) error {
			_, err := w.svc.UpdateMeeting(w.ctx, a, m.ID, agenda.MeetingPatch{Location: ptr("x")})
			return err
		},
	}
	for name, try := range tries {
		for _, c := range []struct {
			who  string
			a    agenda.Actor
			want error
		}{
			{"public", public, agenda.ErrNotFound},
			{"other council's clerk", w.otherClerk, agenda.ErrNotFound},
		} {
			t.Run(name+"/"+c.who, func(t *testing.T) {
				if err := try(c.a); !is(err, c.want) {
					t.Errorf("got %v, want %v", err, c.want)
				}
			})
		}
	}
	// A member sees the draft but may not start it.
	if _, err := w.svc.GetMeeting(w.ctx, w.member, m.ID); err != nil {
		t.Errorf("member reading their committee's draft: %v", err)
	}
	if _, err := w.svc.StartMeeting(w.ctx, w.member, m.ID); !is(err, agenda.ErrForbidden) {
		t.Errorf("member starting the draft: got %v, want forbidden", err)
	}
	w.checkPublished(t, m.ID, m.LastSeq)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
