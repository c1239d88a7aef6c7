package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/voting"
)

// declinedRecord logs a poll that closes on an equality, and the clerk's (user 9)
// declaration that the chair (user 41), presiding, gives no casting vote; it returns
// its record.
func declinedRecord(t *testing.T) *voting.Record {
	t.Helper()
	r := newRecordLog(t)
	op := r.opening(41, 42, 43, 44)
	op.Motion, op.Named = 12, true
	r.add(voting.Entry{Opening: &op})
	var votes []voting.Vote
	for i, u := range []int64{41, 42, 43, 44} {
		b := r.ballot(&op, u, []string{"for", "against"}[i%2], i+1)
		votes = append(votes, voting.VoteOf(&b))
	}
	closing, err := op.Close(r.t0.Add(time.Minute), 9, 4, votes)
	if err != nil || closing.Outcome != voting.OutcomeTied {
		t.Fatalf("closing: %+v, %v", closing, err)
	}
	r.add(voting.Entry{Closing: &closing})
	r.add(voting.Entry{Declined: &voting.CastingDeclined{Meeting: 7, Item: 31, Poll: 3, DeclaredAt: r.t0.Add(2 * time.Minute),
		DeclaredBy: 9, Presiding: 41, Reason: "The chair left the meeting after the vote."}})
	return r.record(voting.RecordMember{User: 9, Name: "Clara Clerk"}, voting.RecordMember{User: 41, Name: "Cllr Chris Chair", Role: "chair"})
}

// TestVerifyCastingDeclined checks a record in which the casting vote did not come:
// it holds, says why the equality stood, and does not hold once the result is passed
// off as decided or the declaration is taken out.
func TestVerifyCastingDeclined(t *testing.T) {
	tamper := func(edit func(r *voting.Record)) *voting.Record {
		r := declinedRecord(t)
		edit(r)
		return r
	}
	tests := []struct {
		name    string
		record  *voting.Record
		wantErr bool
		want    []string // in standard output
	}{
		{name: "genuine", record: declinedRecord(t), want: []string{
			"lost (for 2, against 2, abstain 0); equality of for and against: the member presiding gave no casting vote, so the equality stands",
			`no casting vote from Cllr Chris Chair, recorded by Clara Clerk: "The chair left the meeting after the vote."`,
			"OK: the record of meeting 7 holds"}},
		{name: "the resolution changed to the casting vote", record: tamper(func(r *voting.Record) {
			r.Polls[0].Result.Equality.Resolution = voting.ResolvedByCastingVote
		}), wantErr: true, want: []string{"problem: result: poll 3: the result says of the equality [for against]: casting_vote"}},
		{name: "the outcome changed to carried", record: tamper(func(r *voting.Record) {
			r.Polls[0].Result.Outcome = voting.OutcomeCarried
		}), wantErr: true, want: []string{`problem: result: poll 3: result "carried"`}},
		{name: "the declaration taken out", record: tamper(func(r *voting.Record) {
			r.Polls[0].Declined, r.Polls[0].DeclinedLog = nil, nil
		}), wantErr: true, want: []string{"problem: log: log entry 6: missing from the record", "awaiting_casting_vote"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "record.json")
			writeRecordFile(t, path, tc.record)
			stdout, _, err := runCLI(t, "", "verify", "--key", tc.record.Log.VerifierKey, path)
			if (err != nil) != tc.wantErr {
				t.Fatalf("verify: got %v, want an error: %v\n%s", err, tc.wantErr, stdout)
			}
			for _, want := range tc.want {
				if !strings.Contains(stdout, want) {
					t.Errorf("output does not say %q:\n%s", want, stdout)
				}
			}
		})
	}
}
