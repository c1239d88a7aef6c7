package migrations

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// A Coalescer answers many concurrent lookups of one kind with few reads. The keys
// asked for while a read is running wait for it to end and then go together in the
// next read, so a burst of requests (everyone votes at once when a poll opens) costs a
// handful of round trips to the database instead of one each. An answer always comes
// from a read that began after it was asked for: it is as fresh as a read of its own.
//
// A lone lookup waits for no one: with nothing running, its read starts at once.
type Coalescer[K comparable, V any] struct {
	read func(ctx context.Context, keys []K) (map[K]V, error)
	max  int

	mu      sync.Mutex // guards next, running
	next    *coalesced[K, V]
	running bool
}

// coalesced is one read's keys and, once it has run, its outcome.
type coalesced[K comparable, V any] struct {
	keys []K
	seen map[K]struct{}
	asks int // lookups waiting for it, the same key counted each time
	done chan struct{}
	out  map[K]V
	err  error
}

// coalesceTimeout bounds one read: the callers' own contexts bound their wait.
const coalesceTimeout = 30 * time.Second

// NewCoalescer returns a Coalescer over read, which returns the values of those of the
// keys that exist (a missing key is simply absent from its map). read is given at most
// max keys at a time.
func NewCoalescer[K comparable, V any](max int, read func(ctx context.Context, keys []K) (map[K]V, error)) *Coalescer[K, V] {
	return &Coalescer[K, V]{read: read, max: max}
}

// Get returns the value of key, and whether it exists, from the next read to start.
func (c *Coalescer[K, V]) Get(ctx context.Context, key K) (V, bool, error) {
	c.mu.Lock()
	b := c.next
	if b == nil {
		b = &coalesced[K, V]{seen: map[K]struct{}{}, done: make(chan struct{})}
		c.next = b
	}
	b.asks++
	if _, ok := b.seen[key]; !ok {
		b.seen[key] = struct{}{}
		b.keys = append(b.keys, key)
	}
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.drain()
	}
	var zero V
	select {
	case <-b.done:
		if b.err != nil {
			return zero, false, b.err
		}
		v, ok := b.out[key]
		return v, ok, nil
	case <-ctx.Done():
		return zero, false, ctx.Err()
	}
}

// Find is Get for a key that should exist: a missing one is the error notFound.
func (c *Coalescer[K, V]) Find(ctx context.Context, key K, notFound error) (V, error) {
	v, ok, err := c.Get(ctx, key)
	if err == nil && !ok {
		err = notFound
	}
	return v, err
}

// drain runs reads while there are keys waiting for one.
func (c *Coalescer[K, V]) drain() {
	for {
		c.mu.Lock()
		b := c.next
		c.next = nil
		if b == nil {
			c.running = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		b.out, b.err = c.readAll(b.keys)
		close(b.done)
	}
}

// readAll reads keys, at most max at a time.
func (c *Coalescer[K, V]) readAll(keys []K) (map[K]V, error) {
	ctx, cancel := context.WithTimeout(context.Background(), coalesceTimeout)
	defer cancel()
	if len(keys) <= c.max {
		return c.read(ctx, keys)
	}
	out := make(map[K]V, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), c.max)
		part, err := c.read(ctx, keys[:n])
		if err != nil {
			return nil, err
		}
		for k, v := range part {
			out[k] = v
		}
		keys = keys[n:]
	}
	return out, nil
}

// SelectIn runs a query on db's read pool whose one "IN (?)" takes the values of
// list (int64s or strings), the way a Coalescer's read asks for its keys, and scans
// the rows into dest. The list goes as one parameter, not one each, so the statement
// is the same however long the list: PostgreSQL takes an array (= ANY), SQLite a
// JSON array (json_each).
func SelectIn[T int64 | string](ctx context.Context, db *DB, dest any, query string, list []T) error {
	var arg any
	switch db.Dialect {
	case Postgres:
		query = strings.Replace(query, "IN (?)", "= ANY(?)", 1)
		arg = pq.Array(list)
	default:
		query = strings.Replace(query, "IN (?)", "IN (SELECT value FROM json_each(?))", 1)
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		arg = string(b)
	}
	return db.ReadPrepared(ctx, dest, db.Reader.Rebind(query), arg)
}
