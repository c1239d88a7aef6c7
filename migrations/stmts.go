package migrations

import (
	"context"
	"errors"
	"sync"

	"github.com/jmoiron/sqlx"
)

// The statements a burst of ballots runs over and over (the coalesced reads, the batch
// that stores them) are kept prepared: parsing and planning them again each time was
// a tenth of the server's processor time on SQLite, and of the database's on
// PostgreSQL, while a poll's voters all voted at once. database/sql prepares a kept
// statement on each connection the first time that connection runs it.

// maxPrepared bounds the statements kept. Only statements whose text is fixed in the
// code are kept, so the bound is never reached; past it, statements run unprepared.
const maxPrepared = 128

// stmtCache is a pool's prepared statements, by text.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
}

func newStmtCache() *stmtCache { return &stmtCache{stmts: map[string]*sqlx.Stmt{}} }

// get returns query prepared on pool, preparing it the first time, or nil when it is
// not kept (the cache is full, or the statement would not prepare: it then runs, and
// fails, as an unprepared one).
func (c *stmtCache) get(ctx context.Context, pool *sqlx.DB, query string) *sqlx.Stmt {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st
	}
	if len(c.stmts) >= maxPrepared {
		return nil
	}
	st, err := pool.PreparexContext(ctx, query)
	if err != nil {
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.stmts {
		errs = append(errs, st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(errs...)
}

// SelectPrepared runs query, a statement whose text is fixed, on the writer pool as a
// kept prepared statement, and scans its rows into dest.
func (db *DB) SelectPrepared(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.written.get(ctx, db.DB, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return db.DB.SelectContext(ctx, dest, query, args...)
}

// ReadPrepared is SelectPrepared on the read pool.
func (db *DB) ReadPrepared(ctx context.Context, dest any, query string, args ...any) error {
	if st := db.read.get(ctx, db.Reader, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return db.Reader.SelectContext(ctx, dest, query, args...)
}
