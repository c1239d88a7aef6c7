package sqlstore_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/voting"
	"github.com/chamber/chamber/voting/sqlstore"
)

// checkInTree checks that b is in the meeting's log at its ReceiptSize: the tree its
// receipt is against holds it.
func checkInTree(t *testing.T, s *sqlstore.Store, b voting.StoredBallot) {
	t.Helper()
	ctx := context.Background()
	log := voting.NewLog(origin, s.Log(meeting))
	head, err := log.TreeHead(ctx, b.ReceiptSize)
	if err != nil {
		t.Fatalf("tree head at %d: %v", b.ReceiptSize, err)
	}
	proof, err := log.InclusionProof(ctx, b.Index, b.ReceiptSize)
	if err != nil {
		t.Fatalf("inclusion of %d in %d: %v", b.Index, b.ReceiptSize, err)
	}
	leaf, err := voting.EncodeBallotEntry(b.Signed)
	if err != nil {
		t.Fatal(err)
	}
	if err := voting.VerifyInclusion(head, b.Index, leaf, proof); err != nil {
		t.Errorf("ballot at %d in the tree of %d: %v", b.Index, b.ReceiptSize, err)
	}
}

// TestReceiptSizeOfABatch checks that the ballots committed in one batch all have
// their receipts against the log as the batch leaves it, that a ballot sent again
// is answered with the size stored with it, that a ballot committed on its own (a
// casting vote) has its receipt against the log it ends, and that a row stored
// without a receipt size reads as index+1.
func TestReceiptSizeOfABatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		p := openPoll(t, s, "challenge s")
		a := submission(t, p, 41, 0, "for", false, "n1")
		b := submission(t, p, 42, 0, "against", false, "n2")
		replay := submission(t, p, 42, 0, "for", false, "n2")
		c := submission(t, p, 43, 0, "abstain", false, "n3")

		type want struct {
			index, size int64
			dup         bool
			err         error
		}
		check := func(name string, subs []voting.BallotSubmission, wants []want) {
			t.Helper()
			got, dup, errs, err := s.CommitTogether(meeting, subs)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range wants {
				if !errors.Is(errs[i], w.err) || (errs[i] == nil) != (w.err == nil) {
					t.Errorf("%s, ballot %d: got error %v, want %v", name, i, errs[i], w.err)
					continue
				}
				if errs[i] != nil {
					continue
				}
				if got[i].Index != w.index || got[i].ReceiptSize != w.size || dup[i] != w.dup {
					t.Errorf("%s, ballot %d: got index %d receipt size %d dup %v, want %d %d %v",
						name, i, got[i].Index, got[i].ReceiptSize, dup[i], w.index, w.size, w.dup)
				}
			}
		}
		// The opening is leaf 0; three ballots are accepted at 1 to 3, and the log has
		// four leaves when the batch commits.
		check("first batch", []voting.BallotSubmission{a, b, a, replay, c}, []want{
			{index: 1, size: 4}, {index: 2, size: 4}, {index: 1, size: 4, dup: true}, {err: voting.ErrReplay}, {index: 3, size: 4},
		})
		d := submission(t, p, 44, 0, "for", false, "n4")
		e := submission(t, p, 43, 0, "against", false, "n5")
		check("second batch", []voting.BallotSubmission{d, a, e}, []want{
			{index: 4, size: 6}, {index: 1, size: 4, dup: true}, {index: 5, size: 6},
		})

		if got, dup, err := s.SubmitBallot(ctx, a); err != nil || !dup || got.Index != 1 || got.ReceiptSize != 4 {
			t.Errorf("the first ballot again: got index %d receipt size %d dup %v, %v, want 1 4 true",
				got.Index, got.ReceiptSize, dup, err)
		}
		stored, err := s.Ballots(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sizes []int64
		for _, sb := range stored {
			sizes = append(sizes, sb.ReceiptSize)
			checkInTree(t, s, sb)
		}
		if !slices.Equal(sizes, []int64{4, 4, 4, 6, 6}) {
			t.Errorf("Ballots: receipt sizes %v, want 4 4 4 6 6", sizes)
		}
		if got, err := s.BallotByHash(ctx, c.Signed.Hash()); err != nil || got.Index != 3 || got.ReceiptSize != 4 {
			t.Errorf("BallotByHash: got index %d receipt size %d, %v, want 3 4", got.Index, got.ReceiptSize, err)
		}

		// A row stored before receipt sizes were kept has its receipt against the log
		// just after it.
		h := b.Signed.Hash()
		if _, err := db.ExecContext(ctx, db.Rebind(`UPDATE ballots SET receipt_size = NULL WHERE hash = ?`), hex.EncodeToString(h[:])); err != nil {
			t.Fatal(err)
		}
		if got, err := s.BallotByHash(ctx, h); err != nil || got.Index != 2 || got.ReceiptSize != 3 {
			t.Errorf("BallotByHash of an older row: got index %d receipt size %d, %v, want 2 3", got.Index, got.ReceiptSize, err)
		}
		if got, dup, err := s.SubmitBallot(ctx, b); err != nil || !dup || got.Index != 2 || got.ReceiptSize != 3 {
			t.Errorf("an older row sent again: got index %d receipt size %d dup %v, %v, want 2 3 true", got.Index, got.ReceiptSize, dup, err)
		}
		if stored, err = s.Ballots(ctx, p.ID); err != nil || len(stored) != 5 || stored[1].ReceiptSize != 3 {
			t.Fatalf("Ballots with an older row: %+v, %v, want the second of 5 with receipt size 3", stored, err)
		}
		checkInTree(t, s, stored[1])

		// 41 and 44 for, 42 and 43 against: an equality, which the chair's casting
		// vote decides, in a transaction of its own.
		votes, err := s.Votes(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		closing, err := p.Close(t0.Add(time.Minute), chair, 8, votes)
		if err != nil || closing.Outcome != voting.OutcomeTied {
			t.Fatalf("closing: %+v, %v, want an equality", closing, err)
		}
		if idx, _, err := s.ClosePoll(ctx, p.ID, decided(closing, nil)); err != nil || idx != 6 {
			t.Fatalf("ClosePoll: got %d, %v, want 6", idx, err)
		}
		poll, err := s.Poll(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		casting := submission(t, p, chair, 0, "for", true, "n6")
		res, err := voting.TallyPoll(&poll, append(votes, voting.VoteOf(&casting.Ballot)))
		if err != nil {
			t.Fatal(err)
		}
		casting.Result = &res
		if got, _, err := s.SubmitBallot(ctx, casting); err != nil || got.Index != 7 || got.ReceiptSize != 8 {
			t.Errorf("casting vote: got index %d receipt size %d, %v, want 7 8", got.Index, got.ReceiptSize, err)
		}
		got, err := s.BallotByHash(ctx, casting.Signed.Hash())
		if err != nil || got.ReceiptSize != 8 {
			t.Fatalf("casting vote read back: receipt size %d, %v, want 8", got.ReceiptSize, err)
		}
		checkInTree(t, s, got)
	})
}

// TestReceiptSizesOfConcurrentBallots submits many ballots at once, which the store
// commits in batches: each ballot's receipt size is more than its index, and the
// ballots that share a receipt size are exactly those at the indexes just below it,
// so that the batches, one after another, cover the log.
func TestReceiptSizesOfConcurrentBallots(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		s, _ := newStore(t, db)
		p := openPoll(t, s, "challenge m")
		const n = 40
		subs := make([]voting.BallotSubmission, n)
		for i := range subs {
			v := p.Eligible[i%len(p.Eligible)]
			subs[i] = submission(t, p, v, 0, voting.DefaultOptions()[i%3], false, fmt.Sprint("m", i))
		}
		got := make([]voting.StoredBallot, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range subs {
			wg.Go(func() { got[i], _, errs[i] = s.SubmitBallot(ctx, subs[i]) })
		}
		wg.Wait()
		bySize := map[int64][]int64{} // receipt size → indexes
		for i, sb := range got {
			if errs[i] != nil {
				t.Fatalf("ballot %d: %v", i, errs[i])
			}
			if sb.ReceiptSize <= sb.Index || sb.ReceiptSize > n+1 {
				t.Errorf("ballot at %d: receipt size %d, want more than its index and at most %d", sb.Index, sb.ReceiptSize, n+1)
			}
			bySize[sb.ReceiptSize] = append(bySize[sb.ReceiptSize], sb.Index)
		}
		sizes := slices.Sorted(maps.Keys(bySize))
		next := int64(1) // the opening is leaf 0
		for _, size := range sizes {
			indexes := bySize[size]
			slices.Sort(indexes)
			for k, idx := range indexes {
				if idx != next+int64(k) {
					t.Fatalf("receipt size %d: indexes %v, want %d up to %d", size, indexes, next, size-1)
				}
			}
			if next+int64(len(indexes)) != size {
				t.Fatalf("receipt size %d: indexes %v, want %d up to %d", size, indexes, next, size-1)
			}
			next = size
		}
		if next != n+1 {
			t.Errorf("the batches cover the log up to %d, want %d", next, n+1)
		}
		for _, sb := range got {
			checkInTree(t, s, sb)
		}
	})
}
