package minutes_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the minutes are shown in Europe/London time, wherever the tests run

	"github.com/chamber/chamber/agenda"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites the file with -update.
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
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (run with -update if the change is intended):\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant: %q\ngot:  %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// fakeClock is a clock that moves only when told to.
type fakeClock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a Publisher that keeps what it is given and checks that each event has
// committed to the journal before it arrives.
type recorder struct {
	agenda *agenda.Service

	mu          sync.Mutex // guards events, uncommitted
	events      []agenda.Event
	uncommitted []string
}

func (r *recorder) Publish(ctx context.Context, events ...agenda.Event) {
	var problems []string
	for _, e := range events {
		got, err := r.agenda.JournalAfter(ctx, e.MeetingID, e.Seq-1)
		if err != nil || len(got) == 0 || got[0].Seq != e.Seq || got[0].Type != e.Type || string(got[0].Data) != string(e.Data) {
			problems = append(problems, fmt.Sprintf("%s (seq %d) is not in the journal", e.Type, e.Seq))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
	r.uncommitted = append(r.uncommitted, problems...)
}

// take returns the events published since the last take.
func (r *recorder) take() []agenda.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func types(evs []agenda.Event) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

// key returns a fixed Ed25519 key derived from name.
func key(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("minutes test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// counterReader is deterministic "randomness": successive SHA-256 blocks of a counter.
type counterReader struct {
	mu sync.Mutex // guards n
	n  int
}

func (r *counterReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 0; i < len(p); i += 32 {
		r.n++
		sum := sha256.Sum256([]byte(fmt.Sprint("random ", r.n)))
		copy(p[i:], sum[:])
	}
	return len(p), nil
}
