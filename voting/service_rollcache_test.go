package voting_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// countingRoll is the agenda as a RollReader that counts the rolls read, and runs
// then, once, just after the next roll is read.
type countingRoll struct {
	*agenda.Service
	mu   sync.Mutex
	n    int
	then func()
}

func (c *countingRoll) Roll(ctx context.Context, meetingID, itemID int64) (agenda.Roll, error) {
	r, err := c.Service.Roll(ctx, meetingID, itemID)
	c.mu.Lock()
	c.n++
	then := c.then
	c.then = nil
	c.mu.Unlock()
	if then != nil {
		then()
	}
	return r, err
}

func (c *countingRoll) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// TestServiceRollAtOpening: the ballots of a poll are checked against the roll the
// opening read, with no read of their own, when nothing has been journaled between
// that read and the opening; and against a roll read afresh when something has (a
// member left in between) or when something is journaled afterwards.
func TestServiceRollAtOpening(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		roll := &countingRoll{Service: w.agenda}
		svc := voting.NewService(w.store, roll, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "chamber.example.gov.uk", ProgressEvery: -1})
		cast := func(p voting.PollView, voter agenda.Actor) error {
			_, err := svc.Cast(w.ctx, voter, w.ballot(p, voter, "for"))
			return err
		}

		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3)
		f.take(standardItem)
		before := roll.reads()
		p, err := svc.OpenPoll(w.ctx, w.clerk, f.input(standardItem))
		w.must(err)
		if n := roll.reads() - before; n != 1 {
			t.Fatalf("opening a poll read %d rolls, want 1", n)
		}
		for _, voter := range []agenda.Actor{w.m1, w.m2} {
			if err := cast(p, voter); err != nil {
				t.Fatalf("ballot of %d: %v", voter.UserID, err)
			}
		}
		if n := roll.reads() - before; n != 1 {
			t.Errorf("ballots after the opening read %d more rolls, want none", n-1)
		}
		// A departure is journaled: the next ballot reads the roll again and sees it.
		w.clock.Advance(time.Minute)
		f.leave(w.m3)
		if err := cast(p, w.m3); !errors.Is(err, voting.ErrNotEligible) {
			t.Errorf("ballot of a member who has left: %v, want ErrNotEligible", err)
		}
		if n := roll.reads() - before; n != 2 {
			t.Errorf("after a departure, %d rolls read in all, want 2", n)
		}
		if _, err := svc.Close(w.ctx, w.chair, p.ID); err != nil {
			t.Fatal(err)
		}

		// A member leaves after the opening has read its roll and before the opening
		// is journaled: the opening counted them as present, but their ballot is
		// checked against the roll as it now is, read afresh.
		g := w.meeting("england")
		g.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m4)
		g.take(standardItem)
		w.clock.Advance(time.Minute)
		roll.mu.Lock()
		roll.then = func() { g.leave(w.m4) }
		roll.mu.Unlock()
		q, err := svc.OpenPoll(w.ctx, w.clerk, g.input(standardItem))
		w.must(err)
		if err := cast(q, w.m4); !errors.Is(err, voting.ErrNotEligible) {
			t.Errorf("ballot of a member who left as the poll opened: %v, want ErrNotEligible", err)
		}
		if err := cast(q, w.m1); err != nil {
			t.Errorf("ballot of a member present: %v", err)
		}
	})
}

// countingPolls is a store that counts the polls read.
type countingPolls struct {
	voting.Store
	n atomic.Int64
}

func (c *countingPolls) Poll(ctx context.Context, id int64) (voting.Poll, error) {
	c.n.Add(1)
	return c.Store.Poll(ctx, id)
}

// TestServicePollAtOpening: the poll is read as it opens, and the ballots that follow
// are checked against that read, with none of their own, until something is
// journaled; a ballot after the poll has closed elsewhere is still refused as closed.
func TestServicePollAtOpening(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		store := &countingPolls{Store: w.store}
		svc := w.quietService(store)
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3)
		f.take(standardItem)
		p, err := svc.OpenPoll(w.ctx, w.clerk, f.input(standardItem))
		w.must(err)
		if n := store.n.Load(); n != 1 {
			t.Fatalf("opening a poll read it %d times, want 1", n)
		}
		for _, voter := range []agenda.Actor{w.m1, w.m2} {
			if _, err := svc.Cast(w.ctx, voter, w.ballot(p, voter, "for")); err != nil {
				t.Fatalf("ballot of %d: %v", voter.UserID, err)
			}
		}
		if n := store.n.Load(); n != 1 {
			t.Errorf("ballots after the opening read the poll %d more times, want none", n-1)
		}
		// Closed by another service (the world's, as another node's would be): the
		// journal moves on, and the next ballot reads the poll again and is refused.
		if _, err := w.svc.Close(w.ctx, w.chair, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Cast(w.ctx, w.m3, w.ballot(p, w.m3, "for")); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("ballot after the poll closed elsewhere: %v, want ErrPollClosed", err)
		}
		if n := store.n.Load(); n != 2 {
			t.Errorf("%d polls read in all, want 2", n)
		}
	})
}
