package sqlstore

import (
	"context"
	"slices"
	"testing"

	"github.com/lib/pq"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// TestTextArray sends PostgreSQL array literals built by textArray and reads them
// back: every element comes back as itself, the awkward ones included.
func TestTextArray(t *testing.T) {
	db := dbtest.Open(t, migrations.Postgres)
	for _, elems := range [][]string{
		{},
		{"x"},
		{"", "NULL", "null", "Null", "NULLS", "a,b", "{x}", "}", `a"b`, `a\b`, `\`, `"`, " lead", "trail ", "in side",
			"tab\there", "line\nbreak", "é ŵ", "2026-03-04 18:30:00.5+00:00"},
		{"qmqSO4Fq+4nE/3q1W0n1KJpy2b8u2yN8tqUbGmYj2x8=", "00ff", "ZmFjdA=="},
	} {
		lit := textArray(elems)
		var got pq.StringArray
		if err := db.GetContext(context.Background(), &got, `SELECT $1::text[]`, lit); err != nil {
			t.Fatalf("%q: %v", lit, err)
		}
		if !slices.Equal([]string(got), elems) && !(len(got) == 0 && len(elems) == 0) {
			t.Errorf("%q read back as %q, want %q", lit, []string(got), elems)
		}
	}
}
