package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// TestStore is the conformance suite: every part of agenda.Tx and the store's
// transactions, on one fresh database of each dialect. The parts share the database, so
// each makes its own council, people and meetings and looks only at those.
func TestStore(t *testing.T) {
	parts := []struct {
		name string
		fn   func(t *testing.T, db *migrations.DB)
	}{
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"CredentialsAtOnce", testCredentialsAtOnce},
		{"Links", testLinks},
		{"CouncilsAndPeople", testCouncilsAndPeople},
		{"Committees", testCommittees},
		{"Memberships", testMemberships},
		{"Meetings", testMeetings},
		{"ListMeetings", testListMeetings},
		{"Journal", testJournal},
		{"ConcurrentAppend", testConcurrentAppend},
		{"MeetingWritesSerialise", testMeetingWritesSerialise},
		{"Items", testItems},
		{"ApologiesAndSubstitutions", testApologiesAndSubstitutions},
		{"DeclarationsAndMotions", testDeclarationsAndMotions},
		{"Attendance", testAttendance},
		{"Speakers", testSpeakers},
		{"EmptyLists", testEmptyLists},
		{"UpdateCommitsAndRollsBack", testUpdateCommitsAndRollsBack},
		{"ViewIsReadOnly", testViewIsReadOnly},
		{"TimesRoundTripInUTCToTheMicrosecond", testTimesRoundTripInUTCToTheMicrosecond},
		{"UpdateRetriesDeadlocks", testUpdateRetriesDeadlocks},
	}
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		for _, p := range parts {
			t.Run(p.name, func(t *testing.T) { p.fn(t, db) })
		}
	})
}

// unknown is an id no row has.
const unknown = 999999

// envs numbers environments, so that their names do not collide in a shared database.
var envs atomic.Int64

// t0 has microseconds, which both databases keep.
var t0 = time.Date(2026, 3, 4, 18, 30, 0, 123456000, time.UTC)

// env is one store on a fresh database, with a council, a committee and a meeting.
type env struct {
	t         *testing.T
	db        *migrations.DB
	st        *sqlstore.Store
	user      agenda.User
	council   agenda.Council
	committee agenda.Committee
	meeting   agenda.Meeting
	n         int64
}

// name makes a name unique to this environment.
func (e *env) name(s string) string { return fmt.Sprintf("%s-%d", s, e.n) }

func newEnv(t *testing.T, db *migrations.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, st: sqlstore.New(db), n: envs.Add(1)}
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		e.user = agenda.User{Email: e.name("clerk") + "@example.org", Name: "Clerk", CreatedAt: t0}
		if err := tx.CreateUser(ctx, &e.user, "hash"); err != nil {
			return err
		}
		e.council = agenda.Council{Slug: e.name("north"), Name: "North Council", CreatedAt: t0}
		if err := tx.CreateCouncil(ctx, &e.council); err != nil {
			return err
		}
		p, _ := agenda.Preset("england")
		e.committee = agenda.Committee{CouncilID: e.council.ID, Slug: "planning", Name: "Planning", ProfileName: "england",
			Profile: p, CreatedAt: t0}
		if err := tx.CreateCommittee(ctx, &e.committee); err != nil {
			return err
		}
		e.meeting = agenda.Meeting{CommitteeID: e.committee.ID, Title: "Planning, March", StartsAt: t0.Add(24 * time.Hour),
			Status: agenda.Scheduled, Session: agenda.PublicSession, CreatedAt: t0, UpdatedAt: t0}
		return tx.CreateMeeting(ctx, &e.meeting)
	})
	return e
}

// update runs fn in a write transaction and fails the test on error.
func (e *env) update(fn func(ctx context.Context, tx agenda.Tx) error) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.Update(ctx, func(tx agenda.Tx) error { return fn(ctx, tx) }); err != nil {
		e.t.Fatalf("update: %v", err)
	}
}

// view runs fn in a read-only transaction and fails the test on error.
func (e *env) view(fn func(ctx context.Context, tx agenda.Tx) error) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.st.View(ctx, func(tx agenda.Tx) error { return fn(ctx, tx) }); err != nil {
		e.t.Fatalf("view: %v", err)
	}
}

// try runs fn in a write transaction and returns its error.
func (e *env) try(fn func(ctx context.Context, tx agenda.Tx) error) error {
	ctx := context.Background()
	return e.st.Update(ctx, func(tx agenda.Tx) error { return fn(ctx, tx) })
}

func wantErr(t *testing.T, what string, err, want error, msg string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got error %v, want %v", what, err, want)
		return
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Errorf("%s: got message %q, want it to contain %q", what, err.Error(), msg)
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, got, want)
	}
}

// isNull reports whether a column of one row is NULL in the database itself.
func (e *env) isNull(table, column string, id int64) bool {
	e.t.Helper()
	var null bool
	q := e.db.Rebind(`SELECT ` + column + ` IS NULL FROM ` + table + ` WHERE id = ?`)
	if err := e.db.QueryRowContext(context.Background(), q, id).Scan(&null); err != nil {
		e.t.Fatalf("read %s.%s: %v", table, column, err)
	}
	return null
}

func testUpdateCommitsAndRollsBack(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	boom := errors.New("boom")
	var uid int64
	err := e.try(func(ctx context.Context, tx agenda.Tx) error {
		u := agenda.User{Email: "gone@example.org", Name: "Gone", CreatedAt: t0}
		if err := tx.CreateUser(ctx, &u, ""); err != nil {
			return err
		}
		uid = u.ID
		if err := tx.AppendEvent(ctx, &agenda.Event{MeetingID: e.meeting.ID, Type: "x", At: t0}); err != nil {
			return err
		}
		// What was written is visible inside the transaction.
		if _, err := tx.GetUser(ctx, u.ID); err != nil {
			t.Errorf("user not visible in its own transaction: %v", err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the function's error", err)
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		if _, err := tx.GetUser(ctx, uid); !errors.Is(err, agenda.ErrNotFound) {
			t.Errorf("user after rollback: got %v, want not found", err)
		}
		if _, err := tx.GetUserByEmail(ctx, "gone@example.org"); !errors.Is(err, agenda.ErrNotFound) {
			t.Errorf("user by email after rollback: got %v, want not found", err)
		}
		m, err := tx.GetMeeting(ctx, e.meeting.ID)
		if err != nil {
			return err
		}
		if m.LastSeq != 0 {
			t.Errorf("last_seq after rollback: got %d, want 0", m.LastSeq)
		}
		evs, err := tx.Events(ctx, e.meeting.ID, 0, 10)
		if len(evs) != 0 {
			t.Errorf("events after rollback: got %d, want none", len(evs))
		}
		return err
	})

	// A panic rolls back too, and the panic goes on.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		e.st.Update(context.Background(), func(tx agenda.Tx) error {
			c := agenda.Council{Slug: e.name("panic"), Name: "Panic", CreatedAt: t0}
			if err := tx.CreateCouncil(context.Background(), &c); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		if hasCouncil(ctx, t, tx, e.name("panic")) {
			t.Error("a council created before a panic was kept")
		}
		return nil
	})

	// A nil return commits.
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		c := agenda.Council{Slug: e.name("kept"), Name: "Kept", CreatedAt: t0}
		return tx.CreateCouncil(ctx, &c)
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		if !hasCouncil(ctx, t, tx, e.name("kept")) {
			t.Error("a committed council is missing")
		}
		return nil
	})
}

func testViewIsReadOnly(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	ctx := context.Background()
	err := e.st.View(ctx, func(tx agenda.Tx) error {
		c := agenda.Council{Slug: e.name("sneaky"), Name: "Sneaky", CreatedAt: t0}
		return tx.CreateCouncil(ctx, &c)
	})
	if err == nil {
		t.Fatal("a write in View succeeded")
	}
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		if hasCouncil(ctx, t, tx, e.name("sneaky")) {
			t.Error("a council created in View was kept")
		}
		return nil
	})
}

func testTimesRoundTripInUTCToTheMicrosecond(t *testing.T, db *migrations.DB) {
	e := newEnv(t, db)
	paris := time.FixedZone("CET", 3600)
	in := time.Date(2026, 7, 1, 9, 15, 30, 987654321, paris) // nanoseconds beyond the microsecond
	want := time.Date(2026, 7, 1, 8, 15, 30, 987654000, time.UTC)
	var id int64
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		m := agenda.Meeting{CommitteeID: e.committee.ID, Title: "T", StartsAt: in, Status: agenda.Scheduled,
			Session: agenda.PublicSession, StartedAt: &in, CreatedAt: in, UpdatedAt: in}
		if err := tx.CreateMeeting(ctx, &m); err != nil {
			return err
		}
		id = m.ID
		if !m.StartsAt.Equal(want) || m.StartsAt.Location() != time.UTC {
			t.Errorf("created meeting's StartsAt: got %v, want %v", m.StartsAt, want)
		}
		return nil
	})
	e.view(func(ctx context.Context, tx agenda.Tx) error {
		m, err := tx.GetMeeting(ctx, id)
		if err != nil {
			return err
		}
		for name, got := range map[string]time.Time{"starts_at": m.StartsAt, "started_at": *m.StartedAt, "created_at": m.CreatedAt, "updated_at": m.UpdatedAt} {
			if got != want {
				t.Errorf("%s: got %v (%v), want %v", name, got, got.Location(), want)
			}
		}
		return nil
	})
}

// isNullKey is isNull for a table whose key is not id.
func (e *env) isNullKey(table, column, key string, value any) bool {
	e.t.Helper()
	var null bool
	q := e.db.Rebind(`SELECT ` + column + ` IS NULL FROM ` + table + ` WHERE ` + key + ` = ?`)
	if err := e.db.QueryRowContext(context.Background(), q, value).Scan(&null); err != nil {
		e.t.Fatalf("read %s.%s: %v", table, column, err)
	}
	return null
}

// TestUpdateRetriesDeadlocks makes two transactions lock two meetings in opposite
// orders. PostgreSQL aborts one of them as a deadlock; Update runs it again and both
// succeed. (SQLite has one writer at a time, so there is nothing to test there.)
func testUpdateRetriesDeadlocks(t *testing.T, db *migrations.DB) {
	if db.Dialect != migrations.Postgres {
		t.Skip("SQLite has one writer at a time")
	}
	e := newEnv(t, db)
	var other agenda.Meeting
	e.update(func(ctx context.Context, tx agenda.Tx) error {
		other = e.meeting
		other.ID = 0
		return tx.CreateMeeting(ctx, &other)
	})
	var attempts atomic.Int32
	var wg sync.WaitGroup
	firstLocked := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	var once [2]sync.Once
	errs := make([]error, 2)
	ids := [2][2]int64{{e.meeting.ID, other.ID}, {other.ID, e.meeting.ID}}
	for w := range 2 {
		wg.Go(func() {
			errs[w] = e.try(func(ctx context.Context, tx agenda.Tx) error {
				attempts.Add(1)
				if _, err := tx.GetMeeting(ctx, ids[w][0]); err != nil {
					return err
				}
				once[w].Do(func() { close(firstLocked[w]) })
				<-firstLocked[1-w]
				_, err := tx.GetMeeting(ctx, ids[w][1])
				return err
			})
		})
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	if got := attempts.Load(); got != 3 {
		t.Errorf("attempts: got %d, want 3 (one writer retried once)", got)
	}
}

// hasCouncil reports whether a council with the slug exists.
func hasCouncil(ctx context.Context, t *testing.T, tx agenda.Tx, slug string) bool {
	t.Helper()
	cs, err := tx.ListCouncils(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Slug == slug {
			return true
		}
	}
	return false
}
