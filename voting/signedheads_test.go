package voting

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// sizeCounter is a log store that counts how often its size is read.
type sizeCounter struct {
	*MemLogStore
	reads atomic.Int64
}

func (s *sizeCounter) Size(ctx context.Context) (int64, error) {
	s.reads.Add(1)
	return s.MemLogStore.Size(ctx)
}

// TestLogCommittedProofs checks the tree heads and inclusion proofs of trees of every
// size a log has had, computed from its stored hashes without reading its size.
func TestLogCommittedProofs(t *testing.T) {
	ctx := context.Background()
	const max = 17
	leaves := testLeaves(max)
	store := &sizeCounter{MemLogStore: NewMemLogStore()}
	log := NewLog("test/committed", store)
	for _, batch := range [][2]int{{0, 1}, {1, 4}, {4, 5}, {5, 12}, {12, 17}} {
		if _, err := log.Append(ctx, leaves[batch[0]:batch[1]]...); err != nil {
			t.Fatal(err)
		}
	}
	store.reads.Store(0)
	for n := int64(1); n <= max; n++ {
		head, err := log.committedHead(ctx, n)
		if err != nil {
			t.Fatalf("committedHead(%d): %v", n, err)
		}
		if want := mth(leaves[:n]); head.Hash != want || head.Size != n || head.Origin != "test/committed" {
			t.Errorf("committedHead(%d): got %+v, want root %s", n, head, want)
		}
		for i := range n {
			proof, err := log.proveCommitted(ctx, i, n)
			if err != nil {
				t.Fatalf("proveCommitted(%d, %d): %v", i, n, err)
			}
			if err := VerifyInclusion(head, i, leaves[i], proof); err != nil {
				t.Errorf("leaf %d in tree %d: %v", i, n, err)
			}
		}
		for _, i := range []int64{-1, n} {
			if _, err := log.proveCommitted(ctx, i, n); !errors.Is(err, ErrNotFound) {
				t.Errorf("proveCommitted(%d, %d): got %v, want ErrNotFound", i, n, err)
			}
		}
	}
	if n := store.reads.Load(); n != 0 {
		t.Errorf("the log's size was read %d times, want none", n)
	}
}

// signer counts the checkpoints it signs; its signature names the size.
type signer struct {
	calls atomic.Int64
}

func (s *signer) sign(size int64) func() ([]byte, error) {
	return func() ([]byte, error) {
		s.calls.Add(1)
		return fmt.Appendf(nil, "signed %d", size), nil
	}
}

// TestSignedHeadsShared checks that many asking for the same tree at once get one
// signature between them.
func TestSignedHeadsShared(t *testing.T) {
	ctx := context.Background()
	var c signedHeads
	var s signer
	release := make(chan struct{})
	slow := func() ([]byte, error) {
		<-release
		return s.sign(5)()
	}
	const n = 50
	got := make([][]byte, n)
	errs := make([]error, n)
	var started, wg sync.WaitGroup
	for i := range n {
		started.Add(1)
		wg.Go(func() {
			started.Done()
			got[i], errs[i] = c.get(ctx, "test/log", 5, slow)
		})
	}
	started.Wait()
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || string(got[i]) != "signed 5" {
			t.Errorf("caller %d: got %q, %v, want %q", i, got[i], errs[i], "signed 5")
		}
	}
	if calls := s.calls.Load(); calls != 1 {
		t.Errorf("%d callers: signed %d times, want once", n, calls)
	}
	if b, err := c.get(ctx, "test/other", 5, s.sign(5)); err != nil || s.calls.Load() != 2 || !bytes.Equal(b, []byte("signed 5")) {
		t.Errorf("another log at the same size: got %q, %v after %d signatures, want a signature of its own", b, err, s.calls.Load())
	}
}

// TestSignedHeadsBounded checks that the oldest checkpoints are dropped once there
// are too many, and the newest kept.
func TestSignedHeadsBounded(t *testing.T) {
	ctx := context.Background()
	var c signedHeads
	var s signer
	const extra = 10
	for size := range int64(maxSignedHeads + extra) {
		if _, err := c.get(ctx, "test/log", size, s.sign(size)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.len(); n != maxSignedHeads {
		t.Errorf("kept %d checkpoints, want %d", n, maxSignedHeads)
	}
	before := s.calls.Load()
	for size := int64(extra); size < maxSignedHeads+extra; size++ {
		if b, err := c.get(ctx, "test/log", size, s.sign(size)); err != nil || string(b) != fmt.Sprint("signed ", size) {
			t.Fatalf("size %d: got %q, %v", size, b, err)
		}
	}
	if calls := s.calls.Load() - before; calls != 0 {
		t.Errorf("the newest checkpoints: signed %d again, want none", calls)
	}
	if _, err := c.get(ctx, "test/log", 0, s.sign(0)); err != nil || s.calls.Load()-before != 1 {
		t.Errorf("the oldest checkpoint: %v, signed %d, want it signed again", err, s.calls.Load()-before)
	}
	if n := c.len(); n != maxSignedHeads {
		t.Errorf("kept %d checkpoints, want %d", n, maxSignedHeads)
	}
}

// TestSignedHeadsFailures checks that a failure is not kept: the next to ask signs
// again, and a caller waiting for one that failed signs on its own.
func TestSignedHeadsFailures(t *testing.T) {
	ctx := context.Background()
	var c signedHeads
	var s signer
	broken := errors.New("no database")
	fail := func() ([]byte, error) { return nil, broken }
	if _, err := c.get(ctx, "test/log", 3, fail); !errors.Is(err, broken) {
		t.Fatalf("failing: got %v, want the failure", err)
	}
	if b, err := c.get(ctx, "test/log", 3, s.sign(3)); err != nil || string(b) != "signed 3" || s.calls.Load() != 1 {
		t.Errorf("after a failure: got %q, %v, signed %d times, want a fresh signature", b, err, s.calls.Load())
	}
	if c.len() != 1 {
		t.Errorf("kept %d checkpoints, want 1", c.len())
	}

	started, release := make(chan struct{}), make(chan struct{})
	failSlowly := func() ([]byte, error) {
		close(started)
		<-release
		return nil, broken
	}
	var first error
	var wg sync.WaitGroup
	wg.Go(func() { _, first = c.get(ctx, "test/log", 4, failSlowly) })
	<-started
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.get(canceled, "test/log", 4, s.sign(4)); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting with a canceled context: got %v, want context.Canceled", err)
	}
	var second []byte
	var secondErr error
	wg.Go(func() { second, secondErr = c.get(ctx, "test/log", 4, s.sign(4)) })
	close(release)
	wg.Wait()
	if !errors.Is(first, broken) || secondErr != nil || string(second) != "signed 4" {
		t.Errorf("one failing while another waits: got %v and %q, %v; want the failure and a signature", first, second, secondErr)
	}
}
