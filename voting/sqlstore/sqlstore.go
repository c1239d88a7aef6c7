// Package sqlstore keeps Chamber's votes in PostgreSQL or SQLite: keys, polls,
// ballots, and each meeting's Merkle log with its checkpoints. It implements
// voting.Store with one set of SQL for both dialects.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/voting"
)

// Store is a voting.Store on a Chamber database.
type Store struct {
	db      *migrations.DB
	hashes  *hashCache
	lookups *lookups
	keys    *keyCache    // approved keys, as last read (lookups.go)
	seqs    *journalSeqs // the meetings' journal numbers, as last read or committed (seqs.go)

	mu        sync.Mutex          // guards appenders
	appenders map[int64]*appender // by meeting

	atOnce atomic.Int64 // batches written in one statement (see commitAtOnce), for tests
}

var _ voting.Store = (*Store)(nil)

// New returns a Store on db, which must be migrated.
func New(db *migrations.DB) *Store {
	s := &Store{db: db, hashes: newHashCache(), keys: newKeyCache(), seqs: newJournalSeqs(), appenders: map[int64]*appender{}}
	s.lookups = newLookups(s)
	return s
}

var b64 = base64.StdEncoding

// inTx runs fn in a write transaction, committing if it returns nil. The log hashes
// the transaction appends join the cache, and the journal numbers it writes are
// recalled, once it has committed.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		s.hashes.discard(tx)
		s.seqs.discard(tx)
		return err
	}
	if err := tx.Commit(); err != nil {
		s.hashes.discard(tx)
		s.seqs.discard(tx)
		return err
	}
	s.hashes.commit(tx)
	s.seqs.commit(tx)
	return nil
}

// forUpdate is the row-locking clause: PostgreSQL locks the selected row; SQLite's
// write transactions are already exclusive (they begin IMMEDIATE).
func (s *Store) forUpdate() string {
	if s.db.Dialect == migrations.Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || // SQLite
		strings.Contains(msg, "duplicate key value violates unique constraint") // PostgreSQL
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()}
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// --- keys

type keyRow struct {
	ID         string        `db:"id"`
	UserID     int64         `db:"user_id"`
	PublicKey  string        `db:"public_key"`
	Label      string        `db:"label"`
	EnrolledAt time.Time     `db:"enrolled_at"`
	ApprovedAt sql.NullTime  `db:"approved_at"`
	ApprovedBy sql.NullInt64 `db:"approved_by"`
	RevokedAt  sql.NullTime  `db:"revoked_at"`
	RevokedBy  sql.NullInt64 `db:"revoked_by"`
}

func (r keyRow) key() (voting.Key, error) {
	pub, err := b64.DecodeString(r.PublicKey)
	if err != nil {
		return voting.Key{}, fmt.Errorf("key %s: %w", r.ID, err)
	}
	return voting.Key{
		ID: voting.KeyID(r.ID), User: r.UserID, PublicKey: pub, Label: r.Label,
		EnrolledAt: r.EnrolledAt.UTC(),
		ApprovedAt: utcOrZero(r.ApprovedAt), ApprovedBy: r.ApprovedBy.Int64,
		RevokedAt: utcOrZero(r.RevokedAt), RevokedBy: r.RevokedBy.Int64,
	}, nil
}

func utcOrZero(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

const keyColumns = `id, user_id, public_key, label, enrolled_at, approved_at, approved_by, revoked_at, revoked_by`

// CreateKey implements voting.Store.
func (s *Store) CreateKey(ctx context.Context, k voting.Key) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO voting_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		string(k.ID), k.User, b64.EncodeToString(k.PublicKey), k.Label, k.EnrolledAt.UTC(),
		nullTime(k.ApprovedAt), nullID(k.ApprovedBy), nullTime(k.RevokedAt), nullID(k.RevokedBy))
	if isUniqueViolation(err) {
		return fmt.Errorf("create key %s: %w", k.ID, voting.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create key %s: %w", k.ID, err)
	}
	return nil
}

func (s *Store) key(ctx context.Context, q sqlx.QueryerContext, id voting.KeyID, lock string) (voting.Key, error) {
	var r keyRow
	err := sqlx.GetContext(ctx, q, &r, s.db.Rebind(`SELECT `+keyColumns+` FROM voting_keys WHERE id = ?`+lock), string(id))
	if errors.Is(err, sql.ErrNoRows) {
		return voting.Key{}, fmt.Errorf("key %s: %w", id, voting.ErrNotFound)
	}
	if err != nil {
		return voting.Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	return r.key()
}

// UserKeys implements voting.Store.
func (s *Store) UserKeys(ctx context.Context, user int64) ([]voting.Key, error) {
	var rows []keyRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(
		`SELECT `+keyColumns+` FROM voting_keys WHERE user_id = ? ORDER BY enrolled_at DESC, id`), user); err != nil {
		return nil, fmt.Errorf("keys of user %d: %w", user, err)
	}
	keys := make([]voting.Key, 0, len(rows))
	for _, r := range rows {
		k, err := r.key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// CouncilKeys implements voting.Store.
func (s *Store) CouncilKeys(ctx context.Context, council int64) ([]voting.Key, error) {
	var rows []keyRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(`SELECT `+qualified("k", keyColumns)+`
		FROM voting_keys k JOIN council_roles r ON r.user_id = k.user_id
		WHERE r.council_id = ? ORDER BY k.enrolled_at DESC, k.id`), council); err != nil {
		return nil, fmt.Errorf("keys of council %d: %w", council, err)
	}
	keys := make([]voting.Key, 0, len(rows))
	for _, r := range rows {
		k, err := r.key()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// qualified prefixes each of a list of columns with a table's alias.
func qualified(alias, columns string) string {
	cols := strings.Split(columns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// ApproveKey implements voting.Store.
func (s *Store) ApproveKey(ctx context.Context, id voting.KeyID, by int64, at time.Time) (voting.Key, error) {
	var k voting.Key
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if k, err = s.key(ctx, tx, id, s.forUpdate()); err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			return fmt.Errorf("approve key %s: %w", id, voting.ErrKeyRevoked)
		}
		if !k.ApprovedAt.IsZero() {
			return nil
		}
		k.ApprovedAt, k.ApprovedBy = at.UTC(), by
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE voting_keys SET approved_at = ?, approved_by = ? WHERE id = ?`), k.ApprovedAt, by, string(id))
		return err
	})
	if err != nil {
		return voting.Key{}, err
	}
	return k, nil
}

// RevokeKey implements voting.Store.
func (s *Store) RevokeKey(ctx context.Context, id voting.KeyID, by int64, at time.Time) (voting.Key, error) {
	var k voting.Key
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if k, err = s.key(ctx, tx, id, s.forUpdate()); err != nil {
			return err
		}
		if !k.RevokedAt.IsZero() {
			return nil
		}
		k.RevokedAt, k.RevokedBy = at.UTC(), by
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE voting_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?`), k.RevokedAt, by, string(id))
		return err
	})
	s.keys.forget(id)
	if err != nil {
		return voting.Key{}, err
	}
	return k, nil
}

// --- the log

// logStore is a meeting's log read through q: the reader pool, or a transaction
// (then tx is set).
type logStore struct {
	s       *Store
	q       sqlx.ExtContext
	tx      *sqlx.Tx
	meeting int64
	lock    bool // Size locks the log's row (a write transaction)
	// size is the log's size as its transaction has it, once read with the lock.
	size      int64
	sizeKnown bool
}

var _ voting.LogStore = (*logStore)(nil)

// Log implements voting.Store.
func (s *Store) Log(meeting int64) voting.LogStore {
	return &logStore{s: s, q: s.db.Reader, meeting: meeting}
}

func (l *logStore) Size(ctx context.Context) (int64, error) {
	if l.sizeKnown {
		return l.size, nil
	}
	lock := ""
	if l.lock {
		lock = l.s.forUpdate()
	}
	var n int64
	err := sqlx.GetContext(ctx, l.q, &n, l.q.Rebind(`SELECT size FROM vote_logs WHERE meeting_id = ?`+lock), l.meeting)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("log size: %w", err)
	}
	return n, nil
}

// ReadHashes reads stored hashes from the cache, and those it lacks from the
// database. What it reads is committed (a transaction reads no hash it has appended
// itself: the log keeps those in hand), and a stored hash never changes, so it is
// cached.
func (l *logStore) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	if len(indexes) == 0 {
		return nil, nil
	}
	out, at := l.s.hashes.lookup(l.meeting, indexes)
	if len(at) == 0 {
		return out, nil
	}
	missing := make([]int64, len(at))
	for k, i := range at {
		missing[k] = indexes[i]
	}
	q, args, err := sqlx.In(`SELECT idx, hash FROM vote_log_hashes WHERE meeting_id = ? AND idx IN (?)`, l.meeting, missing)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Idx  int64  `db:"idx"`
		Hash string `db:"hash"`
	}
	if err := sqlx.SelectContext(ctx, l.q, &rows, l.q.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("read log hashes: %w", err)
	}
	byIdx := make(map[int64]tlog.Hash, len(rows))
	for _, r := range rows {
		h, err := tlog.ParseHash(r.Hash)
		if err != nil {
			return nil, fmt.Errorf("log hash %d: %w", r.Idx, err)
		}
		byIdx[r.Idx] = h
	}
	for _, i := range at {
		h, ok := byIdx[indexes[i]]
		if !ok {
			return nil, fmt.Errorf("log hash %d: %w", indexes[i], voting.ErrNotFound)
		}
		out[i] = h
	}
	l.s.hashes.put(l.meeting, byIdx)
	return out, nil
}

func (l *logStore) Append(ctx context.Context, n int64, leaves [][]byte, start int64, hashes []tlog.Hash) error {
	data := make([]string, len(leaves))
	for i, leaf := range leaves {
		data[i] = b64.EncodeToString(leaf)
	}
	text := make([]string, len(hashes))
	for i, h := range hashes {
		text[i] = h.String()
	}
	if l.s.db.Dialect == migrations.Postgres {
		if err := l.appendPostgres(ctx, n, data, start, text); err != nil {
			return err
		}
	} else {
		res, err := l.q.ExecContext(ctx, l.q.Rebind(`UPDATE vote_logs SET size = ? WHERE meeting_id = ? AND size = ?`),
			n+int64(len(leaves)), l.meeting, n)
		if err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return fmt.Errorf("append to log at %d: %w", n, voting.ErrConflict)
		}
		if err := l.insertIndexed(ctx, "vote_log_leaves", "data", n, data); err != nil {
			return err
		}
		if err := l.insertIndexed(ctx, "vote_log_hashes", "hash", start, text); err != nil {
			return err
		}
	}
	if l.sizeKnown {
		l.size = n + int64(len(leaves))
	}
	if l.tx != nil {
		l.s.hashes.pend(l.tx, appendedHashes{meeting: l.meeting, start: start, hashes: hashes, leaves: n + int64(len(leaves))})
	}
	return nil
}

// appendPostgres moves the log's size on and inserts its new leaves and hashes in one
// statement (one round trip), which inserts nothing unless the log had n leaves.
func (l *logStore) appendPostgres(ctx context.Context, n int64, data []string, start int64, text []string) error {
	if len(data) == 0 {
		return nil
	}
	var moved int
	err := sqlx.GetContext(ctx, l.q, &moved, `WITH moved AS (
			UPDATE vote_logs SET size = $2 WHERE meeting_id = $1 AND size = $3 RETURNING 1
		), `+appendedAfterMove("$1", "$3", "$4", "$5", "$6")+`
		SELECT COUNT(*) FROM moved`,
		l.meeting, n+int64(len(data)), n, textArray(data), start, textArray(text))
	if err != nil {
		return fmt.Errorf("append to log: %w", err)
	}
	if moved != 1 {
		return fmt.Errorf("append to log at %d: %w", n, voting.ErrConflict)
	}
	return nil
}

// appendedAfterMove is the part of a WITH clause that inserts a log's new leaves and
// hashes, given as text arrays, if its CTE "moved" moved the log's size on: the
// parameters name the meeting, the log's size before, the leaves, the storage index
// of the first hash and the hashes.
func appendedAfterMove(meeting, n, leaves, start, hashes string) string {
	return `leaves AS (
			INSERT INTO vote_log_leaves (meeting_id, idx, data)
			SELECT ` + meeting + `, ` + n + ` + t.ord - 1, t.v FROM unnest(` + leaves + `::text[]) WITH ORDINALITY AS t(v, ord)
			WHERE EXISTS (SELECT 1 FROM moved)
		), hashes AS (
			INSERT INTO vote_log_hashes (meeting_id, idx, hash)
			SELECT ` + meeting + `, ` + start + ` + t.ord - 1, t.v FROM unnest(` + hashes + `::text[]) WITH ORDINALITY AS t(v, ord)
			WHERE EXISTS (SELECT 1 FROM moved)
		)`
}

// insertIndexed inserts values into one of the log's tables at indexes start,
// start+1, …: on PostgreSQL as arrays (one small statement however many), on SQLite as
// rows of values, so many to a statement.
func (l *logStore) insertIndexed(ctx context.Context, table, column string, start int64, values []string) error {
	if len(values) == 0 {
		return nil
	}
	if l.s.db.Dialect == migrations.Postgres {
		indexes := make([]int64, len(values))
		for i := range indexes {
			indexes[i] = start + int64(i)
		}
		if _, err := l.q.ExecContext(ctx, `INSERT INTO `+table+` (meeting_id, idx, `+column+`)
			SELECT $1, * FROM unnest($2::bigint[], $3::text[])`, l.meeting, pq.Array(indexes), textArray(values)); err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
		return nil
	}
	const perStatement = 1000
	for from := 0; from < len(values); from += perStatement {
		chunk := values[from:min(from+perStatement, len(values))]
		var sb strings.Builder
		args := make([]any, 0, 3*len(chunk))
		sb.WriteString(`INSERT INTO ` + table + ` (meeting_id, idx, ` + column + `) VALUES `)
		for i, v := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?)")
			args = append(args, l.meeting, start+int64(from+i), v)
		}
		if _, err := l.q.ExecContext(ctx, l.q.Rebind(sb.String()), args...); err != nil {
			return fmt.Errorf("append to log: %w", err)
		}
	}
	return nil
}

func (l *logStore) Leaves(ctx context.Context, start, end int64) ([][]byte, error) {
	var rows []string
	if err := sqlx.SelectContext(ctx, l.q, &rows, l.q.Rebind(
		`SELECT data FROM vote_log_leaves WHERE meeting_id = ? AND idx >= ? AND idx < ? ORDER BY idx`), l.meeting, start, end); err != nil {
		return nil, fmt.Errorf("log leaves: %w", err)
	}
	if int64(len(rows)) != end-start {
		return nil, fmt.Errorf("log leaves %d to %d: %w", start, end, voting.ErrNotFound)
	}
	out := make([][]byte, len(rows))
	for i, r := range rows {
		b, err := b64.DecodeString(r)
		if err != nil {
			return nil, fmt.Errorf("log leaf %d: %w", start+int64(i), err)
		}
		out[i] = b
	}
	return out, nil
}

// lockLog locks a meeting's log for an append in tx, creating it named origin when
// origin is given and it does not exist yet, and returns the log under its stored name.
func (s *Store) lockLog(ctx context.Context, tx *sqlx.Tx, meeting int64, origin string) (*voting.Log, error) {
	if origin != "" {
		if _, err := tx.ExecContext(ctx, tx.Rebind(
			`INSERT INTO vote_logs (meeting_id, origin, size) VALUES (?, ?, 0) ON CONFLICT (meeting_id) DO NOTHING`), meeting, origin); err != nil {
			return nil, fmt.Errorf("create log of meeting %d: %w", meeting, err)
		}
	}
	var stored struct {
		Origin string `db:"origin"`
		Size   int64  `db:"size"`
	}
	err := tx.GetContext(ctx, &stored, tx.Rebind(`SELECT origin, size FROM vote_logs WHERE meeting_id = ?`+s.forUpdate()), meeting)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("log of meeting %d: %w", meeting, voting.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("log of meeting %d: %w", meeting, err)
	}
	// A log keeps the name it was created with, whatever the deployment is called now:
	// its checkpoints, receipts and records all carry that name. Its size, read with
	// the lock, stands for the transaction.
	return voting.NewLog(stored.Origin, &logStore{s: s, q: tx, tx: tx, meeting: meeting, lock: true,
		size: stored.Size, sizeKnown: true}), nil
}

// LogOrigin implements voting.Store.
func (s *Store) LogOrigin(ctx context.Context, meeting int64) (string, error) {
	var origin string
	err := s.db.Reader.GetContext(ctx, &origin, s.db.Reader.Rebind(`SELECT origin FROM vote_logs WHERE meeting_id = ?`), meeting)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("log of meeting %d: %w", meeting, voting.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("log of meeting %d: %w", meeting, err)
	}
	return origin, nil
}

// SaveCheckpoint implements voting.Store.
func (s *Store) SaveCheckpoint(ctx context.Context, meeting, size int64, signed []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(
		`INSERT INTO vote_checkpoints (meeting_id, size, signed, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (meeting_id, size) DO NOTHING`),
		meeting, size, string(signed), at.UTC())
	if err != nil {
		return fmt.Errorf("save checkpoint of meeting %d at %d: %w", meeting, size, err)
	}
	return nil
}

// LatestCheckpoint implements voting.Store.
func (s *Store) LatestCheckpoint(ctx context.Context, meeting int64) ([]byte, error) {
	var signed string
	err := s.db.Reader.GetContext(ctx, &signed, s.db.Reader.Rebind(
		`SELECT signed FROM vote_checkpoints WHERE meeting_id = ? ORDER BY size DESC LIMIT 1`), meeting)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("checkpoint of meeting %d: %w", meeting, voting.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint of meeting %d: %w", meeting, err)
	}
	return []byte(signed), nil
}

// --- polls

type pollRow struct {
	ID             int64          `db:"id"`
	MeetingID      int64          `db:"meeting_id"`
	ItemID         int64          `db:"item_id"`
	MotionID       sql.NullInt64  `db:"motion_id"`
	Question       string         `db:"question"`
	Options        string         `db:"options"`
	Method         string         `db:"method"`
	Named          bool           `db:"named"`
	LiveTally      bool           `db:"live_tally"`
	Challenge      string         `db:"challenge"`
	OpenedAt       time.Time      `db:"opened_at"`
	ClosesAt       sql.NullTime   `db:"closes_at"`
	OpenedBy       sql.NullInt64  `db:"opened_by"`
	Membership     int            `db:"membership"`
	QuorumRequired int            `db:"quorum_required"`
	PresentAtOpen  int            `db:"present_at_open"`
	CastingVote    bool           `db:"casting_vote"`
	PresidingID    sql.NullInt64  `db:"presiding_id"`
	Eligible       string         `db:"eligible"`
	Overrides      string         `db:"overrides"`
	OpeningIndex   sql.NullInt64  `db:"opening_index"`
	ClosedAt       sql.NullTime   `db:"closed_at"`
	Closing        sql.NullString `db:"closing"`
	ClosingIndex   sql.NullInt64  `db:"closing_index"`
	Result         sql.NullString `db:"result"`
	RoomCount      sql.NullString `db:"room_count"`
	Declined       sql.NullString `db:"casting_declined"`
	OpeningLeaf    sql.NullString `db:"opening_leaf"`
}

// pollSelect reads polls with their opening as logged. The polls table has no column
// for a preponderant vote (the tie-break of France's rules); the opening's log entry
// records it, and it is read from there.
const pollSelect = `SELECT p.id, p.meeting_id, p.item_id, p.motion_id, p.question, p.options, p.method, p.named,
	p.live_tally, p.challenge, p.opened_at, p.closes_at, p.opened_by, p.membership, p.quorum_required,
	p.present_at_open, p.casting_vote, p.presiding_id, p.eligible, p.overrides, p.opening_index, p.closed_at,
	p.closing, p.closing_index, p.result, p.room_count, p.casting_declined, l.data AS opening_leaf
	FROM polls p LEFT JOIN vote_log_leaves l ON l.meeting_id = p.meeting_id AND l.idx = p.opening_index`

func (r pollRow) poll() (voting.Poll, error) {
	p := voting.Poll{PollOpening: voting.PollOpening{
		ID: r.ID, Meeting: r.MeetingID, Item: r.ItemID, Motion: r.MotionID.Int64,
		Question: r.Question, Method: voting.Method(r.Method), Named: r.Named, LiveTally: r.LiveTally,
		OpenedAt: r.OpenedAt.UTC(), ClosesAt: utcOrZero(r.ClosesAt), OpenedBy: r.OpenedBy.Int64,
		Membership: r.Membership, QuorumRequired: r.QuorumRequired, PresentAtOpen: r.PresentAtOpen,
		CastingVote: r.CastingVote, Presiding: r.PresidingID.Int64,
	}}
	if err := p.Challenge.UnmarshalText([]byte(r.Challenge)); err != nil {
		return voting.Poll{}, fmt.Errorf("poll %d: %w", r.ID, err)
	}
	for _, f := range []struct {
		text string
		dst  any
	}{{r.Options, &p.Options}, {r.Eligible, &p.Eligible}, {r.Overrides, &p.Overrides}} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: %w", r.ID, err)
		}
	}
	if len(p.Overrides) == 0 {
		p.Overrides = nil
	}
	if len(p.Eligible) == 0 {
		p.Eligible = nil
	}
	if r.Closing.Valid {
		p.Closing = &voting.PollClosing{}
		if err := json.Unmarshal([]byte(r.Closing.String), p.Closing); err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: %w", r.ID, err)
		}
	}
	if r.OpeningLeaf.Valid {
		leaf, err := b64.DecodeString(r.OpeningLeaf.String)
		if err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: opening: %w", r.ID, err)
		}
		e, err := voting.ParseEntry(leaf)
		if err != nil || e.Opening == nil || e.Opening.ID != r.ID {
			return voting.Poll{}, fmt.Errorf("poll %d: opening entry %d is not this poll's (%v)", r.ID, r.OpeningIndex.Int64, err)
		}
		p.PreponderantVote = e.Opening.PreponderantVote
	}
	if r.RoomCount.Valid {
		p.RoomCount = &voting.Count{}
		if err := json.Unmarshal([]byte(r.RoomCount.String), p.RoomCount); err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: room count: %w", r.ID, err)
		}
		p.RoomCount.Challenge = p.Challenge
	}
	if r.Declined.Valid {
		p.Declined = &voting.CastingDeclined{}
		if err := json.Unmarshal([]byte(r.Declined.String), p.Declined); err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: no casting vote: %w", r.ID, err)
		}
	}
	if r.Result.Valid {
		p.Result = &voting.Result{}
		if err := json.Unmarshal([]byte(r.Result.String), p.Result); err != nil {
			return voting.Poll{}, fmt.Errorf("poll %d: %w", r.ID, err)
		}
	}
	return p, nil
}

// OpenPoll implements voting.Store.
func (s *Store) OpenPoll(ctx context.Context, origin string, p *voting.PollOpening, event func(*voting.PollOpening) (voting.VoteEvent, error)) (int64, voting.VoteEvent, error) {
	if !voting.ValidOrigin(origin) {
		return 0, voting.VoteEvent{}, fmt.Errorf("open poll: %w: origin %q", voting.ErrMalformed, origin)
	}
	check := *p
	check.ID = 1
	if err := check.Validate(); err != nil {
		return 0, voting.VoteEvent{}, fmt.Errorf("open poll: %w", err)
	}
	options, _ := json.Marshal(p.Options)
	eligible, _ := json.Marshal(orEmpty(p.Eligible))
	overrides, _ := json.Marshal(orEmpty(p.Overrides))
	challenge, _ := p.Challenge.MarshalText()
	var index int64
	var ev voting.VoteEvent
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		log, err := s.lockLog(ctx, tx, p.Meeting, origin)
		if err != nil {
			return err
		}
		var busy []int64
		if err := tx.SelectContext(ctx, &busy, tx.Rebind(
			`SELECT id FROM polls WHERE meeting_id = ? AND (closed_at IS NULL OR result IS NULL) ORDER BY id`), p.Meeting); err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		if len(busy) > 0 {
			return fmt.Errorf("open poll: poll %d of meeting %d is still open or awaits its casting vote: %w", busy[0], p.Meeting, voting.ErrConflict)
		}
		var id int64
		if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO polls (meeting_id, item_id, motion_id, question, options, method,
			named, live_tally, challenge, opened_at, closes_at, opened_by, membership, quorum_required, present_at_open,
			casting_vote, presiding_id, eligible, overrides)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			p.Meeting, p.Item, nullID(p.Motion), p.Question, string(options), string(p.Method),
			p.Named, p.LiveTally, string(challenge), p.OpenedAt.UTC(), nullTime(p.ClosesAt), nullID(p.OpenedBy),
			p.Membership, p.QuorumRequired, p.PresentAtOpen, p.CastingVote, nullID(p.Presiding),
			string(eligible), string(overrides)); err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		opened := *p
		opened.ID = id
		leaf, err := voting.EncodeOpening(&opened)
		if err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		if index, err = log.Append(ctx, leaf); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET opening_index = ? WHERE id = ?`), index, id); err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		if ev, err = event(&opened); err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		if err := s.appendEvents(ctx, tx, []*voting.VoteEvent{&ev}); err != nil {
			return fmt.Errorf("open poll: %w", err)
		}
		p.ID = id
		return nil
	})
	if err != nil {
		return 0, voting.VoteEvent{}, err
	}
	return index, ev, nil
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ClosePoll implements voting.Store.
func (s *Store) ClosePoll(ctx context.Context, poll int64, decide voting.Decide) (int64, []voting.VoteEvent, error) {
	doing := fmt.Sprintf("close poll %d", poll)
	return s.settlePoll(ctx, poll, doing, func(tx *sqlx.Tx, log *voting.Log, p voting.Poll, ballots []voting.StoredBallot) (int64, []voting.VoteEvent, error) {
		if p.Closing != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, voting.ErrPollClosed)
		}
		c, final, evs, err := decide(p, ballots)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		if c.Meeting != p.Meeting || c.Item != p.Item || c.Poll != p.ID {
			return 0, nil, fmt.Errorf("%s: %w: a closing of poll %d", doing, voting.ErrMalformed, c.Poll)
		}
		leaf, err := voting.EncodeClosing(&c)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		closing, _ := json.Marshal(c)
		var result sql.NullString
		if final != nil {
			data, err := json.Marshal(final)
			if err != nil {
				return 0, nil, fmt.Errorf("%s: %w", doing, err)
			}
			result = sql.NullString{String: string(data), Valid: true}
		}
		index, err := log.Append(ctx, leaf)
		if err != nil {
			return 0, nil, err
		}
		if _, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET closed_at = ?, closing = ?, closing_index = ?, result = ? WHERE id = ?`),
			c.ClosedAt.UTC(), string(closing), index, result, poll); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		return index, evs, nil
	})
}

// DeclineCasting implements voting.Store.
func (s *Store) DeclineCasting(ctx context.Context, poll int64, decide voting.DecideDeclined) (int64, []voting.VoteEvent, error) {
	doing := fmt.Sprintf("no casting vote in poll %d", poll)
	return s.settlePoll(ctx, poll, doing, func(tx *sqlx.Tx, log *voting.Log, p voting.Poll, ballots []voting.StoredBallot) (int64, []voting.VoteEvent, error) {
		switch {
		case p.Closing == nil:
			return 0, nil, fmt.Errorf("%s: %w", doing, voting.ErrPollOpen)
		case p.Result != nil:
			return 0, nil, fmt.Errorf("%s: it has its result: %w", doing, voting.ErrPollClosed)
		}
		d, final, evs, err := decide(p, ballots)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		if d.Meeting != p.Meeting || d.Item != p.Item || d.Poll != p.ID {
			return 0, nil, fmt.Errorf("%s: %w: a declaration for poll %d", doing, voting.ErrMalformed, d.Poll)
		}
		leaf, err := voting.EncodeCastingDeclined(&d)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		declared, _ := json.Marshal(d)
		result, err := json.Marshal(final)
		if err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		index, err := log.Append(ctx, leaf)
		if err != nil {
			return 0, nil, err
		}
		if _, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET casting_declined = ?, casting_declined_index = ?, result = ? WHERE id = ?`),
			string(declared), index, string(result), poll); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", doing, err)
		}
		return index, evs, nil
	})
}

// settlePoll runs fn in one transaction with the log of the poll's meeting locked, so
// that no ballot can arrive meanwhile and what fn reads is final: the poll and its
// ballots in log order. fn logs what it decides and stores it; the events it returns
// are journaled in the same transaction. It returns the log index fn appended at and
// the events as journaled.
func (s *Store) settlePoll(ctx context.Context, poll int64, doing string,
	fn func(tx *sqlx.Tx, log *voting.Log, p voting.Poll, ballots []voting.StoredBallot) (int64, []voting.VoteEvent, error)) (int64, []voting.VoteEvent, error) {
	var meeting int64
	err := s.db.GetContext(ctx, &meeting, s.db.Rebind(`SELECT meeting_id FROM polls WHERE id = ?`), poll)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, fmt.Errorf("%s: %w", doing, voting.ErrNotFound)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", doing, err)
	}
	var index int64
	var events []voting.VoteEvent
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		log, err := s.lockLog(ctx, tx, meeting, "")
		if err != nil {
			return err
		}
		p, err := s.poll(ctx, tx, poll)
		if err != nil {
			return err
		}
		ballots, err := s.ballots(ctx, tx, poll)
		if err != nil {
			return err
		}
		i, evs, err := fn(tx, log, p, ballots)
		if err != nil {
			return err
		}
		index, events = i, slices.Clone(evs)
		return s.appendEvents(ctx, tx, pointers(events))
	})
	if err != nil {
		return 0, nil, err
	}
	return index, events, nil
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// appendEvents appends events to their meetings' journals in tx, setting each one's
// Seq, which is recalled once tx commits. It keeps the agenda's contract for the events table (agenda/sqlstore's
// AppendEvent does the same): the next sequence number comes from
//
//	UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq
//
// which also locks the meeting's row until the transaction ends, so that a meeting's
// journal has no gaps and numbers its events in commit order, whichever package
// writes them. Times are stored in UTC to the microsecond, data as JSON text.
func (s *Store) appendEvents(ctx context.Context, tx *sqlx.Tx, events []*voting.VoteEvent) error {
	for _, e := range events {
		var seq int64
		err := tx.GetContext(ctx, &seq, tx.Rebind(`UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`), e.Meeting)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("journal %s: meeting %d: %w", e.Type, e.Meeting, voting.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("journal %s: %w", e.Type, err)
		}
		data := string(e.Data)
		if len(e.Data) == 0 {
			data = "{}"
		}
		e.At = e.At.UTC().Truncate(time.Microsecond)
		if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO events (meeting_id, seq, type, at, actor_id, private, data) VALUES (?, ?, ?, ?, ?, ?, ?)`),
			e.Meeting, seq, e.Type, e.At, nullID(e.Actor), e.Private, data); err != nil {
			return fmt.Errorf("journal %s: %w", e.Type, err)
		}
		e.Seq = seq
		s.seqs.written(tx, e.Meeting, seq)
	}
	return nil
}

// SetResult implements voting.Store.
func (s *Store) SetResult(ctx context.Context, poll int64, r voting.Result, events []voting.VoteEvent) ([]voting.VoteEvent, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("result of poll %d: %w", poll, err)
	}
	events = slices.Clone(events)
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET result = ? WHERE id = ? AND closed_at IS NOT NULL`), string(data), poll)
		if err != nil {
			return fmt.Errorf("result of poll %d: %w", poll, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			var found int
			if err := tx.GetContext(ctx, &found, tx.Rebind(`SELECT COUNT(*) FROM polls WHERE id = ?`), poll); err != nil {
				return fmt.Errorf("result of poll %d: %w", poll, err)
			}
			if found == 0 {
				return fmt.Errorf("poll %d: %w", poll, voting.ErrNotFound)
			}
			return fmt.Errorf("result of poll %d: %w", poll, voting.ErrPollOpen)
		}
		return s.appendEvents(ctx, tx, pointers(events))
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}

// poll reads a poll on q, a transaction.
func (s *Store) poll(ctx context.Context, q sqlx.QueryerContext, id int64) (voting.Poll, error) {
	var r pollRow
	err := sqlx.GetContext(ctx, q, &r, s.db.Rebind(pollSelect+` WHERE p.id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return voting.Poll{}, fmt.Errorf("poll %d: %w", id, voting.ErrNotFound)
	}
	if err != nil {
		return voting.Poll{}, fmt.Errorf("poll %d: %w", id, err)
	}
	return r.poll()
}

// MeetingPolls implements voting.Store.
func (s *Store) MeetingPolls(ctx context.Context, meeting int64) ([]voting.Poll, error) {
	var rows []pollRow
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(
		pollSelect+` WHERE p.meeting_id = ? ORDER BY p.opening_index, p.id`), meeting); err != nil {
		return nil, fmt.Errorf("polls of meeting %d: %w", meeting, err)
	}
	return pollsOf(rows)
}

// OpenPolls implements voting.Store.
func (s *Store) OpenPolls(ctx context.Context) ([]voting.Poll, error) {
	var rows []pollRow
	if err := s.db.Reader.SelectContext(ctx, &rows, pollSelect+` WHERE p.closed_at IS NULL ORDER BY p.id`); err != nil {
		return nil, fmt.Errorf("open polls: %w", err)
	}
	return pollsOf(rows)
}

func pollsOf(rows []pollRow) ([]voting.Poll, error) {
	polls := make([]voting.Poll, 0, len(rows))
	for _, r := range rows {
		p, err := r.poll()
		if err != nil {
			return nil, err
		}
		polls = append(polls, p)
	}
	return polls, nil
}

// --- ballots

type ballotRow struct {
	ID         int64     `db:"id"`
	Ballot     string    `db:"ballot"`
	Signature  string    `db:"signature"`
	PublicKey  string    `db:"public_key"`
	KeyID      string    `db:"key_id"`
	LogIndex   int64     `db:"log_index"`
	ReceivedAt time.Time `db:"received_at"`
	// ReceiptSize is NULL in rows stored before it was kept, whose receipts are
	// against the log at log_index+1.
	ReceiptSize sql.NullInt64 `db:"receipt_size"`
}

const ballotSelect = `SELECT b.id, b.ballot, b.signature, k.public_key, b.key_id, b.log_index, b.received_at, b.receipt_size
	FROM ballots b JOIN voting_keys k ON k.id = b.key_id`

func (r ballotRow) stored() (voting.StoredBallot, error) {
	var sb voting.SignedBallot
	var err error
	if sb.Bytes, err = b64.DecodeString(r.Ballot); err != nil {
		return voting.StoredBallot{}, fmt.Errorf("ballot %d: %w", r.ID, err)
	}
	if sb.Signature, err = b64.DecodeString(r.Signature); err != nil {
		return voting.StoredBallot{}, fmt.Errorf("ballot %d: %w", r.ID, err)
	}
	if sb.PublicKey, err = b64.DecodeString(r.PublicKey); err != nil {
		return voting.StoredBallot{}, fmt.Errorf("ballot %d: %w", r.ID, err)
	}
	b, err := voting.ParseBallot(sb.Bytes)
	if err != nil {
		return voting.StoredBallot{}, fmt.Errorf("ballot %d: %w", r.ID, err)
	}
	size := r.LogIndex + 1
	if r.ReceiptSize.Valid {
		size = r.ReceiptSize.Int64
	}
	return voting.StoredBallot{ID: r.ID, Signed: sb, Ballot: b, Key: voting.KeyID(r.KeyID), Index: r.LogIndex,
		ReceivedAt: r.ReceivedAt.UTC(), ReceiptSize: size}, nil
}

// SubmitBallot implements voting.Store. Ordinary ballots go in their meeting's next
// batch (see batch.go); a casting vote, which decides its poll, goes on its own.
func (s *Store) SubmitBallot(ctx context.Context, in voting.BallotSubmission) (voting.StoredBallot, bool, error) {
	if in.Ballot.Casting || in.Result != nil || len(in.Events) > 0 {
		return s.submitOne(ctx, in)
	}
	return s.submitBatched(ctx, in)
}

// submitOne stores one ballot in a transaction of its own: the only leaf it appends,
// its receipt is against the log of index+1 leaves.
func (s *Store) submitOne(ctx context.Context, in voting.BallotSubmission) (voting.StoredBallot, bool, error) {
	b := in.Ballot
	leaf, err := voting.EncodeBallotEntry(in.Signed)
	if err != nil {
		return voting.StoredBallot{}, false, err
	}
	hash := in.Signed.Hash()
	hashHex := hex.EncodeToString(hash[:])
	var out voting.StoredBallot
	var dup bool
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		// Lock the log first: a concurrent close or ballot waits here, so what is read
		// below is what the append follows.
		log, err := s.lockLog(ctx, tx, b.Meeting, "")
		if err != nil {
			return err
		}
		var r ballotRow
		err = tx.GetContext(ctx, &r, tx.Rebind(ballotSelect+` WHERE b.hash = ?`), hashHex)
		if err == nil {
			dup = true
			out, err = r.stored()
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submit ballot: %w", err)
		}
		var st struct {
			Closed   sql.NullTime `db:"closed_at"`
			Hands    int          `db:"room_hands"`
			Eligible string       `db:"eligible"`
		}
		err = tx.GetContext(ctx, &st, tx.Rebind(`SELECT closed_at, room_hands, eligible FROM polls WHERE id = ? AND meeting_id = ?`), b.Poll, b.Meeting)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("submit ballot: poll %d: %w", b.Poll, voting.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("submit ballot: %w", err)
		}
		closed := st.Closed
		switch {
		case b.Casting && !closed.Valid:
			return fmt.Errorf("submit casting vote: poll %d: %w", b.Poll, voting.ErrPollOpen)
		case !b.Casting && closed.Valid:
			return fmt.Errorf("submit ballot: poll %d: %w", b.Poll, voting.ErrPollClosed)
		case b.Casting:
			var decided int
			if err := tx.GetContext(ctx, &decided, tx.Rebind(`SELECT COUNT(*) FROM polls WHERE id = ? AND result IS NOT NULL`), b.Poll); err != nil {
				return fmt.Errorf("submit casting vote: %w", err)
			}
			if decided > 0 {
				return fmt.Errorf("submit casting vote: poll %d has its result: %w", b.Poll, voting.ErrPollClosed)
			}
		}
		nonce := hex.EncodeToString(b.Nonce[:])
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM ballots WHERE poll_id = ? AND voter_id = ? AND nonce = ?`),
			b.Poll, b.Voter, nonce); err != nil {
			return fmt.Errorf("submit ballot: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("submit ballot of voter %d in poll %d: %w", b.Voter, b.Poll, voting.ErrReplay)
		}
		p := &pendingBallot{in: in}
		fallen, err := s.fallen(ctx, tx, []*pendingBallot{p})
		if err != nil {
			return err
		}
		if fallen[p] != nil {
			return fallen[p]
		}
		if !b.Casting {
			lim, err := roomLimitOf(ctx, tx, b.Poll, st.Hands, st.Eligible)
			if err != nil {
				return err
			}
			if !lim.admits(b.Voter) {
				return fmt.Errorf("submit ballot of voter %d in poll %d: the count of hands covers every member who had not voted: %w",
					b.Voter, b.Poll, voting.ErrOverCount)
			}
		}
		index, err := log.Append(ctx, leaf)
		if err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO ballots (poll_id, meeting_id, voter_id, recorder_id, proxy_id,
			casting, choice, nonce, hash, ballot, signature, key_id, cast_at, received_at, log_index, receipt_size)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			b.Poll, b.Meeting, b.Voter, nullID(b.Recorder), nullID(b.Proxy), b.Casting, b.Choice, nonce, hashHex,
			b64.EncodeToString(in.Signed.Bytes), b64.EncodeToString(in.Signed.Signature), string(in.Key),
			b.CastAt.UTC(), in.ReceivedAt.UTC(), index, index+1); err != nil {
			return fmt.Errorf("submit ballot: %w", err)
		}
		out = voting.StoredBallot{ID: id, Signed: in.Signed, Ballot: b, Key: in.Key, Index: index,
			ReceivedAt: in.ReceivedAt.UTC(), ReceiptSize: index + 1}
		if in.Result != nil {
			data, err := json.Marshal(in.Result)
			if err != nil {
				return fmt.Errorf("submit ballot: %w", err)
			}
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE polls SET result = ? WHERE id = ?`), string(data), b.Poll); err != nil {
				return fmt.Errorf("submit ballot: %w", err)
			}
		}
		out.Events = slices.Clone(in.Events)
		return s.appendEvents(ctx, tx, pointers(out.Events))
	})
	if err != nil {
		return voting.StoredBallot{}, false, err
	}
	return out, dup, nil
}

// BallotByHash implements voting.Store.
func (s *Store) BallotByHash(ctx context.Context, hash [32]byte) (voting.StoredBallot, error) {
	var r ballotRow
	err := s.db.Reader.GetContext(ctx, &r, s.db.Reader.Rebind(ballotSelect+` WHERE b.hash = ?`), hex.EncodeToString(hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return voting.StoredBallot{}, fmt.Errorf("ballot %x: %w", hash[:8], voting.ErrNotFound)
	}
	if err != nil {
		return voting.StoredBallot{}, fmt.Errorf("ballot %x: %w", hash[:8], err)
	}
	return r.stored()
}

// Ballots implements voting.Store.
func (s *Store) Ballots(ctx context.Context, poll int64) ([]voting.StoredBallot, error) {
	return s.ballots(ctx, s.db.Reader, poll)
}

func (s *Store) ballots(ctx context.Context, q sqlx.QueryerContext, poll int64) ([]voting.StoredBallot, error) {
	var rows []ballotRow
	if err := sqlx.SelectContext(ctx, q, &rows, s.db.Rebind(ballotSelect+` WHERE b.poll_id = ? ORDER BY b.log_index`), poll); err != nil {
		return nil, fmt.Errorf("ballots of poll %d: %w", poll, err)
	}
	out := make([]voting.StoredBallot, 0, len(rows))
	for _, r := range rows {
		sb, err := r.stored()
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, nil
}

// Votes implements voting.Store.
func (s *Store) Votes(ctx context.Context, poll int64) ([]voting.Vote, error) {
	var rows []struct {
		Voter    int64         `db:"voter_id"`
		Choice   string        `db:"choice"`
		Casting  bool          `db:"casting"`
		Recorder sql.NullInt64 `db:"recorder_id"`
		Proxy    sql.NullInt64 `db:"proxy_id"`
	}
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(
		`SELECT voter_id, choice, casting, recorder_id, proxy_id FROM ballots WHERE poll_id = ? ORDER BY log_index`), poll); err != nil {
		return nil, fmt.Errorf("votes of poll %d: %w", poll, err)
	}
	out := make([]voting.Vote, len(rows))
	for i, r := range rows {
		out[i] = voting.Vote{Voter: r.Voter, Choice: r.Choice, Casting: r.Casting, Recorder: r.Recorder.Int64, Proxy: r.Proxy.Int64}
	}
	return out, nil
}

// RecordRefusal implements voting.Store.
func (s *Store) RecordRefusal(ctx context.Context, r voting.Refusal) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO ballot_refusals (meeting_id, poll_id, voter_id, submitted_by, reason, hash, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`),
		r.Meeting, nullID(r.Poll), nullID(r.Voter), nullID(r.By), r.Reason, hex.EncodeToString(r.Hash[:]), r.At.UTC())
	if err != nil {
		return fmt.Errorf("record refusal: %w", err)
	}
	return nil
}

// Refusals implements voting.Store.
func (s *Store) Refusals(ctx context.Context, poll int64) ([]voting.Refusal, error) {
	var rows []struct {
		Meeting int64         `db:"meeting_id"`
		Poll    sql.NullInt64 `db:"poll_id"`
		Voter   sql.NullInt64 `db:"voter_id"`
		By      sql.NullInt64 `db:"submitted_by"`
		Reason  string        `db:"reason"`
		Hash    string        `db:"hash"`
		At      time.Time     `db:"at"`
	}
	if err := s.db.Reader.SelectContext(ctx, &rows, s.db.Reader.Rebind(`SELECT meeting_id, poll_id, voter_id, submitted_by,
		reason, hash, at FROM ballot_refusals WHERE poll_id = ? ORDER BY id`), poll); err != nil {
		return nil, fmt.Errorf("refusals in poll %d: %w", poll, err)
	}
	out := make([]voting.Refusal, len(rows))
	for i, r := range rows {
		out[i] = voting.Refusal{Meeting: r.Meeting, Poll: r.Poll.Int64, Voter: r.Voter.Int64, By: r.By.Int64, Reason: r.Reason, At: r.At.UTC()}
		if h, err := hex.DecodeString(r.Hash); err == nil && len(h) == len(out[i].Hash) {
			copy(out[i].Hash[:], h)
		}
	}
	return out, nil
}

// PollsOn counts the polls on an item (itemID 0: on the whole meeting): those without a
// result yet (open, or awaiting a casting vote), and all of them. The agenda asks, so
// that a meeting does not close or move on under an open vote.
func (s *Store) PollsOn(ctx context.Context, meetingID, itemID int64) (open, all int, err error) {
	q := `SELECT COALESCE(SUM(CASE WHEN result IS NULL THEN 1 ELSE 0 END), 0), COUNT(*) FROM polls WHERE meeting_id = ?`
	args := []any{meetingID}
	if itemID != 0 {
		q += ` AND item_id = ?`
		args = append(args, itemID)
	}
	if err := s.db.Reader.QueryRowContext(ctx, s.db.Reader.Rebind(q), args...).Scan(&open, &all); err != nil {
		return 0, 0, fmt.Errorf("polls on meeting %d: %w", meetingID, err)
	}
	return open, all, nil
}
