package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

func testMeetings(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	if e.meeting.ID == 0 || e.meeting.CouncilID != e.council.ID || e.meeting.LastSeq != 0 {
		t.Fatalf("created meeting: got id %d, council %d, last_seq %d, want an id, council %d, 0",
			e.meeting.ID, e.meeting.CouncilID, e.meeting.LastSeq, e.council.ID)
	}
	for _, col := range []string{"private_paragraph", "current_item_id", "started_at", "closed_at"} {
		if !e.isNull("meetings", col, e.meeting.ID) {
			t.Errorf("meetings.%s: zero was not stored as NULL", col)
		}
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMeeting(ctx, e.meeting.ID)
		same(t, "GetMeeting", got, e.meeting)
		return err
	})

	// Every column UpdateMeeting writes round-trips, from NULL to a value and back.
	var item agenda.Item
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		item = agenda.Item{MeetingID: e.meeting.ID, Position: 1, Number: "1", Title: "Exempt", Kind: agenda.Exempt,
			ExemptParagraph: 3, Papers: []agenda.Paper{}, Status: agenda.Current, CreatedAt: t0}
		return tx.CreateItem(ctx, &item)
	})
	started, closed := t0.Add(time.Hour), t0.Add(3*time.Hour)
	m := e.meeting
	m.Title, m.StartsAt, m.Location, m.Published = "Renamed", t0.Add(48*time.Hour), "Council Chamber", true
	m.Status, m.Session, m.PrivateParagraph, m.CurrentItemID = agenda.InProgress, agenda.PrivateSession, 3, item.ID
	m.StartedAt, m.ClosedAt, m.UpdatedAt = &started, &closed, t0.Add(time.Minute)
	m.LastSeq = 42 // must not be written
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateMeeting(ctx, m) })
	m.LastSeq = 0
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMeeting(ctx, m.ID)
		same(t, "after UpdateMeeting", got, m)
		return err
	})
	m.Session, m.PrivateParagraph, m.CurrentItemID, m.StartedAt, m.ClosedAt = agenda.PublicSession, 0, 0, nil, nil
	e.update(func(ctx context.Context, tx agenda.Tx) error { return tx.UpdateMeeting(ctx, m) })
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMeeting(ctx, m.ID)
		same(t, "after clearing", got, m)
		return err
	})
	for _, col := range []string{"private_paragraph", "current_item_id", "started_at", "closed_at"} {
		if !e.isNull("meetings", col, m.ID) {
			t.Errorf("meetings.%s: zero was not stored as NULL after an update", col)
		}
	}

	// UpdateMeeting leaves the journal's counter alone.
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.AppendEvent(ctx, &agenda.Event{MeetingID: m.ID, Type: "t", At: t0}); err != nil {
			return err
		}
		return tx.UpdateMeeting(ctx, m) // m.LastSeq is 0
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		got, err := tx.GetMeeting(ctx, m.ID)
		if got.LastSeq != 1 {
			t.Errorf("last_seq after an event and an update: got %d, want 1", got.LastSeq)
		}
		return err
	})

	tests := []struct {
		name string
		fn   func(ctx context.Context, tx agenda.Tx) error
	}{
		{"create for an unknown committee", func(ctx context.Context, tx agenda.Tx) error {
			x := e.meeting
			x.CommitteeID = unknown
			return tx.CreateMeeting(ctx, &x)
		}},
		{"update an unknown meeting", func(ctx context.Context, tx agenda.Tx) error {
			x := e.meeting
			x.ID = unknown
			return tx.UpdateMeeting(ctx, x)
		}},
		{"get an unknown meeting", func(ctx context.Context, tx agenda.Tx) error {
			_, err := tx.GetMeeting(ctx, unknown)
			return err
		}},
	}
	for _, tt := range tests {
		wantErr(t, tt.name, e.try(tt.fn), agenda.ErrNotFound, "")
	}
}

func testListMeetings(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	// Two councils, three committees; meetings a day apart, two at the same time.
	var south agenda.Council
	var licensing, southPlanning agenda.Committee
	// The database is shared, so this test's meetings start in a window of their own, and
	// every query looks only inside it.
	w0 := time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return w0.Add(time.Duration(n) * 24 * time.Hour) }
	window := func(f agenda.MeetingFilter) agenda.MeetingFilter {
		if f.From.IsZero() {
			f.From = w0
		}
		if f.To.IsZero() {
			f.To = day(30)
		}
		return f
	}
	e.meeting.Title, e.meeting.StartsAt = "base", day(1)
	byTitle := map[string]agenda.Meeting{}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		if err := tx.UpdateMeeting(ctx, e.meeting); err != nil {
			return err
		}
		byTitle["base"] = e.meeting
		south = agenda.Council{Slug: e.name("south"), Name: "South", CreatedAt: t0}
		if err := tx.CreateCouncil(ctx, &south); err != nil {
			return err
		}
		licensing = e.committee
		licensing.ID, licensing.Slug = 0, "licensing"
		if err := tx.CreateCommittee(ctx, &licensing); err != nil {
			return err
		}
		southPlanning = e.committee
		southPlanning.ID, southPlanning.CouncilID = 0, south.ID
		if err := tx.CreateCommittee(ctx, &southPlanning); err != nil {
			return err
		}
		for _, x := range []struct {
			title     string
			committee int64
			day       int
			published bool
			status    agenda.MeetingStatus
		}{
			{"p1", e.committee.ID, 2, true, agenda.Closed},
			{"p2", e.committee.ID, 3, false, agenda.Scheduled},
			{"l1", licensing.ID, 3, true, agenda.Scheduled}, // same time as p2
			{"l2", licensing.ID, 4, false, agenda.InProgress},
			{"s1", southPlanning.ID, 5, true, agenda.Scheduled},
			{"s2", southPlanning.ID, 6, false, agenda.Scheduled},
		} {
			m := agenda.Meeting{CommitteeID: x.committee, Title: x.title, StartsAt: day(x.day),
				Published: x.published, Status: x.status, Session: agenda.PublicSession, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.CreateMeeting(ctx, &m); err != nil {
				return err
			}
			byTitle[x.title] = m
		}
		return nil
	})
	tests := []struct {
		name string
		f    agenda.MeetingFilter
		want []string
	}{
		{"everything, by start", agenda.MeetingFilter{}, []string{"base", "p1", "p2", "l1", "l2", "s1", "s2"}},
		{"council", agenda.MeetingFilter{CouncilID: south.ID}, []string{"s1", "s2"}},
		{"committee", agenda.MeetingFilter{CommitteeID: licensing.ID}, []string{"l1", "l2"}},
		{"status", agenda.MeetingFilter{Status: agenda.Scheduled}, []string{"base", "p2", "l1", "s1", "s2"}},
		{"published only", agenda.MeetingFilter{PublishedOnly: true}, []string{"p1", "l1", "s1"}},
		{"published or my committee", agenda.MeetingFilter{PublishedOnly: true, VisibleCommittees: []int64{licensing.ID}},
			[]string{"p1", "l1", "l2", "s1"}},
		{"published or my committees", agenda.MeetingFilter{PublishedOnly: true, VisibleCommittees: []int64{licensing.ID, southPlanning.ID}},
			[]string{"p1", "l1", "l2", "s1", "s2"}},
		{"published or my council", agenda.MeetingFilter{PublishedOnly: true, VisibleCouncils: []int64{south.ID}},
			[]string{"p1", "l1", "s1", "s2"}},
		{"published, my committee or my council", agenda.MeetingFilter{PublishedOnly: true,
			VisibleCommittees: []int64{e.committee.ID}, VisibleCouncils: []int64{south.ID}},
			[]string{"base", "p1", "p2", "l1", "s1", "s2"}},
		{"visibility with another filter", agenda.MeetingFilter{CouncilID: e.council.ID, PublishedOnly: true,
			VisibleCouncils: []int64{south.ID}}, []string{"p1", "l1"}},
		{"from is inclusive", agenda.MeetingFilter{From: day(3)}, []string{"p2", "l1", "l2", "s1", "s2"}},
		{"to is exclusive", agenda.MeetingFilter{To: day(3)}, []string{"base", "p1"}},
		{"from and to", agenda.MeetingFilter{From: day(2), To: day(5)}, []string{"p1", "p2", "l1", "l2"}},
		{"limit", agenda.MeetingFilter{Limit: 2}, []string{"base", "p1"}},
		{"after a cursor", agenda.MeetingFilter{After: &agenda.MeetingCursor{StartsAt: day(3), ID: byTitle["p2"].ID}, Limit: 2},
			[]string{"l1", "l2"}},
		{"nothing", agenda.MeetingFilter{CouncilID: unknown}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.view(func(ctx context.Context, tx agenda.Tx) error {
				list, err := tx.ListMeetings(ctx, window(tt.f))
				if err != nil {
					return err
				}
				var got []string
				for _, m := range list {
					got = append(got, m.Title)
					if m != byTitle[m.Title] {
						t.Errorf("meeting %s: got %+v, want %+v", m.Title, m, byTitle[m.Title])
					}
				}
				same(t, "titles", got, tt.want)
				return nil
			})
		})
	}

	// Paging through everything with the cursor visits each meeting once, in order,
	// including the two that start at the same time.
	t.Run("pages", func(t *testing.T) {
		var got []string
		f := agenda.MeetingFilter{Limit: 2}
		for page := 0; page < 10; page++ {
			var list []agenda.Meeting
			e.view(func(ctx context.Context, tx agenda.Tx) error {
				var err error
				list, err = tx.ListMeetings(ctx, window(f))
				return err
			})
			for _, m := range list {
				got = append(got, m.Title)
			}
			if len(list) < f.Limit {
				break
			}
			last := list[len(list)-1]
			f.After = &agenda.MeetingCursor{StartsAt: last.StartsAt, ID: last.ID}
		}
		same(t, "pages", got, []string{"base", "p1", "p2", "l1", "l2", "s1", "s2"})
	})
}

func testJournal(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	var other agenda.Meeting
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		other = e.meeting
		other.ID = 0
		return tx.CreateMeeting(ctx, &other)
	})
	paris := time.FixedZone("CET", 3600)
	var appended []agenda.Event
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		for i, mid := range []int64{e.meeting.ID, other.ID, e.meeting.ID, e.meeting.ID, other.ID} {
			ev := agenda.Event{MeetingID: mid, Type: fmt.Sprintf("t%d", i), At: t0.Add(time.Duration(i) * time.Second).In(paris),
				ActorID: int64(i % 2 * int(e.user.ID)), Private: i == 2, Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
			if err := tx.AppendEvent(ctx, &ev); err != nil {
				return err
			}
			appended = append(appended, ev)
		}
		return nil
	})
	var seqs []int64
	for _, ev := range appended {
		seqs = append(seqs, ev.Seq)
	}
	same(t, "seqs, per meeting", seqs, []int64{1, 1, 2, 3, 2})
	if !e.isNullKey("events", "actor_id", "type", "t0") {
		t.Error("events.actor_id: zero was not stored as NULL")
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		all, err := tx.Events(ctx, e.meeting.ID, 0, 100)
		if err != nil {
			return err
		}
		want := []agenda.Event{appended[0], appended[2], appended[3]}
		for i := range want {
			want[i].At = want[i].At.UTC()
		}
		same(t, "Events", all, want)
		after, err := tx.Events(ctx, e.meeting.ID, 1, 1)
		if err != nil {
			return err
		}
		same(t, "Events after 1, limit 1", after, want[1:2])
		none, err := tx.Events(ctx, e.meeting.ID, 3, 100)
		if err != nil {
			return err
		}
		if len(none) != 0 {
			t.Errorf("Events after the last: got %d, want none", len(none))
		}
		m, err := tx.GetMeeting(ctx, e.meeting.ID)
		if m.LastSeq != 3 {
			t.Errorf("LastSeq: got %d, want 3", m.LastSeq)
		}
		return err
	})
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		return tx.AppendEvent(ctx, &agenda.Event{MeetingID: unknown, Type: "t", At: t0})
	})
	wantErr(t, "event of an unknown meeting", err, agenda.ErrNotFound, "")
}

// TestConcurrentAppend appends from several goroutines at once, each in its own
// transaction, to two meetings: every meeting's numbers come out 1..n with no gaps.
func testConcurrentAppend(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	var other agenda.Meeting
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		other = e.meeting
		other.ID = 0
		return tx.CreateMeeting(ctx, &other)
	})
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				mid := e.meeting.ID
				if (w+i)%3 == 0 {
					mid = other.ID
				}
				errs <- e.try(func(ctx context.Context, tx agenda.Tx) error {
					// Read first, as the service does, then append twice.
					if _, err := tx.GetMeeting(ctx, mid); err != nil {
						return err
					}
					for range 2 {
						if err := tx.AppendEvent(ctx, &agenda.Event{MeetingID: mid, Type: fmt.Sprintf("w%d", w), At: t0}); err != nil {
							return err
						}
					}
					return nil
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	total := 0
	for _, mid := range []int64{e.meeting.ID, other.ID} {
		e.view(func(ctx context.Context, tx agenda.Tx) error {
			evs, err := tx.Events(ctx, mid, 0, 1000)
			if err != nil {
				return err
			}
			for i, ev := range evs {
				if ev.Seq != int64(i+1) {
					t.Fatalf("meeting %d: event %d has seq %d, want %d", mid, i, ev.Seq, i+1)
				}
			}
			// The two events of one transaction are consecutive.
			for i := 0; i < len(evs); i += 2 {
				if evs[i].Type != evs[i+1].Type {
					t.Errorf("meeting %d: seqs %d and %d are from different writers (%s, %s)", mid, evs[i].Seq, evs[i+1].Seq, evs[i].Type, evs[i+1].Type)
				}
			}
			m, err := tx.GetMeeting(ctx, mid)
			if m.LastSeq != int64(len(evs)) {
				t.Errorf("meeting %d: LastSeq %d, want %d", mid, m.LastSeq, len(evs))
			}
			total += len(evs)
			return err
		})
	}
	if total != workers*each*2 {
		t.Errorf("events in all: got %d, want %d", total, workers*each*2)
	}
}

// TestMeetingWritesSerialise runs read-modify-write transactions on one meeting from
// several goroutines: none is lost, because a write transaction's GetMeeting holds the
// meeting until it ends.
func testMeetingWritesSerialise(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	const workers, each = 6, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for range workers {
		wg.Go(func() {
			for range each {
				err := e.try(func(ctx context.Context, tx agenda.Tx) error {
					m, err := tx.GetMeeting(ctx, e.meeting.ID)
					if err != nil {
						return err
					}
					// A counter kept in the location, read and written back.
					n := len(m.Location)
					m.Location += "x"
					time.Sleep(time.Millisecond)
					if len(m.Location) != n+1 {
						return fmt.Errorf("impossible")
					}
					return tx.UpdateMeeting(ctx, m)
				})
				if err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("writes failed: %v", failures)
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		m, err := tx.GetMeeting(ctx, e.meeting.ID)
		if got := len(m.Location); got != workers*each {
			t.Errorf("updates kept: got %d, want %d", got, workers*each)
		}
		return err
	})
}
