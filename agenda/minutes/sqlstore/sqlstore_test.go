package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/minutes/sqlstore"
	agendasql "github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// env is a database with a council, a committee and meetings to keep minutes of.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *migrations.DB
	store  *sqlstore.Store
	agenda *agenda.Service
	clerk  agenda.Actor
	cm     agenda.Committee
	n      int
}

func newEnv(t *testing.T, db *migrations.DB) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, db: db, store: sqlstore.New(db)}
	e.agenda = agenda.NewService(agendasql.New(db), agenda.Options{Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	u, err := e.agenda.CreateAdmin(ctx, "admin@example.org", "Ada Admin", "correct horse battery")
	e.must(err)
	admin, err := e.agenda.Actor(ctx, u.ID)
	e.must(err)
	c, err := e.agenda.CreateCouncil(ctx, admin, agenda.CouncilInput{Name: "Northshire County Council"})
	e.must(err)
	p, err := e.agenda.AddPerson(ctx, admin, c.ID, agenda.PersonInput{Name: "Clara Clerk", Email: "clara@example.org", Role: agenda.RoleClerk})
	e.must(err)
	e.clerk, err = e.agenda.Actor(ctx, p.UserID)
	e.must(err)
	e.cm, err = e.agenda.CreateCommittee(ctx, e.clerk, c.ID, agenda.CommitteeInput{Name: "Planning Committee"})
	e.must(err)
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) meeting() agenda.Meeting {
	e.t.Helper()
	e.n++
	m, err := e.agenda.CreateMeeting(e.ctx, e.clerk, agenda.MeetingInput{CommitteeID: e.cm.ID, Title: fmt.Sprint("Meeting ", e.n),
		StartsAt: time.Date(2026, 5, e.n, 17, 30, 0, 0, time.UTC)})
	e.must(err)
	return m
}

func (e *env) update(fn func(tx minutes.Tx) error) error {
	return e.store.Update(e.ctx, fn)
}

func (e *env) read(meetingID int64, version int) (minutes.Minutes, error) {
	var m minutes.Minutes
	err := e.store.View(e.ctx, func(tx minutes.Tx) error {
		var err error
		m, err = tx.Minutes(e.ctx, meetingID, version)
		return err
	})
	return m, err
}

// draft is a small version 1 of a meeting's minutes, with a time that needs the
// microseconds kept.
func (e *env) draft(m agenda.Meeting) *minutes.Minutes {
	at := time.Date(2026, 5, 7, 9, 0, 0, 123456000, time.FixedZone("BST", 3600))
	return &minutes.Minutes{
		Header: minutes.Header{MeetingID: m.ID, Version: 1, Status: minutes.Draft,
			Drafted: minutes.Stamp{By: minutes.Person{ID: e.clerk.UserID, Name: "Clara Clerk"}, At: at}},
		View: minutes.FullView,
		Document: minutes.Document{Meeting: minutes.Meeting{ID: m.ID, Title: m.Title}, Zone: "Europe/London",
			Items: []minutes.Item{{ID: 1, Number: "1", Title: "Apologies", Notes: "None ŵ.", Speakers: []minutes.Speaker{}, Motions: []minutes.Motion{}, Votes: []minutes.Vote{}}}},
	}
}

func same(t *testing.T, what string, got, want minutes.Minutes) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("%s:\ngot  %s\nwant %s", what, g, w)
	}
}

// TestStore is the store's conformance suite, on both databases.
func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		e := newEnv(t, db)
		ctx := e.ctx

		t.Run("Lifecycle", func(t *testing.T) {
			m := e.meeting()
			if _, err := e.read(m.ID, 0); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("minutes before any: %v, want ErrNotFound", err)
			}
			d := e.draft(m)
			e.must(e.update(func(tx minutes.Tx) error { return tx.CreateMinutes(ctx, d) }))
			got, err := e.read(m.ID, 0)
			e.must(err)
			want := *d
			want.Drafted.At = d.Drafted.At.UTC()
			same(t, "draft read back", got, want)

			err = e.update(func(tx minutes.Tx) error { return tx.CreateMinutes(ctx, e.draft(m)) })
			if !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("a second version 1: %v, want ErrConflict", err)
			}
			missing := e.draft(agenda.Meeting{ID: 999999})
			if err := e.update(func(tx minutes.Tx) error { return tx.CreateMinutes(ctx, missing) }); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("minutes of no meeting: %v, want ErrNotFound", err)
			}

			got.Status = minutes.Approved
			got.Approval = &minutes.Approval{Stamp: minutes.Stamp{By: minutes.Person{ID: e.clerk.UserID, Name: "Clara Clerk"}, At: time.Date(2026, 6, 3, 17, 40, 0, 0, time.UTC)},
				Meeting: minutes.MeetingRef{ID: m.ID, Title: m.Title}}
			got.Items[0].Notes = "Edited."
			e.must(e.update(func(tx minutes.Tx) error { return tx.UpdateMinutes(ctx, &got) }))
			again, err := e.read(m.ID, 1)
			e.must(err)
			same(t, "approved minutes read back", again, got)

			nope := got
			nope.Version = 7
			if err := e.update(func(tx minutes.Tx) error { return tx.UpdateMinutes(ctx, &nope) }); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("update of no version: %v, want ErrNotFound", err)
			}

			got.Status = minutes.Published
			got.Published = &minutes.Stamp{By: got.Drafted.By, At: time.Date(2026, 6, 4, 10, 0, 0, 0, time.UTC)}
			e.must(e.update(func(tx minutes.Tx) error { return tx.UpdateMinutes(ctx, &got) }))
			got.Items[0].Notes = "Changed after publication."
			if err := e.update(func(tx minutes.Tx) error { return tx.UpdateMinutes(ctx, &got) }); !errors.Is(err, minutes.ErrConflict) {
				t.Errorf("update of published minutes: %v, want ErrConflict", err)
			}

			v2 := got
			v2.Version = 2
			v2.Correction = &minutes.Correction{Supersedes: 1, Reason: "typo", Summary: "Item 1 notes: 1 line added, 1 line removed.",
				Changes: []minutes.Change{{ItemID: 1, Number: "1", Field: "notes", Before: "Edited.", After: "Changed after publication.", Added: 1, Removed: 1}}}
			e.must(e.update(func(tx minutes.Tx) error { return tx.CreateMinutes(ctx, &v2) }))
			latest, err := e.read(m.ID, 0)
			e.must(err)
			same(t, "latest version", latest, v2)
			v1, err := e.read(m.ID, 1)
			e.must(err)
			if v1.Items[0].Notes != "Edited." || v1.Status != minutes.Published {
				t.Errorf("version 1 changed: %q %s", v1.Items[0].Notes, v1.Status)
			}
			var hs []minutes.Header
			e.must(e.store.View(ctx, func(tx minutes.Tx) error {
				var err error
				hs, err = tx.Versions(ctx, m.ID)
				return err
			}))
			if len(hs) != 2 || hs[0].Version != 1 || hs[1].Version != 2 || hs[1].Correction == nil || hs[0].MeetingID != m.ID {
				t.Errorf("versions %+v", hs)
			}
			var none []minutes.Header
			e.must(e.store.View(ctx, func(tx minutes.Tx) error {
				var err error
				none, err = tx.Versions(ctx, 999999)
				return err
			}))
			if len(none) != 0 {
				t.Errorf("versions of no meeting: %v", none)
			}
		})

		t.Run("RollsBack", func(t *testing.T) {
			m := e.meeting()
			boom := errors.New("boom")
			err := e.update(func(tx minutes.Tx) error {
				if err := tx.CreateMinutes(ctx, e.draft(m)); err != nil {
					return err
				}
				ev := agenda.Event{MeetingID: m.ID, Type: minutes.EvMinutesDrafted, At: time.Now(), Data: []byte(`{}`)}
				if err := tx.AppendEvent(ctx, &ev); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("update: %v", err)
			}
			if _, err := e.read(m.ID, 0); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("a rolled back version was kept: %v", err)
			}
			evs, err := e.agenda.JournalAfter(ctx, m.ID, 0)
			e.must(err)
			for _, ev := range evs {
				if ev.Type == minutes.EvMinutesDrafted {
					t.Errorf("a rolled back event was kept")
				}
			}
		})

		t.Run("ViewIsReadOnly", func(t *testing.T) {
			m := e.meeting()
			err := e.store.View(ctx, func(tx minutes.Tx) error { return tx.CreateMinutes(ctx, e.draft(m)) })
			if err == nil {
				t.Errorf("a read-only transaction wrote minutes")
			}
		})

		t.Run("JournalContinues", func(t *testing.T) {
			m := e.meeting() // its creation is event 1
			var seqs []int64
			e.must(e.update(func(tx minutes.Tx) error {
				for _, typ := range []string{minutes.EvMinutesDrafted, minutes.EvMinutesEdited} {
					ev := agenda.Event{MeetingID: m.ID, Type: typ, At: time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC), ActorID: e.clerk.UserID, Private: true, Data: []byte(`{"version":1}`)}
					if err := tx.AppendEvent(ctx, &ev); err != nil {
						return err
					}
					seqs = append(seqs, ev.Seq)
				}
				return nil
			}))
			if len(seqs) != 2 || seqs[0] != 2 || seqs[1] != 3 {
				t.Errorf("sequence numbers %v, want [2 3]", seqs)
			}
			evs, err := e.agenda.JournalAfter(ctx, m.ID, 1)
			e.must(err)
			if len(evs) != 2 || evs[0].Type != minutes.EvMinutesDrafted || !evs[1].Private || evs[1].ActorID != e.clerk.UserID {
				t.Errorf("journal %+v", evs)
			}
			ev := agenda.Event{MeetingID: 999999, Type: minutes.EvMinutesDrafted, Data: []byte(`{}`)}
			if err := e.update(func(tx minutes.Tx) error { return tx.AppendEvent(ctx, &ev) }); !errors.Is(err, minutes.ErrNotFound) {
				t.Errorf("event of no meeting: %v, want ErrNotFound", err)
			}
		})

		t.Run("WritersQueue", func(t *testing.T) {
			// Writers that each create the first version unless it exists: they must
			// see each other's, not collide.
			m := e.meeting()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = e.update(func(tx minutes.Tx) error {
						_, err := tx.Minutes(ctx, m.ID, 0)
						if !errors.Is(err, minutes.ErrNotFound) {
							return err
						}
						time.Sleep(20 * time.Millisecond)
						return tx.CreateMinutes(ctx, e.draft(m))
					})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			}
		})
	})
}
