package voting_test

import (
	"encoding/hex"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// TestServiceReceiptsOfBallotsCastTogether casts many ballots at once, which the store
// commits in batches. Every receipt verifies against the server's key, with a
// checkpoint of a tree that holds the ballot (larger than its index) and no larger
// than the log; the same ballot sent again, after more ballots and after the close,
// gets the very same receipt; and a ballot stored without a receipt size, as rows
// stored before it was kept are, gets its receipt against the log just after it.
func TestServiceReceiptsOfBallotsCastTogether(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		voters := []agenda.Actor{w.chair, w.vice, w.m1, w.m2, w.m3, w.m4}
		f, p := w.pollIn("england", voters...)
		origin, err := w.svc.Origin(w.ctx, f.meeting.ID)
		w.must(err)
		vkey, err := w.logKey.VerifierKey(origin)
		w.must(err)

		const n = 40
		ballots := make([]voting.SignedBallot, n)
		for i := range ballots {
			ballots[i] = w.ballot(p, voters[i%len(voters)], voting.DefaultOptions()[i%3])
		}
		receipts := make([]voting.Receipt, n)
		errs := make([]error, n)
		ready := make(chan struct{})
		var wg sync.WaitGroup
		for i, sb := range ballots {
			wg.Go(func() {
				<-ready
				receipts[i], errs[i] = w.svc.Cast(w.ctx, voters[i%len(voters)], sb)
			})
		}
		close(ready)
		wg.Wait()
		size, err := w.store.Log(f.meeting.ID).Size(w.ctx)
		w.must(err)

		checkpoints := map[int64]string{} // by size
		for i, r := range receipts {
			if errs[i] != nil {
				t.Fatalf("ballot %d: %v", i, errs[i])
			}
			leaf, err := voting.EncodeBallotEntry(ballots[i])
			w.must(err)
			cp, err := voting.VerifyReceipt(r, leaf, vkey)
			if err != nil {
				t.Errorf("ballot %d: receipt does not verify: %v", i, err)
				continue
			}
			if cp.Origin != origin || cp.Size <= r.Index || cp.Size > size {
				t.Errorf("ballot %d at %d: checkpoint of %q at %d, want %q larger than the index and at most %d",
					i, r.Index, cp.Origin, cp.Size, origin, size)
			}
			if c, ok := checkpoints[cp.Size]; ok && c != r.Checkpoint {
				t.Errorf("two signed checkpoints of the tree of %d:\n%s\n%s", cp.Size, c, r.Checkpoint)
			}
			checkpoints[cp.Size] = r.Checkpoint
		}
		t.Logf("%d ballots, %d checkpoints", n, len(checkpoints))

		again := func(when string) {
			t.Helper()
			for i, sb := range ballots {
				r, fresh, err := w.svc.Submit(w.ctx, voters[i%len(voters)], voting.Credential{}, sb)
				if err != nil || fresh {
					t.Fatalf("ballot %d again %s: fresh %v, %v", i, when, fresh, err)
				}
				if !reflect.DeepEqual(r, receipts[i]) || r.Checkpoint != receipts[i].Checkpoint {
					t.Errorf("ballot %d again %s: got receipt\n%+v\nwant\n%+v", i, when, r, receipts[i])
				}
			}
		}
		w.clock.Advance(time.Second)
		w.vote(p, w.m1, "against")
		w.vote(p, w.m2, "for")
		again("after more ballots")
		_, err = w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		again("after the close")

		h := ballots[0].Hash()
		_, err = w.db.ExecContext(w.ctx, w.db.Rebind(`UPDATE ballots SET receipt_size = NULL WHERE hash = ?`), hex.EncodeToString(h[:]))
		w.must(err)
		r, err := w.svc.Cast(w.ctx, voters[0], ballots[0])
		w.must(err)
		leaf, err := voting.EncodeBallotEntry(ballots[0])
		w.must(err)
		cp, err := voting.VerifyReceipt(r, leaf, vkey)
		if err != nil || r.Index != receipts[0].Index || cp.Size != r.Index+1 {
			t.Errorf("a ballot stored without a receipt size: index %d, checkpoint at %d (%v), want index %d in a tree of %d",
				r.Index, cp.Size, err, receipts[0].Index, receipts[0].Index+1)
		}
	})
}
