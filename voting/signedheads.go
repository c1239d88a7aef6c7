package voting

import (
	"context"
	"slices"
	"sync"
)

// maxSignedHeads bounds the signed checkpoints a Service keeps for receipts.
const maxSignedHeads = 256

// signedHeads keeps the signed checkpoints that receipts were last given against, by
// log and size, so that the ballots committed together, whose receipts are all
// against the same tree, share one tree hash and one signature. A tree head never
// changes once its leaves are committed (the log only appends) and Ed25519 signatures
// are deterministic, so a kept checkpoint is byte for byte the one signing it again
// would make. The zero value is ready to use; it is safe for concurrent use and keeps
// at most maxSignedHeads checkpoints, dropping the oldest.
type signedHeads struct {
	mu      sync.Mutex // guards entries, order
	entries map[headKey]*signedHead
	order   []headKey // the keys of entries, oldest first
}

// headKey names a tree: its log's origin and its size.
type headKey struct {
	origin string
	size   int64
}

// signedHead is a signed checkpoint, or the promise of one while it is being made.
type signedHead struct {
	done   chan struct{} // closed once signed and err are set
	signed []byte
	err    error
}

// get returns the signed checkpoint of origin's log at size, calling sign to make it
// if it is not kept. Callers that ask for the same tree at the same time wait for the
// first one's sign rather than each calling their own; if that one fails, each of
// them calls sign in turn.
func (c *signedHeads) get(ctx context.Context, origin string, size int64, sign func() ([]byte, error)) ([]byte, error) {
	k := headKey{origin: origin, size: size}
	c.mu.Lock()
	e, ok := c.entries[k]
	if !ok {
		e = &signedHead{done: make(chan struct{})}
		c.add(k, e)
	}
	c.mu.Unlock()
	if ok {
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.signed, nil
		}
		return sign()
	}
	e.signed, e.err = sign()
	if e.err != nil {
		c.mu.Lock()
		if c.entries[k] == e {
			delete(c.entries, k)
			c.order = slices.DeleteFunc(c.order, func(o headKey) bool { return o == k })
		}
		c.mu.Unlock()
	}
	close(e.done)
	return e.signed, e.err
}

// add keeps e under k, dropping the oldest kept checkpoint if there are too many.
func (c *signedHeads) add(k headKey, e *signedHead) {
	if c.entries == nil {
		c.entries = make(map[headKey]*signedHead, maxSignedHeads)
	}
	for len(c.order) >= maxSignedHeads {
		delete(c.entries, c.order[0])
		c.order = slices.Delete(c.order, 0, 1)
	}
	c.entries[k] = e
	c.order = append(c.order, k)
}

// len returns the number of checkpoints kept.
func (c *signedHeads) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
