package sqlstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/voting/sqlstore"
)

// TestJournalMovedAsBallotCommits stores ballots checked against the journal number
// the store recalls: the number it committed itself, opening the poll, or last read.
// A ballot is stored only if the meeting's journal is still at that number as it
// commits; one checked at a number the journal has moved on from (another node, or
// the agenda, journaled since) is refused with ErrStale, in a batch or on its own,
// and the others are stored.
func TestJournalMovedAsBallotCommits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		a, keys := newStore(t, db)
		p := openPoll(t, a, "challenge j")
		_, last := journal(t, db)
		for _, v := range []int64{chair, 41, 42, 43} {
			if _, _, ok, err := a.JournalSeqAndKey(ctx, meeting, keys[v].ID); err != nil || !ok {
				t.Fatalf("key of %d: %v, %v", v, ok, err)
			}
		}
		seq, _, ok := a.RecalledSeqAndKey(meeting, keys[41].ID)
		if !ok || seq != last {
			t.Fatalf("recalled %d, %v after the opening; want %d", seq, ok, last)
		}
		if _, _, ok := sqlstore.New(db).RecalledSeqAndKey(meeting, keys[41].ID); ok {
			t.Error("a store that has read nothing recalls a number")
		}
		checkedAt := func(voter int64, seq int64, nonce string) voting.BallotSubmission {
			sub := submission(t, p, voter, 0, "for", false, nonce)
			sub.Seq = seq
			return sub
		}

		// The journal has not moved: stored, on PostgreSQL in one statement.
		before := a.BatchesAtOnce()
		_, _, errs, err := a.CommitTogether(meeting, []voting.BallotSubmission{checkedAt(41, last, "41 first"), checkedAt(42, 0, "42 first")})
		if err != nil {
			t.Fatal(err)
		}
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("ballots at the journal's number: %v, %v", errs[0], errs[1])
		}
		if got := a.BatchesAtOnce(); db.Dialect == migrations.Postgres && got != before+1 {
			t.Errorf("%d batches in one statement, want %d", got, before+1)
		}

		// Another node journals an event behind a's back.
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ?`), meeting); err != nil {
			t.Fatal(err)
		}
		before = a.BatchesAtOnce()
		out, _, errs, err := a.CommitTogether(meeting, []voting.BallotSubmission{
			checkedAt(41, last, "41 stale"), checkedAt(42, 0, "42 read"), checkedAt(43, last+1, "43 current")})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrStale) || errs[1] != nil || errs[2] != nil {
			t.Fatalf("ballots at a number the journal has left, at none, and at its number: %v, %v, %v; want ErrStale, stored, stored",
				errs[0], errs[1], errs[2])
		}
		if out[1].Index != 3 || out[2].Index != 4 {
			t.Errorf("the ballots that stand went at %d and %d, want 3 and 4", out[1].Index, out[2].Index)
		}
		if got := a.BatchesAtOnce(); got != before {
			t.Errorf("%d batches in one statement, want still %d: a stale ballot must send the batch the careful way", got, before)
		}
		// All at the one number the journal has left: the statement writes nothing.
		_, _, errs, err = a.CommitTogether(meeting, []voting.BallotSubmission{checkedAt(42, last, "42 stale"), checkedAt(43, last, "43 stale")})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrStale) || !errors.Is(errs[1], voting.ErrStale) {
			t.Fatalf("ballots at a number the journal has left: %v, %v; want ErrStale", errs[0], errs[1])
		}
		if got := a.BatchesAtOnce(); got != before {
			t.Errorf("%d batches in one statement, want still %d", got, before)
		}
		// The careful way read the number: a recalls it now.
		if seq, _, ok := a.RecalledSeqAndKey(meeting, keys[41].ID); !ok || seq != last+1 {
			t.Errorf("recalled %d, %v after the careful way read the journal; want %d", seq, ok, last+1)
		}

		// A casting vote goes on its own, and is checked the same way.
		closeUndecided(t, a, p)
		casting := submission(t, p, chair, 0, "for", true, "casting")
		casting.Seq = last
		if _, _, err := a.SubmitBallot(ctx, casting); !errors.Is(err, voting.ErrStale) {
			t.Errorf("a casting vote at a number the journal has left: %v, want ErrStale", err)
		}

		// What a journals itself it recalls once committed, without reading it.
		events, err := a.SetResult(ctx, p.ID, voting.Result{}, []voting.VoteEvent{event(voting.EventPollResult, `{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if seq, _, _ := a.RecalledSeqAndKey(meeting, keys[chair].ID); seq != events[0].Seq || seq != last+2 {
			t.Errorf("recalled %d after a journaled the result, want %d", seq, events[0].Seq)
		}
		checkRecord(t, a, keys, 6) // the opening, four ballots, the close
	})
}
