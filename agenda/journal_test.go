package agenda_test

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

// TestFailedWritesLeaveNothing makes a write fail after it has journalled events: the
// events, and every other change it made, are rolled back and nothing is published.
func testFailedWritesLeaveNothing(t *testing.T, w *world) {
	tests := []struct {
		name   string
		method string
		after  int
		setup  func(m agenda.Meeting, items []agenda.Item)
		do     func(m agenda.Meeting, items []agenda.Item) error
	}{
		{"close, after attendance has been ended", "UpdateMeeting", 0,
			func(m agenda.Meeting, items []agenda.Item) {
				_, err := w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: w.chair.UserID, Mode: agenda.InRoom})
				w.must(err)
				_, err = w.svc.RecordArrival(w.ctx, w.clerk, m.ID, agenda.AttendanceInput{UserID: w.member.UserID, Mode: agenda.ByProxy, ProxyHolderID: w.chair.UserID})
				w.must(err)
				_, err = w.svc.NextItem(w.ctx, w.clerk, m.ID)
				w.must(err)
			},
			func(m agenda.Meeting, items []agenda.Item) error {
				_, err := w.svc.CloseMeeting(w.ctx, w.clerk, m.ID)
				return err
			}},
		{"taking an exempt item, after the move, before the private session", "UpdateMeeting", 1,
			func(agenda.Meeting, []agenda.Item) {},
			func(m agenda.Meeting, items []agenda.Item) error {
				_, err := w.svc.SetCurrentItem(w.ctx, w.chair, m.ID, items[2].ID)
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, items := w.startedMeetingOf(w.committee.ID, standardAgenda()...)
			tt.setup(m, items)
			w.pub.take()
			before := snapshot(w, m.ID)
			w.clock.Advance(time.Minute)
			w.store.failNext(tt.method, tt.after)
			if err := tt.do(m, items); !is(err, errInjected) {
				t.Fatalf("got %v, want the injected failure", err)
			}
			if got := w.pub.take(); len(got) != 0 {
				t.Errorf("a failed write published %v", types(got))
			}
			same(t, "the meeting's state after a failed write", snapshot(w, m.ID), before)
		})
	}

	t.Run("adding a person whose account cannot be created", func(t *testing.T) {
		w.store.failNext("CreateUser", 0)
		if _, err := w.svc.AddPerson(w.ctx, w.clerk, w.council.ID, agenda.PersonInput{Name: "Failed", Email: "failed@example.org", Role: agenda.RoleOfficer}); !is(err, errInjected) {
			t.Fatalf("got %v, want the injected failure", err)
		}
		people, err := w.svc.ListPeople(w.ctx, w.clerk, w.council.ID)
		w.must(err)
		for _, p := range people {
			if p.Email == "failed@example.org" {
				t.Error("the person was added")
			}
		}
	})
}

// state is everything a meeting's writes touch.
type state struct {
	Meeting    agenda.Meeting
	Items      []agenda.Item
	Attendance []agenda.Attendance
	Journal    []agenda.Event
}

func snapshot(w *world, id int64) state {
	att, err := w.svc.ListAttendance(w.ctx, w.admin, id)
	w.must(err)
	return state{Meeting: w.get(id), Items: w.items(id), Attendance: att, Journal: w.journal(id)}
}

// TestJournalRecordsEveryWrite runs a short meeting and checks its journal: numbered
// from 1 without gaps, one event per change in order, the meeting's LastSeq its last
// number, each event's data what it says, and everything published exactly once.
func testJournalRecordsEveryWrite(t *testing.T, w *world) {
	var published []agenda.Event
	take := func() { published = append(published, w.pub.take()...) }
	m, err := w.svc.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: w.committee.ID, Title: "Planning", StartsAt: start})
	w.must(err)
	take()
	steps := []func() error{
		func() error {
			_, err := w.svc.AddItem(w.ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Apologies"})
			return err
		},
		func() error {
			_, err := w.svc.AddItem(w.ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Mill Lane", Kind: agenda.Planning, Position: 1})
			return err
		},
		func() error {
			_, err := w.svc.UpdateMeeting(w.ctx, w.clerk, m.ID, agenda.MeetingPatch{Published: ptr(true)})
			return err
		},
		func() error { _, err := w.svc.StartMeeting(w.ctx, w.chair, m.ID); return err },
		func() error { return w.svc.OnJoin(w.ctx, m.ID, w.member.UserID, w.clock.Now()) },
		func() error { _, err := w.svc.NextItem(w.ctx, w.chair, m.ID); return err },
		func() error { _, err := w.svc.AdjournMeeting(w.ctx, w.chair, m.ID); return err },
		func() error { _, err := w.svc.ResumeMeeting(w.ctx, w.chair, m.ID); return err },
		func() error { _, err := w.svc.CloseMeeting(w.ctx, w.chair, m.ID); return err },
	}
	for _, step := range steps {
		w.clock.Advance(time.Minute)
		w.must(step())
		take()
	}
	journal := w.journal(m.ID)
	want := []string{agenda.EvMeetingCreated, agenda.EvItemAdded, agenda.EvItemAdded, agenda.EvMeetingUpdated,
		agenda.EvMeetingStarted, agenda.EvAttendanceArrived, agenda.EvItemUpdated, agenda.EvItemCurrent,
		agenda.EvMeetingAdjourned, agenda.EvMeetingResumed, agenda.EvItemUpdated, agenda.EvAttendanceLeft, agenda.EvMeetingClosed}
	same(t, "journal", types(journal), want)
	if !reflect.DeepEqual(journal, published) {
		t.Errorf("published events differ from the journal:\npublished %+v\njournal   %+v", published, journal)
	}
	for i, e := range journal {
		if e.Seq != int64(i+1) || e.MeetingID != m.ID {
			t.Errorf("event %d: seq %d of meeting %d", i, e.Seq, e.MeetingID)
		}
		if !json.Valid(e.Data) {
			t.Errorf("event %s: data is not JSON: %s", e.Type, e.Data)
		}
	}
	if got := w.get(m.ID).LastSeq; got != int64(len(journal)) {
		t.Errorf("LastSeq: got %d, want %d", got, len(journal))
	}
	var closed agenda.Meeting
	w.must(json.Unmarshal(journal[len(journal)-1].Data, &closed))
	if closed.Status != agenda.Closed || closed.ID != m.ID {
		t.Errorf("meeting.closed data: got %+v", closed)
	}
	if journal[4].ActorID != w.chair.UserID || journal[5].ActorID != 0 {
		t.Errorf("actors: got %d for the start and %d for presence; want %d and 0", journal[4].ActorID, journal[5].ActorID, w.chair.UserID)
	}
	page, err := w.svc.Events(w.ctx, public, m.ID, 3, 2)
	w.must(err)
	if len(page) != 2 || page[0].Seq != 4 || page[1].Seq != 5 {
		t.Errorf("a page of events after 3: got %v", page)
	}
}

// TestConcurrentMeetingWrites sends the same commands from several goroutines at once:
// the meeting starts once, and each item is taken once, with a gap-free journal.
func testConcurrentMeetingWrites(t *testing.T, w *world) {
	m, _ := w.quickMeeting(true, agenda.ItemInput{Title: "a"}, agenda.ItemInput{Title: "b"}, agenda.ItemInput{Title: "c"},
		agenda.ItemInput{Title: "d"}, agenda.ItemInput{Title: "e"})
	const n = 5
	run := func(fn func() error) (ok, conflicts int) {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = fn() })
		}
		wg.Wait()
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case is(err, agenda.ErrConflict):
				conflicts++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		return ok, conflicts
	}
	ok, conflicts := run(func() error { _, err := w.svc.StartMeeting(w.ctx, w.clerk, m.ID); return err })
	if ok != 1 || conflicts != n-1 {
		t.Errorf("concurrent starts: %d succeeded and %d conflicted; want 1 and %d", ok, conflicts, n-1)
	}
	ok, _ = run(func() error { _, err := w.svc.NextItem(w.ctx, w.clerk, m.ID); return err })
	if ok != n {
		t.Errorf("concurrent moves to the next item: %d succeeded, want %d", ok, n)
	}
	var statuses []agenda.ItemStatus
	for _, it := range w.items(m.ID) {
		statuses = append(statuses, it.Status)
	}
	same(t, "items", statuses, []agenda.ItemStatus{agenda.Done, agenda.Done, agenda.Done, agenda.Done, agenda.Current})
	journal := w.journal(m.ID)
	started := 0
	for i, e := range journal {
		if e.Seq != int64(i+1) {
			t.Fatalf("journal seq %d at %d", e.Seq, i)
		}
		if e.Type == agenda.EvMeetingStarted {
			started++
		}
	}
	if started != 1 {
		t.Errorf("meeting.started events: got %d, want 1", started)
	}
	w.pub.take()
}
