package voting

import (
	"errors"
	"reflect"
	"testing"
)

// testCount is a show of hands in poll 3 of meeting 7 (item 31), counted by clerk 9.
func testCount() Count {
	return Count{Meeting: 7, Item: 31, Poll: 3, Recorder: 9, CountedAt: t0.Add(90e9),
		Challenge: fill("challenge 3"), Nonce: fill("count nonce 1"),
		Counts: []OptionCount{{"for", 5}, {"against", 3}, {"abstain", 1}}}
}

// TestCountGolden fixes the bytes of a count and of its log entry (BALLOT.md).
func TestCountGolden(t *testing.T) {
	c := testCount()
	data, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "entry/count-bytes.hex", []byte(hexLines(data)))
	if want := countFixedLen + 3*(1+4) + len("for") + len("against") + len("abstain"); len(data) != want {
		t.Errorf("count of %d bytes, want %d", len(data), want)
	}
	got, err := ParseCount(data)
	if err != nil {
		t.Fatalf("ParseCount: %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("ParseCount(MarshalBinary()):\ngot  %+v\nwant %+v", got, c)
	}
	sc, err := SignCount(c, testKey("clerk-9"))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := Entry{Count: &sc}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "entry/count.hex", []byte(hexLines(leaf)))
	e, err := ParseEntry(leaf)
	if err != nil {
		t.Fatalf("ParseEntry: %v", err)
	}
	if e.Kind() != EntryCount || e.Poll() != 3 || !reflect.DeepEqual(*e.Count, sc) {
		t.Errorf("ParseEntry: got %+v", e)
	}
	if opened, err := sc.Open(); err != nil || opened.Total() != 9 || opened.Of("against") != 3 {
		t.Errorf("Open: %+v, %v", opened, err)
	}
	bad := sc
	bad.Bytes = append([]byte(nil), sc.Bytes...)
	bad.Bytes[len(bad.Bytes)-1]++ // one more abstention
	if _, err := bad.Open(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("a changed count: got %v, want ErrBadSignature", err)
	}
}

func TestParseCountRefuses(t *testing.T) {
	c := testCount()
	good, _ := c.MarshalBinary()
	tests := []struct {
		name string
		data func() []byte
	}{
		{"ballot tag", func() []byte { b := append([]byte(nil), good...); copy(b, BallotTag); return b }},
		{"trailing byte", func() []byte { return append(append([]byte(nil), good...), 0) }},
		{"truncated", func() []byte { return good[:len(good)-1] }},
		{"zero recorder", func() []byte { b := append([]byte(nil), good...); clear(b[40:48]); return b }},
		{"no options", func() []byte { b := append([]byte(nil), good[:countFixedLen]...); b[countFixedLen-1] = 0; return b }},
		{"repeated option", func() []byte {
			d := testCount()
			d.Counts[1].Option = "for"
			e := encoder{b: append([]byte(nil), good[:countFixedLen]...)}
			for _, oc := range d.Counts {
				e.str8(oc.Option)
				e.u32(uint32(oc.Count))
			}
			return e.b
		}},
		{"count past 2^31-1", func() []byte {
			b := append([]byte(nil), good...)
			b[len(b)-4] = 0x80
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseCount(tc.data()); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseCount: got %v, want ErrMalformed", err)
			}
		})
	}
}
