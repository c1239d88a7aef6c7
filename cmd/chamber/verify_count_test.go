package main

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
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
	ctx := context.Background()
	t0 := time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC)
	lk, err := voting.NewLogKey(seededKey("server"))
	if err != nil {
		t.Fatal(err)
	}
	origin := voting.MeetingOrigin("chamber.example.gov.uk", 7)
	l := voting.NewLog(origin, voting.NewMemLogStore())
	add := func(e voting.Entry) {
		leaf, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(ctx, leaf); err != nil {
			t.Fatal(err)
		}
	}
	op := voting.PollOpening{ID: 3, Meeting: 7, Item: 31, Question: "That the application be approved",
		Options: voting.DefaultOptions(), Method: voting.Majority, Challenge: sha256.Sum256([]byte("challenge")),
		OpenedAt: t0, OpenedBy: 9, Membership: 5, QuorumRequired: 3, PresentAtOpen: 5, CastingVote: true, Presiding: 41,
		Eligible: []int64{41, 42, 43, 44, 45}}
	add(voting.Entry{Opening: &op})
	var keys []voting.Key
	key := func(user int64) ed25519.PrivateKey {
		priv := seededKey(fmt.Sprint(user))
		k, err := voting.NewKey(user, priv.Public().(ed25519.PublicKey), "", t0.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		return priv
	}
	b := voting.Ballot{Meeting: 7, Item: 31, Poll: 3, Voter: 41, CastAt: t0.Add(time.Second), Challenge: op.Challenge,
		Nonce: sha256.Sum256([]byte("nonce 41")), Choice: "against"}
	sb, err := voting.SignBallot(b, key(41))
	if err != nil {
		t.Fatal(err)
	}
	add(voting.Entry{Ballot: &sb})
	c := voting.Count{Meeting: 7, Item: 31, Poll: 3, Recorder: 9, CountedAt: t0.Add(2 * time.Second), Challenge: op.Challenge,
		Nonce:  sha256.Sum256([]byte("count nonce")),
		Counts: []voting.OptionCount{{Option: "for", Count: 3}, {Option: "against", Count: 0}, {Option: "abstain", Count: 1}}}
	sc, err := voting.SignCount(c, key(9))
	if err != nil {
		t.Fatal(err)
	}
	add(voting.Entry{Count: &sc})
	closing, err := op.CloseCounted(t0.Add(time.Minute), 9, 5, []voting.Vote{voting.VoteOf(&b)}, &c)
	if err != nil {
		t.Fatal(err)
	}
	add(voting.Entry{Closing: &closing})
	head, _ := l.Head(ctx)
	signed, _ := lk.Sign(head)
	vkey, _ := lk.VerifierKey(origin)
	rec, err := voting.BuildRecord(ctx, voting.RecordInput{
		Meeting: voting.RecordMeeting{ID: 7, Title: "Planning Committee"},
		Items:   []voting.RecordItem{{ID: 31, Number: "5", Title: "Land at Mill Lane"}},
		Keys:    keys, Log: l, Checkpoint: signed, VerifierKey: vkey,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
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
