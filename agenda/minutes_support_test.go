package agenda_test

import (
	"errors"
	"testing"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

func TestMeetingRecords(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db, "england")
		ctx := w.ctx
		m, items := w.meeting(true, standardAgenda()...)
		_, err := w.svc.RegisterSpeaker(ctx, w.clerk, m.ID, agenda.SpeakerInput{ItemID: items[1].ID, Name: "Pat Objector",
			Capacity: agenda.Objector, Email: "pat@example.org"})
		w.must(err)
		_, err = w.svc.StartMeeting(ctx, w.clerk, m.ID)
		w.must(err)
		for _, id := range []int64{w.chair.UserID, w.member.UserID, w.officer.UserID, w.otherClerk.UserID} {
			_, err := w.svc.RecordArrival(ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: id, Mode: agenda.InRoom})
			w.must(err)
		}
		_, err = w.svc.Declare(ctx, w.clerk, m.ID, agenda.DeclarationInput{UserID: w.member.UserID, ItemID: items[1].ID,
			Kind: agenda.Pecuniary, Description: "Owns the site", Withdraws: true})
		w.must(err)
		_, err = w.svc.NextItem(ctx, w.clerk, m.ID)
		w.must(err)
		notes := "Minute of the item."
		_, err = w.svc.UpdateItem(ctx, w.clerk, m.ID, items[0].ID, agenda.ItemPatch{Notes: &notes})
		w.must(err)
		_, err = w.svc.ProposeMotion(ctx, w.clerk, m.ID, agenda.MotionInput{ItemID: items[0].ID, Text: "That the apologies be noted.",
			ProposerID: w.chair.UserID, SeconderID: w.member.UserID})
		w.must(err)
		_, err = w.svc.CloseMeeting(ctx, w.clerk, m.ID)
		w.must(err)

		for _, reader := range []struct {
			name  string
			actor agenda.Actor
		}{{"clerk", w.clerk}, {"officer", w.officer}, {"member", w.member2}} {
			r, err := w.svc.MeetingRecords(ctx, reader.actor, m.ID)
			if err != nil {
				t.Fatalf("records read by the %s: %v", reader.name, err)
			}
			if r.Meeting.ID != m.ID || r.Council.ID != w.council.ID || r.Committee.ID != w.committee.ID || len(r.Members) != 5 ||
				len(r.Items) != 4 || len(r.Declarations) != 1 || len(r.Motions) != 1 || len(r.Speakers) != 1 || len(r.Attendance) != 4 {
				t.Errorf("%s: records %+v", reader.name, r)
			}
			if r.Items[0].Notes != notes {
				t.Errorf("%s: the clerk's notes are missing", reader.name)
			}
			if r.Speakers[0].Email != "" {
				t.Errorf("%s: a speaker's email address is in the records", reader.name)
			}
			named := false
			for _, p := range r.People {
				if p.Email != "" {
					t.Errorf("%s: %s's email address is in the records", reader.name, p.Name)
				}
				named = named || (p.UserID == w.otherClerk.UserID && p.Name == "Olga Otherclerk")
			}
			if !named {
				t.Errorf("%s: someone who attended from another council is not named", reader.name)
			}
			private := false
			for i, e := range r.Events {
				if e.Seq != int64(i+1) {
					t.Fatalf("%s: event %d has seq %d", reader.name, i, e.Seq)
				}
				private = private || e.Private
			}
			if !private || r.Events[len(r.Events)-1].Type != agenda.EvMeetingClosed {
				t.Errorf("%s: the journal is not whole", reader.name)
			}
		}
		for _, tc := range []struct {
			name  string
			actor agenda.Actor
			want  error
		}{{"public", public, agenda.ErrUnauthenticated}, {"another council's clerk", w.otherClerk, agenda.ErrForbidden}} {
			if _, err := w.svc.MeetingRecords(ctx, tc.actor, m.ID); !errors.Is(err, tc.want) {
				t.Errorf("records read by the %s: %v, want %v", tc.name, err, tc.want)
			}
		}
		draft, _ := w.meeting(false)
		if _, err := w.svc.MeetingRecords(ctx, public, draft.ID); !errors.Is(err, agenda.ErrNotFound) {
			t.Errorf("records of an unpublished meeting read by the public: %v, want ErrNotFound", err)
		}
	})
}
