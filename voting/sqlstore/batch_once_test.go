package sqlstore_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/voting/sqlstore"
)

// TestBatchesOfTwoNodes has two stores on one database, as two nodes of a deployment
// are, take turns to commit batches of ballots in one meeting. On PostgreSQL a batch
// goes in one statement when the store knows the log's size; a store whose
// knowledge another has overtaken, or whose batch votes in a poll closed meanwhile or
// reuses a nonce, writes nothing that way and takes the careful way instead. Every
// ballot lands once, at the next index, and the log stays whole.
func TestBatchesOfTwoNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		a, keys := newStore(t, db)
		b := sqlstore.New(db)
		p := openPoll(t, a, "challenge n")
		pg := db.Dialect == migrations.Postgres
		size := int64(1) // the opening
		round := 0
		commit := func(s *sqlstore.Store, name string, wantAtOnce int64) {
			t.Helper()
			round++
			var subs []voting.BallotSubmission
			for _, v := range []int64{40, 41, 42} {
				subs = append(subs, submission(t, p, v, 0, "for", false, fmt.Sprint("round", round, v)))
			}
			out, dup, errs, err := s.CommitTogether(meeting, subs)
			if err != nil {
				t.Fatal(err)
			}
			for i := range subs {
				if errs[i] != nil || dup[i] || out[i].Index != size+int64(i) || out[i].ReceiptSize != size+3 {
					t.Fatalf("round %d (%s), ballot %d: index %d of %d, dup %v, %v; want index %d of %d",
						round, name, i, out[i].Index, out[i].ReceiptSize, dup[i], errs[i], size+int64(i), size+3)
				}
			}
			size += 3
			if got := s.BatchesAtOnce(); pg && got != wantAtOnce {
				t.Errorf("round %d (%s): %d batches in one statement, want %d", round, name, got, wantAtOnce)
			}
		}
		commit(a, "a, which opened the poll and knows the log", 1)
		commit(b, "b, which knows nothing of the log yet", 0)
		commit(a, "a, whose log b has moved on", 1)
		commit(a, "a again, up to date", 2)
		commit(b, "b, whose log a has moved on", 0)
		commit(b, "b again, up to date", 1)

		// A nonce used before, in a batch with a good ballot: refused as a replay,
		// and the good one stored.
		reused := submission(t, p, 43, 0, "against", false, fmt.Sprint("round", round, 42))
		reused.Ballot.Voter, reused.Signed = 42, submission(t, p, 42, 0, "against", false, fmt.Sprint("round", round, 42)).Signed
		good := submission(t, p, 43, 0, "against", false, "good")
		_, _, errs, err := b.CommitTogether(meeting, []voting.BallotSubmission{reused, good})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrReplay) || errs[1] != nil {
			t.Fatalf("a reused nonce beside a good ballot: %v, %v; want ErrReplay, nil", errs[0], errs[1])
		}
		size++
		if got := b.BatchesAtOnce(); pg && got != 1 {
			t.Errorf("the batch with a reused nonce: %d batches of b in one statement, want still 1", got)
		}

		// The poll closes; a batch for it, from the store that knows the log as the
		// close left it, is refused.
		closeUndecided(t, a, p)
		size++
		late := submission(t, p, 44, 0, "for", false, "late")
		_, _, errs, err = a.CommitTogether(meeting, []voting.BallotSubmission{late})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(errs[0], voting.ErrPollClosed) {
			t.Errorf("a ballot for a closed poll: %v, want ErrPollClosed", errs[0])
		}
		checkRecord(t, a, keys, size)
	})
}
