package sqlstore

import (
	"sync"

	"github.com/jmoiron/sqlx"
	"golang.org/x/mod/sumdb/tlog"
)

// hashCache keeps the stored hashes of meetings' logs in memory. A stored hash never
// changes once committed, so a receipt or proof needs no query for the hashes it has
// read before or that this process appended. Hashes appended by a transaction join
// the cache only once it has committed.
//
// It also keeps the size each meeting's log had after the last append this process
// committed to it: a guess, since another node may have appended since, which a batch
// of ballots writes on only if the log still has that size (see commitAtOnce).
type hashCache struct {
	mu      sync.Mutex                    // guards logs, size, pending, leaves
	logs    map[int64]map[int64]tlog.Hash // meeting → storage index → hash
	size    int                           // hashes held
	pending map[*sqlx.Tx][]appendedHashes // appended by transactions not yet committed
	leaves  map[int64]int64               // meeting → the log's size after this process's last append
}

// maxCachedHashes bounds the cache (some 10 MB); past it, it starts again empty.
const maxCachedHashes = 1 << 17

// appendedHashes is one append: the hashes stored from storage index start, which
// left the meeting's log with leaves leaves.
type appendedHashes struct {
	meeting int64
	start   int64
	hashes  []tlog.Hash
	leaves  int64
}

func newHashCache() *hashCache {
	return &hashCache{logs: map[int64]map[int64]tlog.Hash{}, pending: map[*sqlx.Tx][]appendedHashes{}, leaves: map[int64]int64{}}
}

// lookup returns the hashes of a meeting's log at the storage indexes it holds, and
// the positions in indexes of those it does not.
func (c *hashCache) lookup(meeting int64, indexes []int64) (out []tlog.Hash, missing []int) {
	out = make([]tlog.Hash, len(indexes))
	c.mu.Lock()
	defer c.mu.Unlock()
	log := c.logs[meeting]
	for i, idx := range indexes {
		h, ok := log[idx]
		if !ok {
			missing = append(missing, i)
			continue
		}
		out[i] = h
	}
	return out, missing
}

// put adds committed hashes of a meeting's log.
func (c *hashCache) put(meeting int64, hashes map[int64]tlog.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	log := c.room(meeting, len(hashes))
	for idx, h := range hashes {
		if _, ok := log[idx]; !ok {
			log[idx] = h
			c.size++
		}
	}
}

// room returns a meeting's map, making room for n more hashes first.
func (c *hashCache) room(meeting int64, n int) map[int64]tlog.Hash {
	if c.size+n > maxCachedHashes {
		c.logs, c.size = map[int64]map[int64]tlog.Hash{}, 0
	}
	log := c.logs[meeting]
	if log == nil {
		log = map[int64]tlog.Hash{}
		c.logs[meeting] = log
	}
	return log
}

// pend notes an append of a transaction not yet committed.
func (c *hashCache) pend(tx *sqlx.Tx, a appendedHashes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[tx] = append(c.pending[tx], a)
}

// commit adds the hashes a transaction appended, now that it has committed.
func (c *hashCache) commit(tx *sqlx.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.pending[tx] {
		c.add(a)
	}
	delete(c.pending, tx)
}

// appended adds a committed append.
func (c *hashCache) appended(a appendedHashes) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.add(a)
}

func (c *hashCache) add(a appendedHashes) {
	log := c.room(a.meeting, len(a.hashes))
	for i, h := range a.hashes {
		idx := a.start + int64(i)
		if _, ok := log[idx]; !ok {
			log[idx] = h
			c.size++
		}
	}
	// Transactions that appended one after another may report their commits in
	// either order; a log only grows.
	c.leaves[a.meeting] = max(c.leaves[a.meeting], a.leaves)
}

// lastSize returns the size a meeting's log had after the last append this process
// committed to it, if it knows.
func (c *hashCache) lastSize(meeting int64) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.leaves[meeting]
	return n, ok
}

// forgetSize drops what lastSize knows of a meeting's log, found out of date.
func (c *hashCache) forgetSize(meeting int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.leaves, meeting)
}

// discard forgets what a transaction that did not commit appended.
func (c *hashCache) discard(tx *sqlx.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, tx)
}
