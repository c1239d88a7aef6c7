package main

import (
	"crypto/sha256"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/voting"
)

// countRecord logs a poll that is not a recorded vote, with one ballot on a device
// and a show of hands counted by the clerk (user 9), and returns its record.
func countRecord(t *testing.T) *voting.Record {
	t.Helper()
	r := newRecordLog(t)
	op := r.opening(41, 42, 43, 44, 45)
	r.add(voting.Entry{Opening: &op})
	b := r.ballot(&op, 41, "against", 1)
	c := voting.Count{Meeting: 7, Item: 31, Poll: 3, Recorder: 9, CountedAt: r.t0.Add(2 * time.Second), Challenge: op.Challenge,
		Nonce:  sha256.Sum256([]byte("count nonce")),
		Counts: []voting.OptionCount{{Option: "for", Count: 3}, {Option: "against", Count: 0}, {Option: "abstain", Count: 1}}}
	sc, err := voting.SignCount(c, r.key(9))
	if err != nil {
		t.Fatal(err)
	}
	r.add(voting.Entry{Count: &sc})
	closing, err := op.CloseCounted(r.t0.Add(time.Minute), 9, 5, []voting.Vote{voting.VoteOf(&b)}, &c)
	if err != nil {
		t.Fatal(err)
	}
	r.add(voting.Entry{Closing: &closing})
	return r.record()
}

// TestVerifyRoomCount checks a record with a count of hands: it holds, and chamber
// verify refuses it once a count is changed, in what the record says or in the signed
// bytes, or the result's counts disagree with it.
func TestVerifyRoomCount(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*voting.Record)
		wantErr bool
		want    string
	}{
		{name: "genuine", want: "carried (for 3, against 1, abstain 1); counted in the room: for 3, against 0, abstain 1"},
		{name: "a changed count in the record", edit: func(r *voting.Record) {
			r.Polls[0].Counts[0].Hands[1].Count = 2
		}, wantErr: true, want: "problem: ballot"},
		{name: "a changed count in the signed bytes", edit: func(r *voting.Record) {
			rc := &r.Polls[0].Counts[0]
			c, _ := voting.ParseCount(rc.Bytes)
			c.Counts[1].Count = 2
			rc.Bytes, _ = c.MarshalBinary()
			rc.Hands = c.Counts
		}, wantErr: true, want: "problem: signature"},
		{name: "a result that leaves out the hands", edit: func(r *voting.Record) {
			r.Polls[0].Result.Counts[0].Count = 0
		}, wantErr: true, want: "problem: count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := countRecord(t)
			if tc.edit != nil {
				tc.edit(rec)
			}
			path := filepath.Join(t.TempDir(), "record.json")
			writeRecordFile(t, path, rec)
			stdout, _, err := runCLI(t, "", "verify", path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("verify: got %v, want an error: %v\n%s", err, tc.wantErr, stdout)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, stdout)
			}
		})
	}
}
