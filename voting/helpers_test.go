package voting

import (
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testKey returns a fixed Ed25519 key derived from name.
func testKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("chamber test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// fill returns 32 bytes derived from name.
func fill(name string) [32]byte { return sha256.Sum256([]byte(name)) }

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC)

// golden compares got with the golden file testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s changed:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
