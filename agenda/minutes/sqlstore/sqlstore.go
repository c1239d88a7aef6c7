// Package sqlstore keeps minutes in PostgreSQL or SQLite through sqlx: one
// implementation of minutes.Store for both dialects, over the schema in migrations.
//
// Each version of a meeting's minutes is one row: its header and document as JSON,
// with the status, times and people of its workflow in columns of their own for
// queries and integrity. A published row is never updated; rows are never deleted.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/migrations"
)

// Store is a minutes.Store on a Chamber database.
type Store struct {
	db *migrations.DB
}

var _ minutes.Store = (*Store)(nil)

// New returns a Store on db, which must be migrated.
func New(db *migrations.DB) *Store { return &Store{db: db} }

// maxAttempts is how many times Update runs fn on PostgreSQL when the transaction fails
// with a serialization failure or a deadlock.
const maxAttempts = 5

// Update runs fn in a read-write transaction on the write pool, committing when fn
// returns nil. On PostgreSQL a transaction that fails with a serialization failure or
// a deadlock is run again, fn included, a few times.
func (s *Store) Update(ctx context.Context, fn func(minutes.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.run(ctx, s.db.DB, nil, true, fn)
		if err == nil || s.db.Dialect != migrations.Postgres || !retryable(err) || attempt == maxAttempts {
			return err
		}
		d := time.Duration(attempt) * time.Duration(5+rand.IntN(20)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d):
		}
	}
}

// View runs fn in a read-only transaction on the read pool.
func (s *Store) View(ctx context.Context, fn func(minutes.Tx) error) error {
	return s.run(ctx, s.db.Reader, &sql.TxOptions{ReadOnly: true}, false, fn)
}

func (s *Store) run(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions, write bool, fn func(minutes.Tx) error) error {
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
	if err := fn(&tx{tx: sx, dialect: s.db.Dialect, write: write, locked: map[int64]bool{}}); err != nil {
		sx.Rollback()
		return err
	}
	if err := sx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// tx is one transaction; it implements minutes.Tx.
type tx struct {
	tx      *sqlx.Tx
	dialect migrations.Dialect
	write   bool
	locked  map[int64]bool // meetings whose row this transaction has locked
}

func (t *tx) q(query string) string { return t.tx.Rebind(query) }

// lock locks the meeting's row for the rest of a write transaction on PostgreSQL, so
// that writers to one meeting's minutes queue, the first draft included. SQLite's write
// transactions already exclude each other (they begin IMMEDIATE).
func (t *tx) lock(ctx context.Context, meetingID int64) error {
	if !t.write || t.dialect != migrations.Postgres || t.locked[meetingID] {
		return nil
	}
	var id int64
	err := t.tx.GetContext(ctx, &id, t.q(`SELECT id FROM meetings WHERE id = ? FOR UPDATE`), meetingID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("meeting %d: %w", meetingID, minutes.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("lock meeting %d: %w", meetingID, err)
	}
	t.locked[meetingID] = true
	return nil
}

type row struct {
	MeetingID int64  `db:"meeting_id"`
	Version   int    `db:"version"`
	Status    string `db:"status"`
	Header    string `db:"header"`
	Document  string `db:"document"`
	Format    int    `db:"format"`
}

const columns = `meeting_id, version, status, header, document, format`

func (r row) minutes() (minutes.Minutes, error) {
	if r.Format != minutes.FormatVersion {
		return minutes.Minutes{}, fmt.Errorf("minutes of meeting %d version %d: stored in form %d, this build reads form %d",
			r.MeetingID, r.Version, r.Format, minutes.FormatVersion)
	}
	var m minutes.Minutes
	if err := json.Unmarshal([]byte(r.Header), &m.Header); err != nil {
		return minutes.Minutes{}, fmt.Errorf("minutes of meeting %d version %d: header: %w", r.MeetingID, r.Version, err)
	}
	if err := json.Unmarshal([]byte(r.Document), &m.Document); err != nil {
		return minutes.Minutes{}, fmt.Errorf("minutes of meeting %d version %d: document: %w", r.MeetingID, r.Version, err)
	}
	m.MeetingID, m.Version, m.Status, m.View = r.MeetingID, r.Version, minutes.Status(r.Status), minutes.FullView
	return m, nil
}

// Minutes implements minutes.Tx.
func (t *tx) Minutes(ctx context.Context, meetingID int64, version int) (minutes.Minutes, error) {
	if err := t.lock(ctx, meetingID); err != nil {
		return minutes.Minutes{}, err
	}
	var r row
	var err error
	if version == 0 {
		err = t.tx.GetContext(ctx, &r, t.q(`SELECT `+columns+` FROM minutes WHERE meeting_id = ? ORDER BY version DESC LIMIT 1`), meetingID)
	} else {
		err = t.tx.GetContext(ctx, &r, t.q(`SELECT `+columns+` FROM minutes WHERE meeting_id = ? AND version = ?`), meetingID, version)
	}
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return minutes.Minutes{}, fmt.Errorf("minutes of meeting %d: %w", meetingID, minutes.ErrNotFound)
		}
		return minutes.Minutes{}, fmt.Errorf("minutes of meeting %d version %d: %w", meetingID, version, minutes.ErrNotFound)
	}
	if err != nil {
		return minutes.Minutes{}, fmt.Errorf("read minutes of meeting %d: %w", meetingID, err)
	}
	return r.minutes()
}

// Versions implements minutes.Tx.
func (t *tx) Versions(ctx context.Context, meetingID int64) ([]minutes.Header, error) {
	var rows []struct {
		Version int    `db:"version"`
		Status  string `db:"status"`
		Header  string `db:"header"`
	}
	if err := t.tx.SelectContext(ctx, &rows, t.q(`SELECT version, status, header FROM minutes WHERE meeting_id = ? ORDER BY version`), meetingID); err != nil {
		return nil, fmt.Errorf("list versions of the minutes of meeting %d: %w", meetingID, err)
	}
	out := make([]minutes.Header, 0, len(rows))
	for _, r := range rows {
		var h minutes.Header
		if err := json.Unmarshal([]byte(r.Header), &h); err != nil {
			return nil, fmt.Errorf("minutes of meeting %d version %d: header: %w", meetingID, r.Version, err)
		}
		h.MeetingID, h.Version, h.Status = meetingID, r.Version, minutes.Status(r.Status)
		out = append(out, h)
	}
	return out, nil
}

// fields are a version's columns as stored.
type fields struct {
	header, document                   string
	draftedAt                          time.Time
	draftedBy, approvedBy, publishedBy any
	approvedAt, publishedAt            any
	approvedMeeting                    any
}

func fieldsOf(m *minutes.Minutes) (fields, error) {
	h := utcHeader(m.Header)
	hb, err := json.Marshal(h)
	if err != nil {
		return fields{}, fmt.Errorf("encode minutes header: %w", err)
	}
	db, err := json.Marshal(m.Document)
	if err != nil {
		return fields{}, fmt.Errorf("encode minutes: %w", err)
	}
	f := fields{header: string(hb), document: string(db), draftedAt: utc(h.Drafted.At), draftedBy: nullID(h.Drafted.By.ID)}
	if a := h.Approval; a != nil {
		f.approvedAt, f.approvedBy, f.approvedMeeting = utc(a.At), nullID(a.By.ID), nullID(a.Meeting.ID)
	}
	if p := h.Published; p != nil {
		f.publishedAt, f.publishedBy = utc(p.At), nullID(p.By.ID)
	}
	return f, nil
}

// CreateMinutes implements minutes.Tx.
func (t *tx) CreateMinutes(ctx context.Context, m *minutes.Minutes) error {
	if err := t.lock(ctx, m.MeetingID); err != nil {
		return err
	}
	f, err := fieldsOf(m)
	if err != nil {
		return err
	}
	_, err = t.tx.ExecContext(ctx, t.q(`INSERT INTO minutes (meeting_id, version, status, header, document, format,
		drafted_at, drafted_by, approved_at, approved_by, approved_meeting_id, published_at, published_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		m.MeetingID, m.Version, string(m.Status), f.header, f.document, minutes.FormatVersion,
		f.draftedAt, f.draftedBy, f.approvedAt, f.approvedBy, f.approvedMeeting, f.publishedAt, f.publishedBy, lastChange(m.Header))
	switch {
	case err == nil:
		return nil
	case isUnique(err):
		return fmt.Errorf("minutes of meeting %d version %d already exist: %w", m.MeetingID, m.Version, minutes.ErrConflict)
	case isForeignKey(err):
		return fmt.Errorf("minutes of meeting %d: the meeting or a person does not exist: %w", m.MeetingID, minutes.ErrNotFound)
	}
	return fmt.Errorf("store minutes of meeting %d version %d: %w", m.MeetingID, m.Version, err)
}

// UpdateMinutes implements minutes.Tx. A published version is frozen: updating one is
// ErrConflict.
func (t *tx) UpdateMinutes(ctx context.Context, m *minutes.Minutes) error {
	if err := t.lock(ctx, m.MeetingID); err != nil {
		return err
	}
	f, err := fieldsOf(m)
	if err != nil {
		return err
	}
	updated := lastChange(m.Header)
	res, err := t.tx.ExecContext(ctx, t.q(`UPDATE minutes SET status = ?, header = ?, document = ?, format = ?,
		drafted_at = ?, drafted_by = ?, approved_at = ?, approved_by = ?, approved_meeting_id = ?,
		published_at = ?, published_by = ?, updated_at = ?
		WHERE meeting_id = ? AND version = ? AND status <> 'published'`),
		string(m.Status), f.header, f.document, minutes.FormatVersion, f.draftedAt, f.draftedBy, f.approvedAt, f.approvedBy,
		f.approvedMeeting, f.publishedAt, f.publishedBy, updated, m.MeetingID, m.Version)
	if err != nil {
		if isForeignKey(err) {
			return fmt.Errorf("minutes of meeting %d: a person or meeting does not exist: %w", m.MeetingID, minutes.ErrNotFound)
		}
		return fmt.Errorf("update minutes of meeting %d version %d: %w", m.MeetingID, m.Version, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("update minutes of meeting %d version %d: %w", m.MeetingID, m.Version, err)
	} else if n == 1 {
		return nil
	}
	var status string
	err = t.tx.GetContext(ctx, &status, t.q(`SELECT status FROM minutes WHERE meeting_id = ? AND version = ?`), m.MeetingID, m.Version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("minutes of meeting %d version %d: %w", m.MeetingID, m.Version, minutes.ErrNotFound)
	case err != nil:
		return fmt.Errorf("update minutes of meeting %d version %d: %w", m.MeetingID, m.Version, err)
	}
	return fmt.Errorf("minutes of meeting %d version %d are published and frozen: %w", m.MeetingID, m.Version, minutes.ErrConflict)
}

// AppendEvent implements minutes.Tx. It keeps the agenda's contract for the events
// table (agenda/sqlstore's AppendEvent does the same): the next sequence number comes
// from updating the meeting's last_seq, which also locks the meeting's row until the
// transaction ends, so that a journal has no gaps and numbers its events in commit
// order, whichever package writes them.
func (t *tx) AppendEvent(ctx context.Context, e *agenda.Event) error {
	var seq int64
	err := t.tx.GetContext(ctx, &seq, t.q(`UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`), e.MeetingID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("journal %s: meeting %d: %w", e.Type, e.MeetingID, minutes.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", e.Type, err)
	}
	data := string(e.Data)
	if len(e.Data) == 0 {
		data = "{}"
	}
	e.At = utc(e.At)
	if _, err := t.tx.ExecContext(ctx, t.q(`INSERT INTO events (meeting_id, seq, type, at, actor_id, private, data) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		e.MeetingID, seq, e.Type, e.At, nullID(e.ActorID), e.Private, data); err != nil {
		return fmt.Errorf("journal %s: %w", e.Type, err)
	}
	e.Seq = seq
	return nil
}

// utcHeader returns h with its times in UTC to the microsecond, as they are stored.
func utcHeader(h minutes.Header) minutes.Header {
	h.Drafted.At = utc(h.Drafted.At)
	if e := h.Edited; e != nil {
		h.Edited = &minutes.Stamp{By: e.By, At: utc(e.At)}
	}
	if p := h.Published; p != nil {
		h.Published = &minutes.Stamp{By: p.By, At: utc(p.At)}
	}
	if a := h.Approval; a != nil {
		c := *a
		c.At, c.Meeting.StartsAt = utc(c.At), utc(c.Meeting.StartsAt)
		h.Approval = &c
	}
	return h
}

// lastChange is when the header last changed: its latest stamp.
func lastChange(h minutes.Header) time.Time {
	t := h.Drafted.At
	for _, st := range []*minutes.Stamp{h.Edited, h.Published} {
		if st != nil && st.At.After(t) {
			t = st.At
		}
	}
	if h.Approval != nil && h.Approval.At.After(t) {
		t = h.Approval.At
	}
	return utc(t)
}

// utc is how a time is stored: in UTC, to the microsecond, which both databases keep.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// nullID is an optional reference: zero is NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func isUnique(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func isForeignKey(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}
