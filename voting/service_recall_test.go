package voting_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// countingRefs is a store that counts the journal numbers read and recalled.
type countingRefs struct {
	voting.Store
	read, recalled atomic.Int64
}

func (c *countingRefs) JournalSeqAndKey(ctx context.Context, meeting int64, key voting.KeyID) (int64, voting.Key, bool, error) {
	c.read.Add(1)
	return c.Store.JournalSeqAndKey(ctx, meeting, key)
}

func (c *countingRefs) RecalledSeqAndKey(meeting int64, key voting.KeyID) (int64, voting.Key, bool) {
	seq, k, ok := c.Store.RecalledSeqAndKey(meeting, key)
	if ok {
		c.recalled.Add(1)
	}
	return seq, k, ok
}

// counts returns the numbers read and recalled since the last call.
func (c *countingRefs) counts() (read, recalled int64) {
	return c.read.Swap(0), c.recalled.Swap(0)
}

// TestBallotOnRecalledJournal: a ballot is checked against the journal number the
// store recalls, with no read, while the meeting's journal stays there. When the
// journal has moved on behind the store's back (the agenda records a departure and a
// return), a ballot checked against the recalled number is checked again against the
// number read afresh: one from a member who has left is refused though the roll at
// the recalled number has them present, and one from a member who has come back is
// taken though that roll has them gone. Only the final refusal is recorded.
func TestBallotOnRecalledJournal(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		store := &countingRefs{Store: w.store}
		svc := w.quietService(store)
		cast := func(p voting.PollView, voter agenda.Actor, choice string) error {
			t.Helper()
			_, err := svc.Cast(w.ctx, voter, w.ballot(p, voter, choice))
			return err
		}
		want := func(what string, read, recalled int64) {
			t.Helper()
			if r, c := store.counts(); r != read || c != recalled {
				t.Errorf("%s: %d journal numbers read and %d recalled, want %d and %d", what, r, c, read, recalled)
			}
		}

		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3)
		f.take(standardItem)
		p, err := svc.OpenPoll(w.ctx, w.clerk, f.input(standardItem))
		w.must(err)
		store.counts()
		// Each member's first ballot reads their key, and the journal with it.
		for _, voter := range []agenda.Actor{w.m1, w.m2, w.m3} {
			w.must(cast(p, voter, "for"))
		}
		want("first ballots", 3, 0)
		w.must(cast(p, w.m1, "against"))
		want("a changed vote", 0, 1)

		// m3 leaves, journaled by the agenda: not recalled by the voting store.
		w.clock.Advance(time.Minute)
		f.leave(w.m3)
		if err := cast(p, w.m3, "against"); !errors.Is(err, voting.ErrNotEligible) {
			t.Fatalf("ballot of a member who has left, checked first on the recalled number: %v, want ErrNotEligible", err)
		}
		want("the ballot of a member who has left", 1, 1)
		w.must(cast(p, w.m2, "against"))
		want("the next ballot", 0, 1)

		// m3 comes back; the store recalls the number from before.
		w.clock.Advance(time.Minute)
		f.arrive(agenda.InRoom, w.m3)
		if err := cast(p, w.m3, "abstain"); err != nil {
			t.Fatalf("ballot of a member who has come back, refused first on the recalled number: %v", err)
		}
		want("the ballot of a member who has come back", 1, 1)

		refusals, err := w.store.Refusals(w.ctx, p.ID)
		w.must(err)
		if len(refusals) != 1 || refusals[0].Voter != w.m3.UserID {
			t.Errorf("refusals %+v, want only m3's while they were out", refusals)
		}
		votes, err := w.store.Votes(w.ctx, p.ID)
		w.must(err)
		last := map[int64]string{}
		for _, v := range votes {
			last[v.Voter] = v.Choice
		}
		if last[w.m1.UserID] != "against" || last[w.m2.UserID] != "against" || last[w.m3.UserID] != "abstain" || len(votes) != 6 {
			t.Errorf("votes %+v, want six, the last of m1 and m2 against, of m3 abstain", votes)
		}
	})
}
