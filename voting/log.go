package voting

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// A LogStore holds one log: its leaves and its stored hashes, addressed by tlog
// storage index (tlog.StoredHashIndex). The log never changes what it has stored; it
// only appends.
type LogStore interface {
	// Size returns the number of leaves.
	Size(ctx context.Context) (int64, error)
	// ReadHashes returns the hashes stored at the given storage indexes, in order.
	ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error)
	// Append stores leaves n, n+1, … and hashes at storage indexes start, start+1, ….
	// It fails with ErrConflict unless the log has exactly n leaves, so that of two
	// writers that raced only one appends.
	Append(ctx context.Context, n int64, leaves [][]byte, start int64, hashes []tlog.Hash) error
	// Leaves returns leaves start up to but not including end.
	Leaves(ctx context.Context, start, end int64) ([][]byte, error)
}

// A Log is a Merkle log with RFC 6962 hashing over a LogStore. One meeting has one
// log, named by its origin. The Log does not serialise appends: its caller holds the
// meeting's lock, or runs it inside a transaction, and ErrConflict reports a race.
type Log struct {
	origin string
	store  LogStore
}

// NewLog returns the log named origin kept in store.
func NewLog(origin string, store LogStore) *Log { return &Log{origin: origin, store: store} }

// Origin returns the log's name, the first line of its checkpoints.
func (l *Log) Origin() string { return l.origin }

// reader adapts the store to tlog's HashReader, reading pending hashes (not yet stored
// in this append) first.
func (l *Log) reader(ctx context.Context, pending map[int64]tlog.Hash) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		var missing []int64
		var at []int
		for i, idx := range indexes {
			if h, ok := pending[idx]; ok {
				out[i] = h
				continue
			}
			missing = append(missing, idx)
			at = append(at, i)
		}
		if len(missing) == 0 {
			return out, nil
		}
		hs, err := l.store.ReadHashes(ctx, missing)
		if err != nil {
			return nil, err
		}
		if len(hs) != len(missing) {
			return nil, fmt.Errorf("read log hashes: got %d, want %d", len(hs), len(missing))
		}
		for j, i := range at {
			out[i] = hs[j]
		}
		return out, nil
	})
}

// Append adds leaves to the log and returns the index of the first.
func (l *Log) Append(ctx context.Context, leaves ...[]byte) (int64, error) {
	n, err := l.store.Size(ctx)
	if err != nil {
		return 0, fmt.Errorf("append to log %s: %w", l.origin, err)
	}
	if len(leaves) == 0 {
		return n, nil
	}
	start := tlog.StoredHashIndex(0, n)
	pending := map[int64]tlog.Hash{}
	r := l.reader(ctx, pending)
	var hashes []tlog.Hash
	for i, leaf := range leaves {
		hs, err := tlog.StoredHashes(n+int64(i), leaf, r)
		if err != nil {
			return 0, fmt.Errorf("append to log %s: %w", l.origin, err)
		}
		for _, h := range hs {
			pending[start+int64(len(hashes))] = h
			hashes = append(hashes, h)
		}
	}
	if err := l.store.Append(ctx, n, leaves, start, hashes); err != nil {
		return 0, fmt.Errorf("append to log %s: %w", l.origin, err)
	}
	return n, nil
}

// Size returns the number of leaves.
func (l *Log) Size(ctx context.Context) (int64, error) {
	n, err := l.store.Size(ctx)
	if err != nil {
		return 0, fmt.Errorf("log %s: %w", l.origin, err)
	}
	return n, nil
}

// TreeHead returns the unsigned checkpoint of the log at size n, which must not exceed
// the log's size.
func (l *Log) TreeHead(ctx context.Context, n int64) (Checkpoint, error) {
	if err := l.checkSize(ctx, n); err != nil {
		return Checkpoint{}, err
	}
	h, err := tlog.TreeHash(n, l.reader(ctx, nil))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("log %s tree head at %d: %w", l.origin, n, err)
	}
	return Checkpoint{Origin: l.origin, Size: n, Hash: h}, nil
}

// Head returns the unsigned checkpoint of the log as it is now.
func (l *Log) Head(ctx context.Context) (Checkpoint, error) {
	n, err := l.Size(ctx)
	if err != nil {
		return Checkpoint{}, err
	}
	return l.TreeHead(ctx, n)
}

// committedHead returns the unsigned checkpoint of the log at size n, from hashes
// already committed: the caller knows the log has n leaves (a ballot's transaction
// committed them), so its size is not read.
func (l *Log) committedHead(ctx context.Context, n int64) (Checkpoint, error) {
	h, err := tlog.TreeHash(n, l.reader(ctx, nil))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("log %s tree head at %d: %w", l.origin, n, err)
	}
	return Checkpoint{Origin: l.origin, Size: n, Hash: h}, nil
}

// proveCommitted proves that leaf index is in the log at size n, from hashes already
// committed: as for committedHead, the log's size is not read.
func (l *Log) proveCommitted(ctx context.Context, index, n int64) (tlog.RecordProof, error) {
	if index < 0 || index >= n {
		return nil, fmt.Errorf("log %s: inclusion of leaf %d in a tree of %d: %w", l.origin, index, n, ErrNotFound)
	}
	p, err := tlog.ProveRecord(n, index, l.reader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("log %s: inclusion of leaf %d in %d: %w", l.origin, index, n, err)
	}
	return p, nil
}

// InclusionProof proves that leaf index is in the log at size n.
func (l *Log) InclusionProof(ctx context.Context, index, n int64) (tlog.RecordProof, error) {
	if err := l.checkSize(ctx, n); err != nil {
		return nil, err
	}
	if index < 0 || index >= n {
		return nil, fmt.Errorf("log %s: inclusion of leaf %d in a tree of %d: %w", l.origin, index, n, ErrNotFound)
	}
	p, err := tlog.ProveRecord(n, index, l.reader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("log %s: inclusion of leaf %d in %d: %w", l.origin, index, n, err)
	}
	return p, nil
}

// ConsistencyProof proves that the log at size m extends the log at size n.
func (l *Log) ConsistencyProof(ctx context.Context, n, m int64) (tlog.TreeProof, error) {
	if err := l.checkSize(ctx, m); err != nil {
		return nil, err
	}
	if n < 0 || n > m {
		return nil, fmt.Errorf("log %s: consistency of %d with %d: %w", l.origin, n, m, ErrNotFound)
	}
	if n == 0 {
		return tlog.TreeProof{}, nil // every tree extends the empty one
	}
	p, err := tlog.ProveTree(m, n, l.reader(ctx, nil))
	if err != nil {
		return nil, fmt.Errorf("log %s: consistency of %d with %d: %w", l.origin, n, m, err)
	}
	return p, nil
}

// Leaves returns leaves start up to but not including end.
func (l *Log) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	if err := l.checkSize(ctx, end); err != nil {
		return nil, err
	}
	if start < 0 || start > end {
		return nil, fmt.Errorf("log %s: leaves %d to %d: %w", l.origin, start, end, ErrNotFound)
	}
	leaves, err := l.store.Leaves(ctx, start, end)
	if err != nil {
		return nil, fmt.Errorf("log %s: leaves %d to %d: %w", l.origin, start, end, err)
	}
	return leaves, nil
}

func (l *Log) checkSize(ctx context.Context, n int64) error {
	size, err := l.Size(ctx)
	if err != nil {
		return err
	}
	if n < 0 || n > size {
		return fmt.Errorf("log %s has %d leaves, not %d: %w", l.origin, size, n, ErrNotFound)
	}
	return nil
}

// VerifyInclusion checks that leaf (its bytes, not its hash) is leaf index of the tree
// that cp describes.
func VerifyInclusion(cp Checkpoint, index int64, leaf []byte, proof tlog.RecordProof) error {
	if index < 0 || index >= cp.Size {
		return fmt.Errorf("leaf %d is not in a tree of %d: %w", index, cp.Size, ErrBadProof)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Hash, index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("leaf %d in tree of %d: %w", index, cp.Size, ErrBadProof)
	}
	return nil
}

// VerifyConsistency checks that the tree newer describes extends the tree older does.
func VerifyConsistency(older, newer Checkpoint, proof tlog.TreeProof) error {
	if older.Origin != newer.Origin {
		return fmt.Errorf("checkpoints of %q and %q: %w", older.Origin, newer.Origin, ErrBadProof)
	}
	if older.Size > newer.Size {
		return fmt.Errorf("tree of %d cannot extend one of %d: %w", newer.Size, older.Size, ErrBadProof)
	}
	if older.Size == 0 {
		empty, _ := tlog.TreeHash(0, nil)
		if len(proof) != 0 || older.Hash != empty {
			return fmt.Errorf("empty tree: %w", ErrBadProof)
		}
		return nil
	}
	if err := tlog.CheckTree(proof, newer.Size, newer.Hash, older.Size, older.Hash); err != nil {
		return fmt.Errorf("tree of %d extending %d: %w", newer.Size, older.Size, ErrBadProof)
	}
	return nil
}

// RootOf computes the root hash of a tree holding exactly leaves.
func RootOf(leaves [][]byte) (tlog.Hash, error) {
	hashes := make([]tlog.Hash, len(leaves))
	for i, leaf := range leaves {
		hashes[i] = tlog.RecordHash(leaf)
	}
	return RootOfHashes(hashes)
}

// RootOfHashes computes the root hash of a tree whose leaves have the given leaf hashes
// (tlog.RecordHash of each leaf).
func RootOfHashes(leafHashes []tlog.Hash) (tlog.Hash, error) {
	stored := map[int64]tlog.Hash{}
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, idx := range indexes {
			h, ok := stored[idx]
			if !ok {
				return nil, fmt.Errorf("hash %d: %w", idx, ErrNotFound)
			}
			out[i] = h
		}
		return out, nil
	})
	for n, h := range leafHashes {
		hs, err := tlog.StoredHashesForRecordHash(int64(n), h, r)
		if err != nil {
			return tlog.Hash{}, err
		}
		start := tlog.StoredHashIndex(0, int64(n))
		for i, h := range hs {
			stored[start+int64(i)] = h
		}
	}
	return tlog.TreeHash(int64(len(leafHashes)), r)
}

// MemLogStore is a LogStore in memory, for tests and tools.
type MemLogStore struct {
	mu     sync.Mutex // guards leaves, hashes
	leaves [][]byte
	hashes []tlog.Hash
}

var _ LogStore = (*MemLogStore)(nil)

// NewMemLogStore returns an empty log store.
func NewMemLogStore() *MemLogStore { return &MemLogStore{} }

// Size implements LogStore.
func (s *MemLogStore) Size(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.leaves)), nil
}

// ReadHashes implements LogStore.
func (s *MemLogStore) ReadHashes(_ context.Context, indexes []int64) ([]tlog.Hash, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= int64(len(s.hashes)) {
			return nil, fmt.Errorf("log hash %d: %w", idx, ErrNotFound)
		}
		out[i] = s.hashes[idx]
	}
	return out, nil
}

// Append implements LogStore.
func (s *MemLogStore) Append(_ context.Context, n int64, leaves [][]byte, start int64, hashes []tlog.Hash) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n != int64(len(s.leaves)) || start != int64(len(s.hashes)) {
		return fmt.Errorf("append at %d to a log of %d: %w", n, len(s.leaves), ErrConflict)
	}
	for _, leaf := range leaves {
		s.leaves = append(s.leaves, slices.Clone(leaf))
	}
	s.hashes = append(s.hashes, hashes...)
	return nil
}

// Leaves implements LogStore.
func (s *MemLogStore) Leaves(_ context.Context, start, end int64) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if start < 0 || end > int64(len(s.leaves)) || start > end {
		return nil, fmt.Errorf("leaves %d to %d of %d: %w", start, end, len(s.leaves), ErrNotFound)
	}
	out := make([][]byte, 0, end-start)
	for _, leaf := range s.leaves[start:end] {
		out = append(out, slices.Clone(leaf))
	}
	return out, nil
}
