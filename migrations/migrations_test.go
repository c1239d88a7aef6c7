package migrations_test

import (
	"context"
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
