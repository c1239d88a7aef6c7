package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/voting"
)

// runCLI runs chamber with args and returns its standard output and error output.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, func(string) string { return "" }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func seededKey(name string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("chamber cli test key: " + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

// recordLog builds a meeting's vote log in memory, entry by entry, for records that
// chamber verify is given: meeting 7, item 31, poll 3, logged from t0 on, under a
// server key and voters' keys made from fixed seeds.
type recordLog struct {
	t      *testing.T
	ctx    context.Context
	t0     time.Time
	lk     *voting.LogKey
	origin string
	log    *voting.Log
	keys   []voting.Key
}

func newRecordLog(t *testing.T) *recordLog {
	t.Helper()
	lk, err := voting.NewLogKey(seededKey("server"))
	if err != nil {
		t.Fatal(err)
	}
	origin := voting.MeetingOrigin("chamber.example.gov.uk", 7)
	return &recordLog{t: t, ctx: context.Background(), t0: time.Date(2026, 3, 4, 18, 30, 0, 0, time.UTC), lk: lk,
		origin: origin, log: voting.NewLog(origin, voting.NewMemLogStore())}
}

// add appends an entry to the log.
func (r *recordLog) add(e voting.Entry) {
	r.t.Helper()
	leaf, err := e.Encode()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.log.Append(r.ctx, leaf); err != nil {
		r.t.Fatal(err)
	}
}

// key returns a user's private key, enrolling its public half for the record.
func (r *recordLog) key(user int64) ed25519.PrivateKey {
	r.t.Helper()
	priv := seededKey(fmt.Sprint(user))
	k, err := voting.NewKey(user, priv.Public().(ed25519.PublicKey), "", r.t0.Add(-time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	r.keys = append(r.keys, k)
	return priv
}

// opening is poll 3 on item 31, opened at t0 by the clerk (user 9) with the chair
// (user 41) presiding, for the test to adjust before it is logged.
func (r *recordLog) opening(eligible ...int64) voting.PollOpening {
	return voting.PollOpening{ID: 3, Meeting: 7, Item: 31, Question: "That the application be approved",
		Options: voting.DefaultOptions(), Method: voting.Majority, Challenge: sha256.Sum256([]byte("challenge")),
		OpenedAt: r.t0, OpenedBy: 9, Membership: 5, QuorumRequired: 3, PresentAtOpen: len(eligible), CastingVote: true,
		Presiding: 41, Eligible: eligible}
}

// ballot logs a ballot of voter in poll op, cast n seconds after t0.
func (r *recordLog) ballot(op *voting.PollOpening, voter int64, choice string, n int) voting.Ballot {
	r.t.Helper()
	b := voting.Ballot{Meeting: 7, Item: 31, Poll: 3, Voter: voter, CastAt: r.t0.Add(time.Duration(n) * time.Second),
		Challenge: op.Challenge, Nonce: sha256.Sum256([]byte(fmt.Sprint("nonce", voter))), Choice: choice}
	sb, err := voting.SignBallot(b, r.key(voter))
	if err != nil {
		r.t.Fatal(err)
	}
	r.add(voting.Entry{Ballot: &sb})
	return b
}

// record signs the log's head and builds the meeting's record, with members named.
func (r *recordLog) record(members ...voting.RecordMember) *voting.Record {
	r.t.Helper()
	head, err := r.log.Head(r.ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	signed, err := r.lk.Sign(head)
	if err != nil {
		r.t.Fatal(err)
	}
	vkey, err := r.lk.VerifierKey(r.origin)
	if err != nil {
		r.t.Fatal(err)
	}
	rec, err := voting.BuildRecord(r.ctx, voting.RecordInput{
		Meeting: voting.RecordMeeting{ID: 7, Title: "Planning Committee"},
		Items:   []voting.RecordItem{{ID: 31, Number: "5", Title: "Land at Mill Lane"}},
		Members: members,
		Keys:    r.keys, Log: r.log, Checkpoint: signed, VerifierKey: vkey,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return rec
}

// testRecord logs a small meeting in memory, a poll with three ballots that closes
// carried, and returns its record and the server's log key.
func testRecord(t *testing.T) (*voting.Record, *voting.LogKey) {
	t.Helper()
	r := newRecordLog(t)
	voters := []int64{41, 42, 43}
	op := r.opening(voters...)
	op.Named = true
	r.add(voting.Entry{Opening: &op})
	var votes []voting.Vote
	for i, u := range voters {
		b := r.ballot(&op, u, []string{"for", "for", "against"}[i], i+1)
		votes = append(votes, voting.VoteOf(&b))
	}
	closing, err := op.Close(r.t0.Add(time.Minute), 9, 3, votes)
	if err != nil {
		t.Fatal(err)
	}
	r.add(voting.Entry{Closing: &closing})
	return r.record(), r.lk
}

func writeRecordFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writePublicKey writes pub as keygen writes a .pub file.
func writePublicKey(t *testing.T, path string, pub ed25519.PublicKey) {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	genuine, lk := testRecord(t)
	vkey := genuine.Log.VerifierKey
	server := voting.EncodePublicKey(lk.Public())
	pubFile := filepath.Join(dir, "server.pub")
	writePublicKey(t, pubFile, lk.Public())
	strangerFile := filepath.Join(dir, "stranger.pub")
	writePublicKey(t, strangerFile, seededKey("stranger").Public().(ed25519.PublicKey))

	tamper := func(edit func(r *voting.Record)) *voting.Record {
		r, _ := testRecord(t)
		edit(r)
		return r
	}
	tests := []struct {
		name    string
		record  any
		keys    []string
		wantErr bool
		want    string // in standard output
	}{
		{name: "genuine", record: genuine, want: "OK: the record of meeting 7 holds"},
		{name: "genuine, with its verifier key", record: genuine, keys: []string{vkey}, want: "carried (for 2, against 1, abstain 0)"},
		{name: "genuine, with the server's key", record: genuine, keys: []string{server}, want: "OK"},
		{name: "genuine, with the server's .pub file", record: genuine, keys: []string{pubFile}, want: "OK"},
		{name: "another server's key", record: genuine, keys: []string{strangerFile}, wantErr: true, want: "problem: checkpoint"},
		{name: "a changed vote", record: tamper(func(r *voting.Record) {
			rb := &r.Polls[0].Ballots[2]
			b, _ := voting.ParseBallot(rb.Bytes)
			b.Choice, rb.Choice = "for", "for"
			rb.Bytes, _ = b.MarshalBinary()
		}), wantErr: true, want: "problem: signature"},
		{name: "a removed ballot", record: tamper(func(r *voting.Record) {
			r.Polls[0].Ballots = r.Polls[0].Ballots[:2]
		}), wantErr: true, want: "missing from the record"},
		{name: "a forged signature", record: tamper(func(r *voting.Record) {
			rb := &r.Polls[0].Ballots[0]
			rb.Signature = ed25519.Sign(seededKey("forger"), rb.Bytes)
		}), wantErr: true, want: "problem: signature"},
		{name: "a wrong count", record: tamper(func(r *voting.Record) {
			r.Polls[0].Result.Counts[1].Count = 0
		}), wantErr: true, want: "problem: count"},
		{name: "a checkpoint that does not match", record: tamper(func(r *voting.Record) {
			cp, _ := voting.OpenCheckpoint([]byte(r.Log.Checkpoint), r.Log.VerifierKey)
			cp.Size--
			signed, _ := lk.Sign(cp)
			r.Log.Checkpoint = string(signed)
		}), wantErr: true, want: "problem: log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "record.json")
			writeRecordFile(t, path, tc.record)
			args := []string{"verify"}
			for _, k := range tc.keys {
				args = append(args, "--key", k)
			}
			stdout, _, err := runCLI(t, "", append(args, path)...)
			if (err != nil) != tc.wantErr {
				t.Fatalf("verify: got %v, want an error: %v\n%s", err, tc.wantErr, stdout)
			}
			if err != nil && !strings.Contains(err.Error(), "does not hold") {
				t.Errorf("error: %v", err)
			}
			if !strings.Contains(stdout, tc.want) {
				t.Errorf("output does not say %q:\n%s", tc.want, stdout)
			}
		})
	}

	t.Run("standard input", func(t *testing.T) {
		data, _ := json.Marshal(genuine)
		if stdout, _, err := runCLI(t, string(data), "verify", "--key", vkey, "-"); err != nil {
			t.Errorf("verify -: %v\n%s", err, stdout)
		}
	})
	t.Run("not a record", func(t *testing.T) {
		if _, _, err := runCLI(t, `{"version": 1, "surprise": true}`, "verify", "-"); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("verify of an unknown field: got %v, want ErrMalformed", err)
		}
	})
	t.Run("usage", func(t *testing.T) {
		var ue usageError
		if _, _, err := runCLI(t, "", "verify"); !errors.As(err, &ue) {
			t.Errorf("verify without a record: got %v, want a usage error", err)
		}
		if _, _, err := runCLI(t, "", "verify", "--key", "nonsense", "-"); !errors.As(err, &ue) {
			t.Errorf("verify with a bad key: got %v, want a usage error", err)
		}
	})
}
