package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

func TestMigrateAndStatus(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		st, err := migrations.StatusOf(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 {
			t.Fatal("no migrations listed")
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %s not applied after Open", s.Name)
			}
		}
		// Running the migrations again changes nothing.
		if err := migrations.Migrate(ctx, db, nil); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		// The portable types behave the same on both dialects: an id is assigned, a
		// DATETIME comes back as the same instant, a BOOLEAN as a bool.
		at := time.Date(2026, 11, 22, 18, 30, 0, 123456000, time.UTC)
		var id int64
		q := db.Rebind(`INSERT INTO users (email, name, is_admin, created_at) VALUES (?, ?, ?, ?) RETURNING id`)
		if err := db.QueryRowContext(ctx, q, "a@example.org", "A", true, at).Scan(&id); err != nil {
			t.Fatal(err)
		}
		var got struct {
			CreatedAt time.Time `db:"created_at"`
			IsAdmin   bool      `db:"is_admin"`
		}
		if err := db.Reader.GetContext(ctx, &got, db.Reader.Rebind(`SELECT created_at, is_admin FROM users WHERE id = ?`), id); err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(at) || !got.IsAdmin {
			t.Errorf("read back %v %v, want %v true", got.CreatedAt, got.IsAdmin, at)
		}
	})
}

func TestStatusBeforeMigrate(t *testing.T) {
	ctx := context.Background()
	cfg := dbtest.Config(t, migrations.SQLite)
	db, err := migrations.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := migrations.StatusOf(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Applied {
			t.Errorf("migration %s applied on an empty database", s.Name)
		}
	}
}

func TestConnectRejectsOtherURLs(t *testing.T) {
	_, err := migrations.Connect(context.Background(), migrations.Config{URL: "mysql://root:secret@localhost/x"})
	if err == nil {
		t.Fatal("want an error for a mysql URL")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Errorf("error %q leaks the password", got)
	}
}

func TestSecret(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a, err := db.Secret(ctx, "room-token-key", 32)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.Secret(ctx, "room-token-key", 32)
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.Secret(ctx, "other", 32)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 32 || string(a) != string(b) {
			t.Errorf("the same secret twice: got %x and %x", a, b)
		}
		if string(a) == string(c) {
			t.Errorf("two secrets are equal")
		}
		if _, err := db.Secret(ctx, "room-token-key", 16); err == nil {
			t.Errorf("asking for a secret at another size: want an error")
		}
	})
}

// TestPreparedStatements runs fixed statements as kept prepared statements: each is
// prepared once, whatever its arguments, and answers as it would unprepared; one that
// does not prepare fails as it would unprepared, and is not kept.
func TestPreparedStatements(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		for i, u := range []int64{1, 2, 3} {
			if _, err := db.ExecContext(ctx, db.Rebind(`INSERT INTO users (id, email, name, created_at) VALUES (?, ?, ?, ?)`),
				u, fmt.Sprintf("u%d@example.org", u), fmt.Sprint("User ", i), time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		for _, ids := range [][]int64{{1, 3}, {2}, {1, 2, 3, 4}} {
			var got []int64
			if err := migrations.SelectIn(ctx, db, &got, `SELECT id FROM users WHERE id IN (?) ORDER BY id`, ids); err != nil {
				t.Fatal(err)
			}
			want := slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id > 3 })
			if !slices.Equal(got, want) {
				t.Errorf("users %v: got %v, want %v", ids, got, want)
			}
			var names []string
			if err := db.SelectPrepared(ctx, &names, db.Rebind(`SELECT name FROM users WHERE id = ?`), ids[0]); err != nil || len(names) != 1 {
				t.Errorf("user %d on the writer: %v, %v", ids[0], names, err)
			}
		}
		if n := db.Kept(); n != 2 {
			t.Errorf("%d statements kept, want 2: each prepared once", n)
		}
		var none []int64
		if err := db.ReadPrepared(ctx, &none, `SELECT no_such_column FROM users`); err == nil {
			t.Error("a statement naming a column that does not exist ran")
		}
		if n := db.Kept(); n != 2 {
			t.Errorf("%d statements kept after one that does not prepare, want still 2", n)
		}
	})
}

// TestIdleConnectionsKept checks that the PostgreSQL pool keeps the connections a burst
// opened through a pause, unless told to close idle ones, and then closes them.
func TestIdleConnectionsKept(t *testing.T) {
	const burst = 4
	// open has burst connections in use at once, then returns them to the pool.
	open := func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		conns := make([]*sql.Conn, burst)
		for i := range conns {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.PingContext(ctx); err != nil {
				t.Fatal(err)
			}
			conns[i] = c
		}
		for _, c := range conns {
			c.Close()
		}
	}
	// The pool's cleaner looks at idle connections once a second at most often.
	const pause = 2500 * time.Millisecond
	for _, tc := range []struct {
		name      string
		idleClose time.Duration
		kept      bool
	}{
		{"kept by default", 0, true},
		{"closed when told", 300 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := dbtest.Config(t, migrations.Postgres)
			cfg.IdleClose = tc.idleClose
			db, err := migrations.Connect(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			open(t, db)
			if st := db.Stats(); st.Idle < burst {
				t.Fatalf("after the burst: %d idle connections, want %d", st.Idle, burst)
			}
			time.Sleep(pause)
			st := db.Stats()
			if tc.kept && (st.Idle < burst || st.MaxIdleTimeClosed != 0) {
				t.Errorf("after a pause of %s: %d idle, %d closed as idle; want all %d kept", pause, st.Idle, st.MaxIdleTimeClosed, burst)
			}
			if !tc.kept && (st.Idle != 0 || st.MaxIdleTimeClosed < burst) {
				t.Errorf("after a pause of %s: %d idle, %d closed as idle; want all %d closed", pause, st.Idle, st.MaxIdleTimeClosed, burst)
			}
		})
	}
}
