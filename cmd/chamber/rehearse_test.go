package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/chamber/chamber/agenda/minutes/minutestest"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// rehearsedAt is the fixed instant of the golden rehearsal: a Thursday evening.
var rehearsedAt = time.Date(2026, 11, 19, 18, 30, 0, 0, time.UTC)

// rehearseFixed rehearses the demo meeting in process on SQLite with a clock that moves
// only with the rehearsal,
// fixed randomness and a fixed log key, casting one ballot after another: the same
// meeting, byte for byte, on every run. It returns the output directory.
func rehearseFixed(t *testing.T) string {
	t.Helper()
	out := t.TempDir()
	clock := &stepClock{t: rehearsedAt}
	now := clock.Now
	var said bytes.Buffer
	r := &rehearsal{out: out, say: &said, rand: rand.NewChaCha8([32]byte{1}), now: now, clock: clock, sequential: true}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	err := rehearseInProcess(ctx, r, migrations.Config{DataDir: t.TempDir()}, func(c *serveConfig) {
		c.now, c.random, c.logSeed = now, rand.NewChaCha8([32]byte{2}), bytes.Repeat([]byte{7}, 32)
		c.publicURL = "http://meetings.cwm-derwen.example"
	})
	t.Logf("rehearsal:\n%s", said.String())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRehearsal rehearses the demo meeting and holds every export to its golden file:
// the full set as the clerk has it and the public set. It also checks what each
// export must be: the record verifies, the PDF's text is there, the Popolo JSON
// validates against the vote-event schema, the CSV agrees with it, the calendar parses,
// and exempt business stays out of the public's files.
func TestRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole meeting over real WebSockets")
	}
	out := rehearseFixed(t)
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, dir := range []string{"", "public"} {
		for _, name := range []string{"minutes.html", "minutes.md", "minutes.pdf", "votes.csv", "votes.popolo.json", "record.json"} {
			got := read(filepath.Join(dir, name))
			golden := filepath.Join(dir, name)
			if name == "minutes.pdf" {
				got, golden = []byte(minutestest.PDFText(t, got)), golden+".txt"
			}
			compareGolden(t, filepath.Join("testdata", "rehearsal", golden), got)
		}
	}
	compareGolden(t, filepath.Join("testdata", "rehearsal", "meetings.ics"), read("meetings.ics"))

	for _, dir := range []string{"", "public"} {
		rec, err := voting.ParseRecord(read(filepath.Join(dir, "record.json")))
		if err != nil {
			t.Fatal(err)
		}
		if problems := voting.VerifyRecord(rec); len(problems) > 0 {
			t.Errorf("%s record does not verify: %v", dir, problems)
		}
		minutestest.CSVAgreesWithPopolo(t, "rehearsal "+dir, read(filepath.Join(dir, "votes.csv")), read(filepath.Join(dir, "votes.popolo.json")))
	}

	text := strings.Join(strings.Fields(minutestest.PDFText(t, read("minutes.pdf"))), " ")
	for _, want := range []string{
		"Minutes of the Planning Committee", "Cwm Derwen County Borough Council", "Recorded vote",
		"RESOLVED", "gave a casting vote: for", "paragraph 16 of Schedule 12A",
		"The Head of Planning was authorised to take enforcement action.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}

	schema := minutestest.PopoloSchema(t)
	for _, dir := range []string{"", "public"} {
		var doc struct {
			VoteEvents []any `json:"vote_events"`
		}
		if err := jsonUnmarshalNumbers(read(filepath.Join(dir, "votes.popolo.json")), &doc); err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"": 5, "public": 4}[dir]; len(doc.VoteEvents) != want {
			t.Errorf("%q Popolo has %d vote events, want %d", dir, len(doc.VoteEvents), want)
		}
		for i, ev := range doc.VoteEvents {
			if err := schema.Validate(ev); err != nil {
				t.Errorf("%q vote event %d does not validate: %v", dir, i, err)
			}
		}
	}

	cal, err := ics.ParseCalendar(bytes.NewReader(read("meetings.ics")))
	if err != nil {
		t.Fatalf("the calendar does not parse: %v", err)
	}
	if n := len(cal.Events()); n != 2 {
		t.Errorf("the calendar has %d meetings, want the rehearsed one and the next", n)
	}

	// Exempt business reaches the clerk's files and none of the public's.
	for _, secret := range []string{"legal advice on the prospects of enforcement action", "authorised to take enforcement action"} {
		if !bytes.Contains(read("minutes.md"), []byte(secret)) {
			t.Errorf("the clerk's minutes lack %q", secret)
		}
		for _, name := range []string{"minutes.html", "minutes.md", "votes.csv", "votes.popolo.json", "record.json"} {
			if bytes.Contains(read(filepath.Join("public", name)), []byte(secret)) {
				t.Errorf("public/%s shows exempt business: %q", name, secret)
			}
		}
		if strings.Contains(minutestest.PDFText(t, read("public/minutes.pdf")), secret) {
			t.Errorf("the public PDF shows exempt business: %q", secret)
		}
	}
}

// compareGolden compares got with the file at path, or rewrites it with -update.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
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
		t.Fatalf("%v (run the tests with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if the change is meant)", path, i+1, g, w)
				return
			}
		}
	}
}

func jsonUnmarshalNumbers(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// TestRehearseVerifyExport is the clerk's first hour with Chamber, with the real
// binary on the embedded default: rehearse a meeting, check its record offline, then
// serve the same data and export the minutes: the server gives the same record, in
// full to an administrator and withholding exempt business from the public.
func TestRehearseVerifyExport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := chamberBinary(t)
	dir := t.TempDir()
	data, out, cfg := filepath.Join(dir, "data"), filepath.Join(dir, "out"), filepath.Join(dir, "config")
	said := cli(t, bin, cfg, "", "rehearse", "--data-dir", data, "--out", out)
	if !strings.Contains(said, "casting vote for") || !strings.Contains(said, "published") {
		t.Errorf("the rehearsal said:\n%s", said)
	}
	if got := cli(t, bin, cfg, "", "verify", filepath.Join(out, "record.json")); !strings.Contains(got, "OK: the record of meeting 1 holds.") {
		t.Errorf("chamber verify said:\n%s", got)
	}
	// A changed vote is caught.
	rec, err := os.ReadFile(filepath.Join(out, "record.json"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(rec, []byte(`"choice": "against"`), []byte(`"choice": "for"`), 1)
	if bytes.Equal(bad, rec) {
		t.Fatal("the record has no vote against to change")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := cliErr(bin, cfg, "", "verify", filepath.Join(dir, "bad.json")); err == nil {
		t.Errorf("chamber verify accepted a changed vote:\n%s", got)
	}

	cli(t, bin, cfg, "a long enough password\n", "admin", "create", "--data-dir", data,
		"--email", "admin@council.example", "--name", "Administrator", "--password-stdin")
	s := startServer(t, nil, "--data-dir", data)
	cli(t, bin, cfg, "a long enough password\n", "login", "--server", s.url, "--email", "admin@council.example", "--password-stdin")
	for _, tc := range []struct{ config, file string }{
		{cfg, "record.json"},
		{filepath.Join(dir, "nobody"), filepath.Join("public", "record.json")},
	} {
		exported := filepath.Join(dir, "exported.json")
		cli(t, bin, tc.config, "", "minutes", "export", "1", "--format", "record", "--server", s.url, "--out", exported)
		got, err := os.ReadFile(exported)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(out, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("chamber minutes export gave another record than the rehearsal's %s (%d bytes, want %d)", tc.file, len(got), len(want))
		}
	}
}
