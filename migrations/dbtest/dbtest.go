// Package dbtest gives tests a fresh, migrated database of each dialect.
//
// SQLite databases are files in the test's temporary directory. PostgreSQL databases are
// fresh schemas in the server named by CHAMBER_TEST_DATABASE_URL, dropped when the test
// ends. Without that variable PostgreSQL tests are skipped, unless
// CHAMBER_TEST_REQUIRE_SERVICES=1, which turns the skip into a failure.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/migrations"
)

// Dialects lists the dialects every store is tested against.
var Dialects = []migrations.Dialect{migrations.SQLite, migrations.Postgres}

// Each runs fn as a subtest once per dialect, each with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *migrations.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated database of dialect d, closed when the test ends.
func Open(t testing.TB, d migrations.Dialect) *migrations.DB {
	t.Helper()
	cfg := Config(t, d)
	db, err := migrations.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s test database: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Config returns the configuration of a fresh, empty database of dialect d: a file path
// for SQLite, a URL whose search_path is a new schema for PostgreSQL. The schema is
// dropped when the test ends.
func Config(t testing.TB, d migrations.Dialect) migrations.Config {
	t.Helper()
	switch d {
	case migrations.SQLite:
		return migrations.Config{SQLitePath: filepath.Join(t.TempDir(), "chamber.db")}
	case migrations.Postgres:
		return migrations.Config{URL: PostgresURL(t)}
	}
	t.Fatalf("unknown dialect %q", d)
	return migrations.Config{}
}

// PostgresURL returns the URL of a fresh, empty PostgreSQL schema, dropped at the end of
// the test; it skips (or fails, when services are required) without a test server.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CHAMBER_TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CHAMBER_TEST_DATABASE_URL is not set and CHAMBER_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("PostgreSQL test: set CHAMBER_TEST_DATABASE_URL to run it")
	}
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("open test PostgreSQL: %v", err)
	}
	defer admin.Close()
	schema := "test_" + randomHex(8)
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sqlx.Open("postgres", base)
		if err != nil {
			t.Errorf("drop test schema: %v", err)
			return
		}
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("CHAMBER_TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// RedisURL returns CHAMBER_TEST_REDIS_URL, skipping (or failing, when services are
// required) when it is not set. Tests that share the server must use their own keys.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("CHAMBER_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("CHAMBER_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatal("CHAMBER_TEST_REDIS_URL is not set and CHAMBER_TEST_REQUIRE_SERVICES=1")
		}
		t.Skip("Redis test: set CHAMBER_TEST_REDIS_URL to run it")
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
