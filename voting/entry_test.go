package voting

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testOpening is a poll as the tests open it: meeting 7, item 31, poll 3.
func testOpening() PollOpening {
	return PollOpening{
		ID: 3, Meeting: 7, Item: 31, Motion: 12,
		Question:  "That planning permission be granted — subject to conditions",
		Options:   DefaultOptions(),
		Method:    Majority,
		Named:     true,
		Challenge: fill("challenge 3"),
		OpenedAt:  t0,
		ClosesAt:  t0.Add(5 * time.Minute),
		OpenedBy:  9,

		Membership:     12,
		QuorumRequired: 3,
		PresentAtOpen:  10,
		CastingVote:    true,
		Presiding:      40,
		Eligible:       []int64{40, 41, 42, 43, 44},
		Overrides:      []Override{{Voter: 44, By: 40, Reason: "left the room for two minutes during the officer's presentation"}},
	}
}

func testClosing() PollClosing {
	return PollClosing{
		Meeting: 7, Item: 31, Poll: 3,
		ClosedAt: t0.Add(2 * time.Minute), ClosedBy: 40,
		PresentAtClose: 9,
		Ballots:        6,
		Counts:         []OptionCount{{"for", 2}, {"against", 2}, {"abstain", 1}},
		Outcome:        OutcomeTied,
	}
}

// testDeclined is the declaration that no casting vote will come in the tied poll of
// testClosing: the clerk records that the chair, presiding, has left.
func testDeclined() CastingDeclined {
	return CastingDeclined{
		Meeting: 7, Item: 31, Poll: 3,
		DeclaredAt: t0.Add(4 * time.Minute), DeclaredBy: 9, Presiding: 40,
		Reason: "The chair left the meeting after the vote — no casting vote was given.",
	}
}

func testEntries(t *testing.T) map[string]Entry {
	op, cl, dc := testOpening(), testClosing(), testDeclined()
	sb, err := SignBallot(vectors[0].ballot, testKey("voter-42"))
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Entry{"opening": {Opening: &op}, "closing": {Closing: &cl}, "ballot": {Ballot: &sb},
		"no-casting-vote": {Declined: &dc}}
}

func TestEntryGolden(t *testing.T) {
	for name, e := range testEntries(t) {
		t.Run(name, func(t *testing.T) {
			data, err := e.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			golden(t, "entry/"+name+".hex", []byte(hexLines(data)))
			got, err := ParseEntry(data)
			if err != nil {
				t.Fatalf("ParseEntry: %v", err)
			}
			if got.Kind() != e.Kind() {
				t.Errorf("kind: got %v, want %v", got.Kind(), e.Kind())
			}
			if got.Poll() != 3 {
				t.Errorf("poll: got %d, want 3", got.Poll())
			}
			want := e
			if e.Opening != nil {
				op := *e.Opening
				op.OpenedAt, op.ClosesAt = op.OpenedAt.UTC(), op.ClosesAt.UTC()
				want.Opening = &op
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseEntry(Encode()):\ngot  %+v\nwant %+v", got, want)
			}
		})
	}
}

// hexLines renders bytes as hex, 32 bytes a line.
func hexLines(b []byte) string {
	var s strings.Builder
	for len(b) > 0 {
		n := min(32, len(b))
		s.WriteString(hex.EncodeToString(b[:n]) + "\n")
		b = b[n:]
	}
	return s.String()
}

func TestEncodeEntryRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*PollOpening, *PollClosing)
		// which entry must be refused
		opening bool
	}{
		{"unknown method", func(o *PollOpening, _ *PollClosing) { o.Method = "acclaim" }, true},
		{"motion without against", func(o *PollOpening, _ *PollClosing) { o.Options = []string{"for", "abstain"} }, true},
		{"repeated option", func(o *PollOpening, _ *PollClosing) { o.Options = []string{"for", "against", "for"} }, true},
		{"extra option in a motion", func(o *PollOpening, _ *PollClosing) { o.Options = []string{"for", "against", "maybe"} }, true},
		{"unsorted eligible", func(o *PollOpening, _ *PollClosing) { o.Eligible = []int64{42, 41} }, true},
		{"repeated eligible", func(o *PollOpening, _ *PollClosing) { o.Eligible = []int64{41, 41} }, true},
		{"zero eligible id", func(o *PollOpening, _ *PollClosing) { o.Eligible = []int64{0, 41} }, true},
		{"override without reason", func(o *PollOpening, _ *PollClosing) { o.Overrides[0].Reason = "" }, true},
		{"question not UTF-8", func(o *PollOpening, _ *PollClosing) { o.Question = "\xff" }, true},
		{"zero opening time", func(o *PollOpening, _ *PollClosing) { o.OpenedAt = time.Time{} }, true},
		{"negative count", func(o *PollOpening, _ *PollClosing) { o.PresentAtOpen = -1 }, true},
		{"zero poll id", func(o *PollOpening, _ *PollClosing) { o.ID = 0 }, true},
		{"casting and preponderant vote", func(o *PollOpening, _ *PollClosing) { o.PreponderantVote = true }, true},
		{"closing without time", func(_ *PollOpening, c *PollClosing) { c.ClosedAt = time.Time{} }, false},
		{"closing of poll 0", func(_ *PollOpening, c *PollClosing) { c.Poll = 0 }, false},
		{"closing with a bad outcome", func(_ *PollOpening, c *PollClosing) { c.Outcome = "Carried!" }, false},
		{"closing with a negative count", func(_ *PollOpening, c *PollClosing) { c.Counts[1].Count = -1 }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, cl := testOpening(), testClosing()
			tc.edit(&op, &cl)
			var err error
			if tc.opening {
				_, err = EncodeOpening(&op)
			} else {
				_, err = EncodeClosing(&cl)
			}
			if err == nil {
				t.Errorf("encode: got no error, want one")
			}
		})
	}
}

func TestParseEntryRefuses(t *testing.T) {
	entries := testEntries(t)
	enc := func(name string) []byte {
		b, err := entries[name].Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"unknown kind", append([]byte{0x04}, enc("closing")[1:]...)},
		{"ballot truncated", enc("ballot")[:100]},
		{"ballot with a trailing byte", append(enc("ballot"), 0)},
		{"ballot length too long", func() []byte { b := enc("ballot"); b[2]++; return b }()},
		{"ballot malformed inside", func() []byte { b := enc("ballot"); b[3] = 'C'; return b }()},
		{"opening truncated", enc("opening")[:50]},
		{"opening with a trailing byte", append(enc("opening"), 0)},
		{"opening with named = 2", func() []byte {
			b := enc("opening")
			// kind, 4 ids, method "majority", 3 options: named follows.
			off := 1 + 32 + 1 + len("majority") + 1 + 1 + 3 + 1 + 7 + 1 + 7
			if b[off] != 1 {
				t.Fatalf("named flag not at %d", off)
			}
			b[off] = 2
			return b
		}()},
		{"opening with an unknown tie-break", func() []byte {
			b := enc("opening")
			op := testOpening()
			op.CastingVote, op.PreponderantVote = false, true
			pre, err := EncodeOpening(&op)
			if err != nil {
				t.Fatal(err)
			}
			off := -1
			for i := range b {
				if b[i] != pre[i] {
					off = i
				}
			}
			if off < 0 || b[off] != 1 || pre[off] != 2 {
				t.Fatalf("tie-break byte not found")
			}
			b[off] = 3
			return b
		}()},
		{"closing truncated", enc("closing")[:20]},
		{"closing with a trailing byte", append(enc("closing"), 0)},
		{"no casting vote truncated", enc("no-casting-vote")[:40]},
		{"no casting vote with a trailing byte", append(enc("no-casting-vote"), 0)},
		{"no casting vote with a reason too long for its bytes", func() []byte {
			b := enc("no-casting-vote")
			b[1+6*8+1]++ // the reason's length, 2 bytes after the six ids and times
			return b
		}()},
		{"no casting vote with presiding 0", func() []byte {
			b := enc("no-casting-vote")
			clear(b[1+5*8 : 1+6*8])
			return b
		}()},
		{"no casting vote with an empty reason", func() []byte {
			b := enc("no-casting-vote")
			b = b[:1+6*8]
			return append(b, 0, 0)
		}()},
		{"no casting vote with a reason not UTF-8", func() []byte {
			b := enc("no-casting-vote")
			b[len(b)-1] = 0xff
			return b
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if e, err := ParseEntry(tc.data); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseEntry: got %+v, %v, want ErrMalformed", e, err)
			}
		})
	}
}

// TestOpeningTieBreak checks that an opening records how the rules break an equality.
func TestOpeningTieBreak(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		casting, preponderant bool
	}{{"none", false, false}, {"casting vote", true, false}, {"preponderant vote", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			op := testOpening()
			op.CastingVote, op.PreponderantVote = tc.casting, tc.preponderant
			data, err := EncodeOpening(&op)
			if err != nil {
				t.Fatal(err)
			}
			e, err := ParseEntry(data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*e.Opening, op) {
				t.Errorf("round trip:\ngot  %+v\nwant %+v", *e.Opening, op)
			}
		})
	}
}

// TestEncodeCastingDeclinedRefuses checks what a declaration of no casting vote must
// carry.
func TestEncodeCastingDeclinedRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*CastingDeclined)
	}{
		{"poll 0", func(d *CastingDeclined) { d.Poll = 0 }},
		{"declared by nobody", func(d *CastingDeclined) { d.DeclaredBy = 0 }},
		{"nobody presiding", func(d *CastingDeclined) { d.Presiding = 0 }},
		{"no time", func(d *CastingDeclined) { d.DeclaredAt = time.Time{} }},
		{"no reason", func(d *CastingDeclined) { d.Reason = "" }},
		{"reason too long", func(d *CastingDeclined) { d.Reason = strings.Repeat("é", MaxDeclineReason+1) }},
		{"reason not UTF-8", func(d *CastingDeclined) { d.Reason = "left\xff" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := testDeclined()
			tc.edit(&d)
			if _, err := EncodeCastingDeclined(&d); !errors.Is(err, ErrMalformed) {
				t.Errorf("EncodeCastingDeclined: got %v, want ErrMalformed", err)
			}
		})
	}
	// The limit counts characters: a Welsh reason as long as the form allows, in
	// letters of two bytes each, is recorded whole.
	d := testDeclined()
	d.Reason = strings.Repeat("ŵ", MaxDeclineReason)
	leaf, err := EncodeCastingDeclined(&d)
	if err != nil {
		t.Fatalf("a reason of %d characters: %v", MaxDeclineReason, err)
	}
	e, err := ParseEntry(leaf)
	if err != nil || e.Declined == nil || e.Declined.Reason != d.Reason {
		t.Errorf("the reason of %d characters read back: %+v, %v", MaxDeclineReason, e.Declined, err)
	}
}

func FuzzParseEntry(f *testing.F) {
	op, cl, dc := testOpening(), testClosing(), testDeclined()
	for _, e := range []Entry{{Opening: &op}, {Closing: &cl}, {Declined: &dc}} {
		data, err := e.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	for _, v := range vectors {
		sb, err := SignBallot(v.ballot, testKey(v.signer))
		if err != nil {
			f.Fatal(err)
		}
		data, err := EncodeBallotEntry(sb)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte{byte(EntryOpening)})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseEntry: error %v does not wrap ErrMalformed", err)
			}
			return
		}
		again, err := e.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed entry: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("re-encoding differs:\ngot  %x\nwant %x", again, data)
		}
		_ = fmt.Sprint(e.Kind())
	})
}
