package minutes_test

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

func ptr[T any](v T) *T { return &v }

// is reports whether err matches want; a nil want means success.
func is(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

// TestWorkflow takes minutes from draft to a published correction on both databases,
// with every refusal on the way.
func TestWorkflow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		mt := w.holdMeeting()
		planning, exempt := mt.items[3], mt.items[5]
		w.pub.take()

		t.Run("NothingBeforeTheDraft", func(t *testing.T) {
			if _, err := w.svc.Get(ctx, w.clerk, mt.ID); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("minutes before the draft: %v, want ErrNotFound", err)
			}
			open := w.nextMeeting()
			if _, err := w.svc.Draft(ctx, w.clerk, open.ID); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("draft of a meeting in progress: %v, want ErrConflict", err)
			}
		})

		t.Run("DraftIsTheClerks", func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				actor agenda.Actor
				want  error
			}{
				{"public", agenda.Anyone, minutes.ErrUnauthenticated},
				{"chair", w.chair, minutes.ErrForbidden},
				{"officer", w.officer, minutes.ErrForbidden},
			} {
				if _, err := w.svc.Draft(ctx, tc.actor, mt.ID); !is(err, tc.want) {
					t.Errorf("draft by the %s: %v, want %v", tc.name, err, tc.want)
				}
			}
		})

		w.clock.Set(time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC))
		d, err := w.svc.Draft(ctx, w.clerk, mt.ID)
		w.must(err)
		if d.Version != 1 || d.Status != minutes.Draft || d.Drafted.By.ID != w.clerk.UserID || !d.Drafted.At.Equal(w.clock.Now()) {
			t.Errorf("draft: version %d, %s, drafted %+v", d.Version, d.Status, d.Drafted)
		}
		if got := types(w.pub.take()); !slices.Equal(got, []string{minutes.EvMinutesDrafted}) {
			t.Errorf("published %v after the draft, want minutes.drafted", got)
		}

		t.Run("DraftReadsTheMeeting", func(t *testing.T) {
			it := d.Item(planning.ID)
			if it == nil || !strings.Contains(it.Notes, "Mrs Parry spoke in objection") || len(it.Motions) != 2 || len(it.Speakers) != 2 {
				t.Fatalf("planning item drafted as %+v", it)
			}
			if v := it.Motions[0].Votes; len(v) != 1 || !v[0].Recorded || v[0].Count("for") != 5 || v[0].Absent != 1 {
				t.Errorf("the recorded vote drafted as %+v", v)
			}
			refs := d.Votes()
			if len(refs) != 4 {
				t.Fatalf("%d votes, want 4", len(refs))
			}
			if c := refs[2].Vote.Casting; c == nil || c.ID != w.chair.UserID || c.Choice != "for" {
				t.Errorf("casting vote %+v, want the chair's, for", c)
			}
			if got := d.Meeting.Chair; got == nil || got.ID != w.chair.UserID {
				t.Errorf("in the chair: %+v", got)
			}
			if d.Log == nil || d.Log.Size == 0 {
				t.Errorf("no log checkpoint")
			}
			if x := d.Item(exempt.ID).Exclusion; x == nil || x.Paragraph != 16 || x.Readmitted == nil {
				t.Errorf("exclusion of the public %+v", x)
			}
		})

		t.Run("ReadingTheDraft", func(t *testing.T) {
			if _, err := w.svc.Get(ctx, agenda.Anyone, mt.ID); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("the public reads the draft: %v, want ErrNotFound", err)
			}
			m, err := w.svc.Get(ctx, w.huw, mt.ID)
			w.must(err)
			if m.View != minutes.FullView || !strings.Contains(m.Item(exempt.ID).Notes, secret) {
				t.Errorf("a member reads the %s view, want the full one", m.View)
			}
		})

		t.Run("Edit", func(t *testing.T) {
			w.clock.Set(time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC))
			for _, tc := range []struct {
				name  string
				actor agenda.Actor
				edits []minutes.ItemEdit
				want  error
			}{
				{"by the chair", w.chair, []minutes.ItemEdit{{ItemID: planning.ID, Notes: ptr("x")}}, minutes.ErrForbidden},
				{"of no item", w.clerk, []minutes.ItemEdit{{ItemID: 999999, Notes: ptr("x")}}, minutes.ErrInvalid},
				{"of nothing", w.clerk, []minutes.ItemEdit{{ItemID: planning.ID}}, minutes.ErrInvalid},
				{"none", w.clerk, nil, minutes.ErrInvalid},
				{"too long", w.clerk, []minutes.ItemEdit{{ItemID: planning.ID, Notes: ptr(strings.Repeat("x", minutes.MaxText+1))}}, minutes.ErrInvalid},
			} {
				if _, err := w.svc.Edit(ctx, tc.actor, mt.ID, tc.edits...); !is(err, tc.want) {
					t.Errorf("edit %s: %v, want %v", tc.name, err, tc.want)
				}
			}
			m, err := w.svc.Edit(ctx, w.clerk, mt.ID, minutes.ItemEdit{ItemID: planning.ID, Notes: ptr("Edited minute of the application.")},
				minutes.ItemEdit{ItemID: exempt.ID, Decision: ptr("RESOLVED as set out in the exempt minute.")})
			w.must(err)
			if it := m.Item(planning.ID); it.Notes != "Edited minute of the application." || !it.NotesEdited || it.DecisionEdited {
				t.Errorf("edited item: notes %q, edited %v %v", it.Notes, it.NotesEdited, it.DecisionEdited)
			}
			if m.Edited == nil || m.Edited.By.ID != w.clerk.UserID || !m.Edited.At.Equal(w.clock.Now()) {
				t.Errorf("edited stamp %+v", m.Edited)
			}
			if got := types(w.pub.take()); !slices.Equal(got, []string{minutes.EvMinutesEdited}) {
				t.Errorf("published %v after the edit, want minutes.edited", got)
			}
			// The stored minutes are what Edit returned.
			got, err := w.svc.Get(ctx, w.clerk, mt.ID)
			w.must(err)
			if got.Item(planning.ID).Notes != "Edited minute of the application." || got.Item(exempt.ID).Decision != "RESOLVED as set out in the exempt minute." {
				t.Errorf("the edit was not stored")
			}
		})

		t.Run("RedraftKeepsEdits", func(t *testing.T) {
			w.clock.Set(time.Date(2026, 5, 8, 9, 0, 0, 0, time.UTC))
			m, err := w.svc.Draft(ctx, w.clerk, mt.ID)
			w.must(err)
			if m.Version != 1 || m.Status != minutes.Draft || !m.Drafted.At.Equal(w.clock.Now()) {
				t.Errorf("redraft: version %d, %s, drafted %v", m.Version, m.Status, m.Drafted.At)
			}
			if it := m.Item(planning.ID); it.Notes != "Edited minute of the application." || !strings.HasPrefix(it.Decision, "RESOLVED that planning permission") {
				t.Errorf("redraft lost the edit or the recorded decision: %q / %q", it.Notes, it.Decision)
			}
			if it := m.Item(exempt.ID); it.Decision != "RESOLVED as set out in the exempt minute." || !strings.Contains(it.Notes, secret) {
				t.Errorf("redraft of the exempt item: %q / %q", it.Notes, it.Decision)
			}
			w.pub.take()
		})

		next := w.nextMeeting()
		later, err := w.agenda.CreateMeeting(ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning Committee",
			StartsAt: time.Date(2026, 7, 1, 17, 30, 0, 0, time.UTC)})
		w.must(err)

		t.Run("Approve", func(t *testing.T) {
			w.clock.Set(time.Date(2026, 6, 3, 17, 40, 0, 0, time.UTC))
			for _, tc := range []struct {
				name    string
				actor   agenda.Actor
				meeting int64
				want    error
			}{
				{"by the clerk", w.clerk, next.ID, minutes.ErrForbidden},
				{"by a member", w.huw, next.ID, minutes.ErrForbidden},
				{"by the public", agenda.Anyone, next.ID, minutes.ErrUnauthenticated},
				{"at the same meeting", w.chair, mt.ID, minutes.ErrInvalid},
				{"at no meeting", w.chair, 999999, minutes.ErrInvalid},
				{"at a meeting not begun", w.chair, later.ID, minutes.ErrConflict},
				{"before publication", w.chair, next.ID, nil},
				{"twice", w.vice, next.ID, minutes.ErrConflict},
			} {
				if _, err := w.svc.Approve(ctx, tc.actor, mt.ID, tc.meeting); !is(err, tc.want) {
					t.Errorf("approve %s: %v, want %v", tc.name, err, tc.want)
				}
			}
			m, err := w.svc.Get(ctx, w.clerk, mt.ID)
			w.must(err)
			a := m.Approval
			if m.Status != minutes.Approved || a == nil || a.By.ID != w.chair.UserID || a.By.Title != "Cllr" || a.Meeting.ID != next.ID || !a.At.Equal(w.clock.Now()) {
				t.Errorf("approved minutes: %s, approval %+v", m.Status, a)
			}
			evs := w.pub.take()
			if got := types(evs); !slices.Equal(got, []string{minutes.EvMinutesApproved, minutes.EvMinutesApproved}) {
				t.Fatalf("published %v after the approval", got)
			}
			if evs[0].MeetingID != mt.ID || evs[1].MeetingID != next.ID || evs[0].Private || evs[0].ActorID != w.chair.UserID {
				t.Errorf("approval events %+v", evs)
			}
			var data minutes.Event
			w.must(json.Unmarshal(evs[1].Data, &data))
			if data.Meeting != mt.ID || data.ApprovedAt == nil || data.ApprovedAt.ID != next.ID {
				t.Errorf("approval event data %+v", data)
			}
		})

		t.Run("ApprovedIsFrozen", func(t *testing.T) {
			if _, err := w.svc.Edit(ctx, w.clerk, mt.ID, minutes.ItemEdit{ItemID: planning.ID, Notes: ptr("late change")}); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("edit of approved minutes: %v, want ErrConflict", err)
			}
			if _, err := w.svc.Draft(ctx, w.clerk, mt.ID); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("redraft of approved minutes: %v, want ErrConflict", err)
			}
			if _, err := w.svc.Correct(ctx, w.clerk, mt.ID, "typo", minutes.ItemEdit{ItemID: planning.ID, Notes: ptr("x")}); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("correction of unpublished minutes: %v, want ErrConflict", err)
			}
			if _, err := w.svc.Get(ctx, agenda.Anyone, mt.ID); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("the public reads unpublished minutes: %v", err)
			}
		})

		t.Run("Publish", func(t *testing.T) {
			w.clock.Set(time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC))
			if _, err := w.svc.Publish(ctx, w.chair, mt.ID); !errors.Is(err, minutes.ErrForbidden) {
				t.Errorf("publication by the chair: %v, want ErrForbidden", err)
			}
			m, err := w.svc.Publish(ctx, w.clerk, mt.ID)
			w.must(err)
			if m.Status != minutes.Published || m.Published == nil || !m.Published.At.Equal(w.clock.Now()) {
				t.Errorf("published minutes: %s %+v", m.Status, m.Published)
			}
			if got := types(w.pub.take()); !slices.Equal(got, []string{minutes.EvMinutesPublished}) {
				t.Errorf("published %v, want minutes.published", got)
			}
			if _, err := w.svc.Publish(ctx, w.clerk, mt.ID); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("second publication: %v, want ErrConflict", err)
			}
			if _, err := w.svc.Edit(ctx, w.clerk, mt.ID, minutes.ItemEdit{ItemID: planning.ID, Notes: ptr("x")}); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("edit of published minutes: %v, want ErrConflict", err)
			}
			p, err := w.svc.Get(ctx, agenda.Anyone, mt.ID)
			w.must(err)
			if it := p.Item(exempt.ID); p.View != minutes.PublicView || !it.Redacted || it.Decision != "" || it.Notes != "" {
				t.Errorf("the public reads %s minutes with the exempt item %+v", p.View, it)
			}
			b, err := json.Marshal(p)
			w.must(err)
			if strings.Contains(string(b), "Blue Heron") {
				t.Errorf("the public minutes hold the secret")
			}
		})

		t.Run("PublishedIsFrozenInTheStore", func(t *testing.T) {
			m, err := w.svc.Get(ctx, w.clerk, mt.ID)
			w.must(err)
			m.Item(planning.ID).Notes = "changed behind the service's back"
			err = storeOf(db).Update(ctx, func(tx minutes.Tx) error { return tx.UpdateMinutes(ctx, m) })
			if !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("store update of published minutes: %v, want ErrConflict", err)
			}
		})

		t.Run("Correct", func(t *testing.T) {
			w.clock.Set(time.Date(2026, 6, 10, 12, 0, 0, 0, time.UTC))
			fix := minutes.ItemEdit{ItemID: planning.ID, Decision: ptr("RESOLVED that planning permission be granted subject to the conditions in the officer's report,\n" +
				"an additional condition limiting construction working hours, and a drainage condition.")}
			secretFix := minutes.ItemEdit{ItemID: exempt.ID, Notes: ptr("The Solicitor advised on the evidence gathered under " + secret + ", and on costs.")}
			for _, tc := range []struct {
				name   string
				actor  agenda.Actor
				reason string
				edits  []minutes.ItemEdit
				want   error
			}{
				{"by the chair", w.chair, "typo", []minutes.ItemEdit{fix}, minutes.ErrForbidden},
				{"without a reason", w.clerk, " ", []minutes.ItemEdit{fix}, minutes.ErrInvalid},
				{"that changes nothing", w.clerk, "typo", []minutes.ItemEdit{{ItemID: planning.ID, Notes: ptr("Edited minute of the application.")}}, minutes.ErrInvalid},
			} {
				if _, err := w.svc.Correct(ctx, tc.actor, mt.ID, tc.reason, tc.edits...); !is(err, tc.want) {
					t.Errorf("correction %s: %v, want %v", tc.name, err, tc.want)
				}
			}
			v2, err := w.svc.Correct(ctx, w.clerk, mt.ID, "The drainage condition was omitted from the decision.", fix, secretFix)
			w.must(err)
			c := v2.Correction
			if v2.Version != 2 || v2.Status != minutes.Published || c == nil || c.Supersedes != 1 || len(c.Changes) != 2 {
				t.Fatalf("correction: version %d, %s, %+v", v2.Version, v2.Status, c)
			}
			if ch := c.Changes[0]; ch.Field != "decision" || ch.Added != 2 || ch.Removed != 1 || !strings.HasPrefix(ch.Before, "RESOLVED that planning permission be granted") {
				t.Errorf("first change %+v", ch)
			}
			if want := "Item 4 decision: 2 lines added, 1 line removed; item 6 notes: 1 line added, 1 line removed."; c.Summary != want {
				t.Errorf("summary %q, want %q", c.Summary, want)
			}
			if v2.Approval == nil || v2.Approval.Meeting.ID != next.ID {
				t.Errorf("the correction lost the approval: %+v", v2.Approval)
			}
			evs := w.pub.take()
			if got := types(evs); !slices.Equal(got, []string{minutes.EvMinutesCorrected}) {
				t.Fatalf("published %v, want minutes.corrected", got)
			}
			if evs[0].Private || strings.Contains(string(evs[0].Data), "Blue Heron") {
				t.Errorf("correction event %s", evs[0].Data)
			}

			v1, err := w.svc.GetVersion(ctx, w.clerk, mt.ID, 1)
			w.must(err)
			if v1.Status != minutes.Published || v1.Correction != nil || !strings.HasPrefix(v1.Item(planning.ID).Decision, "RESOLVED that planning permission be granted subject to the conditions in the officer's report and") {
				t.Errorf("version 1 changed: %s %q", v1.Status, v1.Item(planning.ID).Decision)
			}
			latest, err := w.svc.Get(ctx, agenda.Anyone, mt.ID)
			w.must(err)
			pc := latest.Correction
			if latest.Version != 2 || pc == nil || !pc.Changes[1].Redacted || pc.Changes[1].Before != "" || pc.Changes[1].After != "" {
				t.Errorf("the public correction: version %d, %+v", latest.Version, pc)
			}
			if want := "Item 4 decision: 2 lines added, 1 line removed; item 6 notes changed (exempt business)."; pc.Summary != want {
				t.Errorf("public summary %q, want %q", pc.Summary, want)
			}
			b, err := json.Marshal(latest)
			w.must(err)
			if strings.Contains(string(b), "Blue Heron") || strings.Contains(string(b), "and on costs") {
				t.Errorf("the public correction holds exempt text")
			}

			hs, err := w.svc.Versions(ctx, agenda.Anyone, mt.ID)
			w.must(err)
			if len(hs) != 2 || hs[0].Version != 1 || hs[1].Version != 2 || hs[1].Correction == nil || len(hs[1].Correction.Changes) != 0 ||
				hs[1].Correction.Reason != "The drainage condition was omitted from the decision." {
				t.Errorf("public versions %+v", hs)
			}
			hs, err = w.svc.Versions(ctx, w.clerk, mt.ID)
			w.must(err)
			if len(hs) != 2 || len(hs[1].Correction.Changes) != 2 {
				t.Errorf("versions for the clerk %+v", hs)
			}
		})

		t.Run("NoVotes", func(t *testing.T) {
			// The meeting that approved the minutes held no vote: its minutes have no
			// log and no record, and every other export works.
			w.clock.Set(time.Date(2026, 6, 3, 19, 0, 0, 0, time.UTC))
			_, err := w.agenda.CloseMeeting(ctx, w.clerk, next.ID)
			w.must(err)
			m, err := w.svc.Draft(ctx, w.clerk, next.ID)
			w.must(err)
			if m.Log != nil || len(m.Votes()) != 0 {
				t.Errorf("minutes of a meeting without votes have a log %+v or votes", m.Log)
			}
			m, err = w.svc.Export(ctx, w.clerk, next.ID, 0)
			w.must(err)
			for _, f := range minutes.Formats {
				switch err := minutes.Export(io.Discard, m, f); {
				case f == minutes.FormatRecord && !errors.Is(err, minutes.ErrNotFound):
					t.Errorf("record of a meeting without votes: %v, want ErrNotFound", err)
				case f != minutes.FormatRecord && err != nil:
					t.Errorf("export %s: %v", f, err)
				}
			}
		})

		t.Run("Journal", func(t *testing.T) {
			evs, err := w.agenda.Events(ctx, agenda.Anyone, mt.ID, 0, 0)
			w.must(err)
			var got []string
			for _, e := range evs {
				if strings.HasPrefix(e.Type, "minutes.") {
					got = append(got, e.Type)
				}
			}
			want := []string{minutes.EvMinutesApproved, minutes.EvMinutesPublished, minutes.EvMinutesCorrected}
			if !slices.Equal(got, want) {
				t.Errorf("the public journal's minutes events %v, want %v (drafts and edits are private)", got, want)
			}
			evs, err = w.agenda.Events(ctx, w.clerk, mt.ID, 0, 0)
			w.must(err)
			got = nil
			for i, e := range evs {
				if i > 0 && e.Seq != evs[i-1].Seq+1 {
					t.Errorf("the journal skips from %d to %d", evs[i-1].Seq, e.Seq)
				}
				if strings.HasPrefix(e.Type, "minutes.") {
					got = append(got, e.Type)
				}
			}
			want = []string{minutes.EvMinutesDrafted, minutes.EvMinutesEdited, minutes.EvMinutesDrafted, minutes.EvMinutesApproved,
				minutes.EvMinutesPublished, minutes.EvMinutesCorrected}
			if !slices.Equal(got, want) {
				t.Errorf("the journal's minutes events %v, want %v", got, want)
			}
		})
	})
}
