package agenda_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

type transitionFunc func(*agenda.Service, context.Context, agenda.Actor, int64) (agenda.Meeting, error)

var transitions = map[string]transitionFunc{
	"start":   (*agenda.Service).StartMeeting,
	"adjourn": (*agenda.Service).AdjournMeeting,
	"resume":  (*agenda.Service).ResumeMeeting,
	"close":   (*agenda.Service).CloseMeeting,
}

// pathTo is how a scheduled meeting reaches each status.
var pathTo = map[agenda.MeetingStatus][]string{
	agenda.Scheduled:  nil,
	agenda.InProgress: {"start"},
	agenda.Adjourned:  {"start", "adjourn"},
	agenda.Closed:     {"start", "close"},
}

func testMeetingStateMachine(t *testing.T, w *world) {
	type result struct {
		status agenda.MeetingStatus
		event  string
	}
	allowed := map[agenda.MeetingStatus]map[string]result{
		agenda.Scheduled:  {"start": {agenda.InProgress, agenda.EvMeetingStarted}},
		agenda.InProgress: {"adjourn": {agenda.Adjourned, agenda.EvMeetingAdjourned}, "close": {agenda.Closed, agenda.EvMeetingClosed}},
		agenda.Adjourned:  {"resume": {agenda.InProgress, agenda.EvMeetingResumed}, "close": {agenda.Closed, agenda.EvMeetingClosed}},
		agenda.Closed:     {},
	}
	for _, from := range []agenda.MeetingStatus{agenda.Scheduled, agenda.InProgress, agenda.Adjourned, agenda.Closed} {
		for _, op := range []string{"start", "adjourn", "resume", "close"} {
			t.Run(string(from)+"/"+op, func(t *testing.T) {
				m, _ := w.meeting(true)
				for _, step := range pathTo[from] {
					w.clock.Advance(time.Minute)
					_, err := transitions[step](w.svc, w.ctx, w.clerk, m.ID)
					w.must(err)
				}
				before := w.get(m.ID)
				w.pub.take()
				w.clock.Advance(time.Minute)
				got, err := transitions[op](w.svc, w.ctx, w.clerk, m.ID)
				want, ok := allowed[from][op]
				if !ok {
					if !is(err, agenda.ErrConflict) {
						t.Fatalf("%s a %s meeting: got error %v, want a conflict", op, from, err)
					}
					w.checkPublished(t, m.ID, before.LastSeq)
					if after := w.get(m.ID); !reflect.DeepEqual(after, before) {
						t.Errorf("refused %s changed the meeting:\ngot  %+v\nwant %+v", op, after, before)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s a %s meeting: %v", op, from, err)
				}
				if got.Status != want.status {
					t.Errorf("status: got %s, want %s", got.Status, want.status)
				}
				seq := w.checkPublished(t, m.ID, before.LastSeq, want.event)
				if got.LastSeq != seq {
					t.Errorf("returned LastSeq %d, want %d", got.LastSeq, seq)
				}
				if stored := w.get(m.ID); !reflect.DeepEqual(stored, got) {
					t.Errorf("stored meeting differs from the one returned:\ngot  %+v\nwant %+v", stored, got)
				}
				now := w.clock.Now()
				switch op {
				case "start":
					if got.StartedAt == nil || !got.StartedAt.Equal(now) {
						t.Errorf("StartedAt: got %v, want %v", got.StartedAt, now)
					}
				case "close":
					if got.ClosedAt == nil || !got.ClosedAt.Equal(now) {
						t.Errorf("ClosedAt: got %v, want %v", got.ClosedAt, now)
					}
				}
			})
		}
	}
}

func testItemNavigation(t *testing.T, w *world) {
	m, items := w.meeting(true, standardAgenda()...)
	apologies, planning, exempt, aob := items[0], items[1], items[2], items[3]

	// Not before the meeting starts.
	if _, err := w.svc.NextItem(w.ctx, w.chair, m.ID); !is(err, agenda.ErrConflict) {
		t.Fatalf("next item before the start: got %v, want a conflict", err)
	}
	_, err := w.svc.StartMeeting(w.ctx, w.chair, m.ID)
	w.must(err)
	seq := w.checkPublished(t, m.ID, m.LastSeq, agenda.EvMeetingStarted)

	if _, err := w.svc.PreviousItem(w.ctx, w.chair, m.ID); !is(err, agenda.ErrConflict) {
		t.Errorf("previous with nothing taken: got %v, want a conflict", err)
	}

	type state struct {
		current   int64
		session   agenda.SessionState
		paragraph int
		statuses  []agenda.ItemStatus // apologies, planning, exempt, aob
	}
	P, C, D := agenda.Pending, agenda.Current, agenda.Done
	steps := []struct {
		name   string
		do     func() (agenda.Meeting, error)
		events []string
		want   state
	}{
		{"next takes the first item",
			func() (agenda.Meeting, error) { return w.svc.NextItem(w.ctx, w.chair, m.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemCurrent},
			state{apologies.ID, agenda.PublicSession, 0, []agenda.ItemStatus{C, P, P, P}}},
		{"next ends it and takes the second",
			func() (agenda.Meeting, error) { return w.svc.NextItem(w.ctx, w.clerk, m.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent},
			state{planning.ID, agenda.PublicSession, 0, []agenda.ItemStatus{D, C, P, P}}},
		{"set current takes the last item out of order",
			func() (agenda.Meeting, error) { return w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, aob.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent},
			state{aob.ID, agenda.PublicSession, 0, []agenda.ItemStatus{D, D, P, C}}},
		{"next takes the exempt item, skipped, in private session under its paragraph",
			func() (agenda.Meeting, error) { return w.svc.NextItem(w.ctx, w.chair, m.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent, agenda.EvSessionPrivate},
			state{exempt.ID, agenda.PrivateSession, 1, []agenda.ItemStatus{D, D, C, D}}},
		{"previous returns to the item taken last, and to public session",
			func() (agenda.Meeting, error) { return w.svc.PreviousItem(w.ctx, w.chair, m.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent, agenda.EvSessionPublic},
			state{aob.ID, agenda.PublicSession, 0, []agenda.ItemStatus{D, D, P, C}}},
		{"set current goes back to an item already taken",
			func() (agenda.Meeting, error) { return w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, apologies.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent},
			state{apologies.ID, agenda.PublicSession, 0, []agenda.ItemStatus{C, D, P, D}}},
		{"set current on the exempt item goes private",
			func() (agenda.Meeting, error) { return w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, exempt.ID) },
			[]string{agenda.EvItemUpdated, agenda.EvItemUpdated, agenda.EvItemCurrent, agenda.EvSessionPrivate},
			state{exempt.ID, agenda.PrivateSession, 1, []agenda.ItemStatus{D, D, C, D}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			w.clock.Advance(time.Minute)
			got, err := st.do()
			if err != nil {
				t.Fatal(err)
			}
			seq = w.checkPublished(t, m.ID, seq, st.events...)
			if got.LastSeq != seq {
				t.Errorf("returned LastSeq %d, want %d", got.LastSeq, seq)
			}
			stored := w.get(m.ID)
			if !reflect.DeepEqual(stored, got) {
				t.Errorf("stored meeting differs from the one returned:\ngot  %+v\nwant %+v", stored, got)
			}
			if stored.CurrentItemID != st.want.current || stored.Session != st.want.session || stored.PrivateParagraph != st.want.paragraph {
				t.Errorf("got current %d, %s session, paragraph %d; want %d, %s, %d", stored.CurrentItemID, stored.Session,
					stored.PrivateParagraph, st.want.current, st.want.session, st.want.paragraph)
			}
			var statuses []agenda.ItemStatus
			byID := map[int64]agenda.Item{}
			for _, it := range w.items(m.ID) {
				byID[it.ID] = it
			}
			for _, it := range items {
				statuses = append(statuses, byID[it.ID].Status)
			}
			same(t, "item statuses", statuses, st.want.statuses)
			cur := byID[st.want.current]
			if cur.StartedAt == nil || cur.EndedAt != nil {
				t.Errorf("current item: StartedAt %v, EndedAt %v; want a start and no end", cur.StartedAt, cur.EndedAt)
			}
			for _, it := range byID {
				if it.Status == agenda.Done && (it.StartedAt == nil || it.EndedAt == nil) {
					t.Errorf("done item %s: StartedAt %v, EndedAt %v; want both", it.Number, it.StartedAt, it.EndedAt)
				}
				if it.Status == agenda.Pending && (it.StartedAt != nil || it.EndedAt != nil) {
					t.Errorf("pending item %s: StartedAt %v, EndedAt %v; want neither", it.Number, it.StartedAt, it.EndedAt)
				}
			}
		})
	}

	refusals := []struct {
		name string
		do   func() (agenda.Meeting, error)
		want error
	}{
		{"the current item again", func() (agenda.Meeting, error) { return w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, exempt.ID) }, agenda.ErrConflict},
		{"an item of no agenda", func() (agenda.Meeting, error) { return w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, 9999) }, agenda.ErrInvalid},
		{"next with every item taken", func() (agenda.Meeting, error) { return w.svc.NextItem(w.ctx, w.chair, m.ID) }, agenda.ErrConflict},
	}
	for _, r := range refusals {
		t.Run("refuses "+r.name, func(t *testing.T) {
			before := w.get(m.ID)
			if _, err := r.do(); !is(err, r.want) {
				t.Errorf("got %v, want %v", err, r.want)
			}
			w.checkPublished(t, m.ID, before.LastSeq)
			if after := w.get(m.ID); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused move changed the meeting")
			}
		})
	}

	// Adjourned, items do not move.
	_, err = w.svc.AdjournMeeting(w.ctx, w.chair, m.ID)
	w.must(err)
	if _, err := w.svc.PreviousItem(w.ctx, w.chair, m.ID); !is(err, agenda.ErrConflict) {
		t.Errorf("previous while adjourned: got %v, want a conflict", err)
	}
	if _, err := w.svc.NextItem(w.ctx, w.chair, m.ID); !is(err, agenda.ErrConflict) {
		t.Errorf("next while adjourned: got %v, want a conflict", err)
	}
}

func testCloseEndsItemAttendanceAndPrivateSession(t *testing.T, w *world) {
	m, items := w.meeting(true, standardAgenda()...)
	_, err := w.svc.StartMeeting(w.ctx, w.clerk, m.ID)
	w.must(err)
	for _, in := range []agenda.AttendanceInput{
		{UserID: w.chair.UserID, Mode: agenda.InRoom},
		{UserID: w.member.UserID, Mode: agenda.RemoteVoting},
		{UserID: w.member2.UserID, Mode: agenda.ByProxy, ProxyHolderID: w.chair.UserID},
	} {
		_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, in)
		w.must(err)
	}
	w.clock.Advance(time.Minute)
	_, err = w.svc.SetCurrentItem(w.ctx, w.clerk, m.ID, items[2].ID) // exempt: private
	w.must(err)
	before := w.get(m.ID)
	w.pub.take()

	w.clock.Advance(time.Hour)
	got, err := w.svc.CloseMeeting(w.ctx, w.chair, m.ID)
	w.must(err)
	now := w.clock.Now()
	w.checkPublished(t, m.ID, before.LastSeq, agenda.EvItemUpdated, agenda.EvSessionPublic, agenda.EvAttendanceLeft, agenda.EvAttendanceLeft,
		agenda.EvAttendanceLeft, agenda.EvMeetingClosed)
	if got.Status != agenda.Closed || got.CurrentItemID != 0 || got.Session != agenda.PublicSession || got.PrivateParagraph != 0 {
		t.Errorf("closed meeting: got status %s, current %d, %s session, paragraph %d; want closed, 0, public, 0",
			got.Status, got.CurrentItemID, got.Session, got.PrivateParagraph)
	}
	if got.ClosedAt == nil || !got.ClosedAt.Equal(now) {
		t.Errorf("ClosedAt: got %v, want %v", got.ClosedAt, now)
	}
	for _, it := range w.items(m.ID) {
		if it.ID == items[2].ID && (it.Status != agenda.Done || it.EndedAt == nil || !it.EndedAt.Equal(now)) {
			t.Errorf("the item current at the close: got %s ended %v, want done at %v", it.Status, it.EndedAt, now)
		}
	}
	att, err := w.svc.ListAttendance(w.ctx, w.clerk, m.ID)
	w.must(err)
	if len(att) != 3 {
		t.Fatalf("attendance: got %d stretches, want 3", len(att))
	}
	for _, a := range att {
		if a.LeftAt == nil || !a.LeftAt.Equal(now) {
			t.Errorf("attendance of %d: left %v, want %v", a.UserID, a.LeftAt, now)
		}
	}

	// A closed meeting takes nothing more.
	refused := map[string]error{}
	_, refused["add item"] = w.svc.AddItem(w.ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Late"})
	_, refused["update"] = w.svc.UpdateMeeting(w.ctx, w.clerk, m.ID, agenda.MeetingPatch{Location: ptr("Elsewhere")})
	_, refused["arrival"] = w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: w.member3.UserID, Mode: agenda.InRoom})
	_, refused["session"] = w.svc.SetSession(w.ctx, w.clerk, m.ID, true, 1, "")
	for name, err := range refused {
		if !is(err, agenda.ErrConflict) {
			t.Errorf("%s after close: got %v, want a conflict", name, err)
		}
	}
	w.checkPublished(t, m.ID, w.get(m.ID).LastSeq)
}

func testSetSession(t *testing.T, w *world) {
	m, _ := w.meeting(true, standardAgenda()...)
	if _, err := w.svc.SetSession(w.ctx, w.chair, m.ID, true, 3, "exempt report"); !is(err, agenda.ErrConflict) {
		t.Errorf("private session before the start: got %v, want a conflict", err)
	}
	_, err := w.svc.StartMeeting(w.ctx, w.chair, m.ID)
	w.must(err)
	seq := w.checkPublished(t, m.ID, m.LastSeq, agenda.EvMeetingStarted)
	tests := []struct {
		name      string
		private   bool
		paragraph int
		want      error
		session   agenda.SessionState
	}{
		{"public while public", false, 0, agenda.ErrConflict, agenda.PublicSession},
		{"private without a paragraph", true, 0, agenda.ErrInvalid, agenda.PublicSession},
		{"private with a paragraph out of range", true, 19, agenda.ErrInvalid, agenda.PublicSession},
		{"private", true, 3, nil, agenda.PrivateSession},
		{"private while private", true, 3, agenda.ErrConflict, agenda.PrivateSession},
		{"public with a paragraph", false, 3, agenda.ErrInvalid, agenda.PrivateSession},
		{"public", false, 0, nil, agenda.PublicSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.svc.SetSession(w.ctx, w.chair, m.ID, tt.private, tt.paragraph, "reason")
			if !is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			stored := w.get(m.ID)
			if stored.Session != tt.session {
				t.Errorf("session: got %s, want %s", stored.Session, tt.session)
			}
			if err != nil {
				w.checkPublished(t, m.ID, seq)
				return
			}
			typ := agenda.EvSessionPublic
			if tt.private {
				typ = agenda.EvSessionPrivate
				if got.PrivateParagraph != tt.paragraph {
					t.Errorf("paragraph: got %d, want %d", got.PrivateParagraph, tt.paragraph)
				}
			}
			seq = w.checkPublished(t, m.ID, seq, typ)
		})
	}
}

func testMeetingInputAndUpdate(t *testing.T, w *world) {
	tests := []struct {
		name   string
		in     agenda.MeetingInput
		fields []string
	}{
		{"no committee, title or start", agenda.MeetingInput{}, []string{"committee_id", "starts_at", "title"}},
		{"unknown committee", agenda.MeetingInput{CommitteeID: 9999, Title: "x", StartsAt: start}, []string{"committee_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.CreateMeeting(w.ctx, w.clerk, tt.in)
			same(t, "fields", fieldErrors(err), tt.fields)
		})
	}
	// Start times are kept to the second, in UTC.
	at := time.Date(2026, 6, 1, 19, 30, 15, 999999999, time.FixedZone("BST", 3600))
	m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: " June ", StartsAt: at})
	w.must(err)
	if want := time.Date(2026, 6, 1, 18, 30, 15, 0, time.UTC); m.StartsAt != want || m.Title != "June" || m.CouncilID != w.council.ID {
		t.Errorf("created: got %v %q council %d, want %v \"June\" council %d", m.StartsAt, m.Title, m.CouncilID, want, w.council.ID)
	}
	w.checkPublished(t, m.ID, 0, agenda.EvMeetingCreated)
	w.clock.Advance(time.Minute)
	got, err := w.svc.UpdateMeeting(w.ctx, w.clerk, m.ID, agenda.MeetingPatch{Title: ptr("June meeting"), Published: ptr(true)})
	w.must(err)
	if got.Title != "June meeting" || !got.Published || got.Location != m.Location || !got.UpdatedAt.Equal(w.clock.Now()) {
		t.Errorf("updated: got %+v", got)
	}
	w.checkPublished(t, m.ID, m.LastSeq, agenda.EvMeetingUpdated)
	if _, err := w.svc.UpdateMeeting(w.ctx, w.clerk, m.ID, agenda.MeetingPatch{Title: ptr(" ")}); !is(err, agenda.ErrInvalid) {
		t.Errorf("blank title: got %v, want invalid", err)
	}
	if stored := w.get(m.ID); !reflect.DeepEqual(stored, got) {
		t.Errorf("a refused update changed the meeting")
	}
}

func ptr[T any](v T) *T { return &v }
