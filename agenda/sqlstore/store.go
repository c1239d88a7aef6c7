// Package sqlstore persists the agenda in PostgreSQL or SQLite through sqlx: one
// implementation of agenda.Store for both dialects, over the schema in migrations.
//
// Every query is written once with ? placeholders and rebound for the dialect. Times are
// stored in UTC to the microsecond; integer references that may be absent (a meeting's
// current item, a motion's seconder) are NULL in the database and zero in Go; JSON
// columns are TEXT.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

// Store is the agenda's store over a migrated database.
type Store struct {
	db       *migrations.DB
	tokens   *migrations.Coalescer[string, agenda.APIToken]
	sessions *migrations.Coalescer[string, agenda.LoginSession]
}

var _ agenda.Store = (*Store)(nil)

// New returns a Store over db.
func New(db *migrations.DB) *Store {
	s := &Store{db: db}
	s.tokens = migrations.NewCoalescer(maxCredentials, s.readTokens)
	s.sessions = migrations.NewCoalescer(maxCredentials, s.readSessions)
	return s
}

// maxAttempts is how many times Update runs fn on PostgreSQL when the transaction fails
// with a serialization failure or a deadlock.
const maxAttempts = 5

// Update runs fn in a read-write transaction on the write pool, committing when fn
// returns nil and rolling back otherwise. On PostgreSQL a transaction that fails with a
// serialization failure or a deadlock is run again, fn included, a few times.
//
// Writes to one meeting are serialised: on SQLite there is one writer at a time; on
// PostgreSQL (at READ COMMITTED) GetMeeting in an Update locks the meeting's row until
// the end of the transaction, and AppendEvent locks it in any case.
func (s *Store) Update(ctx context.Context, fn func(agenda.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.run(ctx, s.db.DB, nil, true, fn)
		if err == nil || s.db.Dialect != migrations.Postgres || !retryable(err) || attempt == maxAttempts {
			return err
		}
		// Back off a little, with jitter, so that the transactions that collided do not
		// collide again.
		d := time.Duration(attempt) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// View runs fn in a read-only transaction on the read pool.
func (s *Store) View(ctx context.Context, fn func(agenda.Tx) error) error {
	return s.run(ctx, s.db.Reader, &sql.TxOptions{ReadOnly: true}, false, fn)
}

func (s *Store) run(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions, write bool, fn func(agenda.Tx) error) error {
	sx, err := db.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sx.Rollback()
			panic(p)
		}
	}()
	if err := fn(&tx{tx: sx, dialect: s.db.Dialect, write: write}); err != nil {
		sx.Rollback()
		return err
	}
	if err := sx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// retryable reports whether err is a PostgreSQL serialization failure or deadlock, after
// which the whole transaction may be run again.
func retryable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// tx is one transaction; it implements agenda.Tx.
type tx struct {
	tx      *sqlx.Tx
	dialect migrations.Dialect
	write   bool
}

var _ agenda.Tx = (*tx)(nil)

func (t *tx) get(ctx context.Context, dest any, query string, args ...any) error {
	return t.tx.GetContext(ctx, dest, t.tx.Rebind(query), args...)
}

func (t *tx) sel(ctx context.Context, dest any, query string, args ...any) error {
	return t.tx.SelectContext(ctx, dest, t.tx.Rebind(query), args...)
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, t.tx.Rebind(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// insert runs an INSERT … RETURNING id and returns the id.
func (t *tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := t.tx.QueryRowxContext(ctx, t.tx.Rebind(query), args...).Scan(&id)
	return id, err
}

// violation is the kind of constraint a statement broke.
type violation int

const (
	noViolation violation = iota
	uniqueViolation
	foreignKeyViolation
)

// classify says which constraint, if any, err reports as broken.
func classify(err error) violation {
	var pe *pq.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return uniqueViolation
		case "23503":
			return foreignKeyViolation
		}
		return noViolation
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return uniqueViolation
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return foreignKeyViolation
		}
		return noViolation
	}
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return uniqueViolation
	}
	return noViolation
}

// failWrite maps an error from an insert or update: a unique violation becomes
// ErrConflict with the message taken, a foreign key violation ErrNotFound (the row
// referred to does not exist), anything else is wrapped with op.
func failWrite(err error, op, taken, missing string) error {
	switch classify(err) {
	case uniqueViolation:
		if taken == "" {
			taken = "already exists"
		}
		return fmt.Errorf("%s: %w", taken, agenda.ErrConflict)
	case foreignKeyViolation:
		if missing == "" {
			missing = "refers to something that does not exist"
		}
		return fmt.Errorf("%s: %s: %w", op, missing, agenda.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// failDelete maps an error from a delete: a foreign key violation means something still
// refers to the row, which is ErrConflict.
func failDelete(err error, op, inUse string) error {
	if classify(err) == foreignKeyViolation {
		return fmt.Errorf("%s: %s: %w", op, inUse, agenda.ErrConflict)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// failGet maps an error from reading one row: no row is ErrNotFound. key names the row
// in the message; nil leaves it out (a secret's hash, an email address).
func failGet(err error, what string, key any) error {
	if key != nil {
		what = fmt.Sprintf("%s %v", what, key)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, agenda.ErrNotFound)
	}
	return fmt.Errorf("get %s: %w", what, err)
}

// one checks that a statement that names one row by its key touched it.
func one(n int64, err error, what string, key any, op string) error {
	if err != nil {
		return fmt.Errorf("%s %s %v: %w", op, what, key, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %v: %w", what, key, agenda.ErrNotFound)
	}
	return nil
}

// utc is how a time is stored: in UTC, to the microsecond, which both databases keep.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// utcPtr is utc for a time that may be absent (NULL).
func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

// fromDB returns a time read from the database in UTC.
func fromDB(t time.Time) time.Time { return t.UTC() }

func fromDBPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nullID is an optional reference: zero is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// nullInt is an optional number: zero is NULL.
func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}
