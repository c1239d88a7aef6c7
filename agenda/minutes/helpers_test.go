package minutes_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the minutes are shown in Europe/London time, wherever the tests run
	"unicode/utf16"

	"github.com/ledongthuc/pdf"

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

// pdfText extracts the text of a PDF, a line per text object, pages separated by a
// form feed. It reads the PDF with github.com/ledongthuc/pdf and decodes each font's
// ToUnicode CMap itself, in full: the library's own decoding of a CMap range only
// works within 256 codes, which the Unicode fonts in our PDFs exceed.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read PDF: %v", err)
	}
	var out strings.Builder
	for n := 1; n <= r.NumPage(); n++ {
		if n > 1 {
			out.WriteString("\f\n")
		}
		page := r.Page(n)
		cmaps := map[string]*toUnicode{}
		fonts := page.Resources().Key("Font")
		for _, name := range fonts.Keys() {
			cmaps[name] = readToUnicode(fonts.Key(name).Key("ToUnicode"), fonts.Key(name))
		}
		var cur *toUnicode
		var line strings.Builder
		pdf.Interpret(page.V.Key("Contents"), func(stk *pdf.Stack, op string) {
			args := make([]pdf.Value, stk.Len())
			for i := len(args) - 1; i >= 0; i-- {
				args[i] = stk.Pop()
			}
			switch op {
			case "Tf":
				cur = cmaps[args[0].Name()]
			case "Tj":
				line.WriteString(cur.decode(args[0].RawString()))
			case "TJ":
				for i := 0; i < args[0].Len(); i++ {
					if x := args[0].Index(i); x.Kind() == pdf.String {
						line.WriteString(cur.decode(x.RawString()))
					}
				}
			case "ET":
				if s := strings.TrimSpace(line.String()); s != "" {
					out.WriteString(s)
					out.WriteByte('\n')
				}
				line.Reset()
			}
		})
	}
	return out.String()
}

// toUnicode is a font's ToUnicode CMap: two-byte codes to text.
type toUnicode struct {
	chars  map[uint16][]uint16
	ranges []cmapRange
}

type cmapRange struct {
	lo, hi uint16
	dst    []uint16 // UTF-16 of the first code's text
}

// readToUnicode reads a ToUnicode CMap; scratch is any dictionary, which stands in for
// the dictionaries the CMap's PostScript makes (the library's Interpret wants one).
func readToUnicode(v, scratch pdf.Value) *toUnicode {
	m := &toUnicode{chars: map[uint16][]uint16{}}
	if v.Kind() != pdf.Stream {
		return nil
	}
	code := func(s string) uint16 {
		if len(s) == 1 {
			return uint16(s[0])
		}
		return binary.BigEndian.Uint16([]byte(s[len(s)-2:]))
	}
	utf := func(s string) []uint16 {
		var u []uint16
		for i := 0; i+1 < len(s); i += 2 {
			u = append(u, binary.BigEndian.Uint16([]byte(s[i:i+2])))
		}
		return u
	}
	n := 0
	pdf.Interpret(v, func(stk *pdf.Stack, op string) {
		switch op {
		case "findresource":
			stk.Pop()
			stk.Pop()
			stk.Push(scratch)
		case "begincmap":
			stk.Push(scratch)
		case "endcmap":
			stk.Pop()
		case "defineresource":
			stk.Pop()
			val := stk.Pop()
			stk.Pop()
			stk.Push(val)
		case "begincodespacerange", "beginbfchar", "beginbfrange":
			n = int(stk.Pop().Int64())
		case "endcodespacerange":
			for i := 0; i < n; i++ {
				stk.Pop()
				stk.Pop()
			}
		case "endbfchar":
			for i := 0; i < n; i++ {
				dst, src := stk.Pop().RawString(), stk.Pop().RawString()
				m.chars[code(src)] = utf(dst)
			}
		case "endbfrange":
			for i := 0; i < n; i++ {
				dst, hi, lo := stk.Pop(), stk.Pop().RawString(), stk.Pop().RawString()
				if dst.Kind() == pdf.String {
					m.ranges = append(m.ranges, cmapRange{lo: code(lo), hi: code(hi), dst: utf(dst.RawString())})
				}
			}
		}
	})
	return m
}

func (m *toUnicode) decode(raw string) string {
	if m == nil {
		return raw
	}
	var u []uint16
	for i := 0; i+1 < len(raw); i += 2 {
		c := binary.BigEndian.Uint16([]byte(raw[i : i+2]))
		if d, ok := m.chars[c]; ok {
			u = append(u, d...)
			continue
		}
		for _, r := range m.ranges {
			if r.lo <= c && c <= r.hi && len(r.dst) > 0 {
				d := append([]uint16(nil), r.dst...)
				d[len(d)-1] += c - r.lo
				u = append(u, d...)
				break
			}
		}
	}
	return string(utf16.Decode(u))
}
