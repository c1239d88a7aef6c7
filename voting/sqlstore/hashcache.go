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
type hashCache struct {
	mu      sync.Mutex                    // guards logs, size, pending
	logs    map[int64]map[int64]tlog.Hash // meeting → storage index → hash
	size    int                           // hashes held
	pending map[*sqlx.Tx][]appendedHashes // appended by transactions not yet committed
}

// maxCachedHashes bounds the cache (some 10 MB); past it, it starts again empty.
const maxCachedHashes = 1 << 17

type appendedHashes struct {
	meeting int64
	start   int64
	hashes  []tlog.Hash
}

func newHashCache() *hashCache {
	return &hashCache{logs: map[int64]map[int64]tlog.Hash{}, pending: map[*sqlx.Tx][]appendedHashes{}}
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

// pend notes hashes a transaction appended at storage indexes start, start+1, ….
func (c *hashCache) pend(tx *sqlx.Tx, meeting, start int64, hashes []tlog.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[tx] = append(c.pending[tx], appendedHashes{meeting: meeting, start: start, hashes: hashes})
}

// commit adds the hashes a transaction appended, now that it has committed.
func (c *hashCache) commit(tx *sqlx.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.pending[tx] {
		log := c.room(a.meeting, len(a.hashes))
		for i, h := range a.hashes {
			idx := a.start + int64(i)
			if _, ok := log[idx]; !ok {
				log[idx] = h
				c.size++
			}
		}
	}
	delete(c.pending, tx)
}

// discard forgets what a transaction that did not commit appended.
func (c *hashCache) discard(tx *sqlx.Tx) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, tx)
}
