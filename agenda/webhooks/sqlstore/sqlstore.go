// Package sqlstore keeps webhooks in PostgreSQL or SQLite through sqlx: one
// implementation of webhooks.Store for both dialects, over the schema in migrations.
//
// Queries are written once with ? placeholders and rebound for the dialect. Times are
// stored in UTC to the microsecond. On PostgreSQL the outbox's claims lock rows with
// FOR UPDATE SKIP LOCKED, so that workers on several nodes never take the same
// delivery and never wait on each other; SQLite has one writer at a time.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
)

// Store is a webhooks.Store on a Chamber database.
type Store struct {
	db *migrations.DB
}

var _ webhooks.Store = (*Store)(nil)

// New returns a Store on db, which must be migrated.
func New(db *migrations.DB) *Store { return &Store{db: db} }

// maxAttempts is how many times Update runs fn on PostgreSQL when the transaction fails
// with a serialization failure or a deadlock.
const maxAttempts = 5

// Update runs fn in a read-write transaction on the write pool, committing when fn
// returns nil. On PostgreSQL a transaction that fails with a serialization failure or
// a deadlock is run again, fn included, a few times.
func (s *Store) Update(ctx context.Context, fn func(webhooks.Tx) error) error {
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
func (s *Store) View(ctx context.Context, fn func(webhooks.Tx) error) error {
	return s.run(ctx, s.db.Reader, &sql.TxOptions{ReadOnly: true}, false, fn)
}

func (s *Store) run(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions, write bool, fn func(webhooks.Tx) error) error {
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
	if err := fn(&tx{tx: sx, pg: s.db.Dialect == migrations.Postgres, write: write}); err != nil {
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

// foreignKeyViolation reports whether err says a referenced row does not exist.
func foreignKeyViolation(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// tx is one transaction; it implements webhooks.Tx.
type tx struct {
	tx    *sqlx.Tx
	pg    bool
	write bool
}

var _ webhooks.Tx = (*tx)(nil)

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

// lockRows is the locking clause of a write transaction's reads on PostgreSQL.
func (t *tx) lockRows(clause string) string {
	if t.write && t.pg {
		return " " + clause
	}
	return ""
}

func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func utcPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return utc(*t)
}

func fromDBPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// --- endpoints

const endpointColumns = `id, council_id, url, description, secret, previous_secret, previous_secret_expires_at,
	event_types, active, COALESCE(created_by, 0) AS created_by, created_at, updated_at`

type endpointRow struct {
	ID             int64        `db:"id"`
	CouncilID      int64        `db:"council_id"`
	URL            string       `db:"url"`
	Description    string       `db:"description"`
	Secret         string       `db:"secret"`
	PreviousSecret string       `db:"previous_secret"`
	PreviousUntil  sql.NullTime `db:"previous_secret_expires_at"`
	EventTypes     string       `db:"event_types"`
	Active         bool         `db:"active"`
	CreatedBy      int64        `db:"created_by"`
	CreatedAt      time.Time    `db:"created_at"`
	UpdatedAt      time.Time    `db:"updated_at"`
}

func (r endpointRow) endpoint() (webhooks.Endpoint, error) {
	e := webhooks.Endpoint{ID: r.ID, CouncilID: r.CouncilID, URL: r.URL, Description: r.Description, Active: r.Active,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		PreviousSecretExpires: fromDBPtr(r.PreviousUntil),
		Keys:                  webhooks.SigningKeys{Current: r.Secret, Previous: r.PreviousSecret}}
	if err := json.Unmarshal([]byte(r.EventTypes), &e.EventTypes); err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("event types of webhook %d: %w", r.ID, err)
	}
	return e, nil
}

func eventTypes(e webhooks.Endpoint) string {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	b, _ := json.Marshal(types) // strings always encode
	return string(b)
}

func (t *tx) CreateEndpoint(ctx context.Context, e *webhooks.Endpoint) error {
	var id int64
	err := t.get(ctx, &id, `INSERT INTO webhook_endpoints (council_id, url, description, secret, previous_secret,
		previous_secret_expires_at, event_types, active, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.CouncilID, e.URL, e.Description, e.Keys.Current, e.Keys.Previous, utcPtr(e.PreviousSecretExpires),
		eventTypes(*e), e.Active, nullID(e.CreatedBy), utc(e.CreatedAt), utc(e.UpdatedAt))
	if foreignKeyViolation(err) {
		return fmt.Errorf("council %d: %w", e.CouncilID, webhooks.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	e.ID = id
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (t *tx) GetEndpoint(ctx context.Context, id int64) (webhooks.Endpoint, error) {
	var r endpointRow
	err := t.get(ctx, &r, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return webhooks.Endpoint{}, fmt.Errorf("webhook %d: %w", id, webhooks.ErrNotFound)
	}
	if err != nil {
		return webhooks.Endpoint{}, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return r.endpoint()
}

func (t *tx) ListEndpoints(ctx context.Context, councilID int64) ([]webhooks.Endpoint, error) {
	var rows []endpointRow
	if err := t.sel(ctx, &rows, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE council_id = ? ORDER BY id`, councilID); err != nil {
		return nil, fmt.Errorf("webhooks of council %d: %w", councilID, err)
	}
	out := make([]webhooks.Endpoint, 0, len(rows))
	for _, r := range rows {
		e, err := r.endpoint()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (t *tx) UpdateEndpoint(ctx context.Context, e webhooks.Endpoint) error {
	n, err := t.exec(ctx, `UPDATE webhook_endpoints SET url = ?, description = ?, secret = ?, previous_secret = ?,
		previous_secret_expires_at = ?, event_types = ?, active = ?, updated_at = ? WHERE id = ?`,
		e.URL, e.Description, e.Keys.Current, e.Keys.Previous, utcPtr(e.PreviousSecretExpires), eventTypes(e), e.Active,
		utc(e.UpdatedAt), e.ID)
	if err != nil {
		return fmt.Errorf("update webhook %d: %w", e.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("webhook %d: %w", e.ID, webhooks.ErrNotFound)
	}
	return nil
}

func (t *tx) DeleteEndpoint(ctx context.Context, id int64) error {
	// The attempts go with their deliveries and those with their endpoint (ON DELETE
	// CASCADE).
	n, err := t.exec(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("webhook %d: %w", id, webhooks.ErrNotFound)
	}
	return nil
}

// --- the journal and the cursors

func (t *tx) MeetingsBehind(ctx context.Context, limit int) ([]int64, error) {
	var ids []int64
	err := t.sel(ctx, &ids, `SELECT m.id FROM meetings m LEFT JOIN webhook_cursors c ON c.meeting_id = m.id
		WHERE m.published AND m.last_seq > COALESCE(c.seq, 0) ORDER BY m.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("meetings behind: %w", err)
	}
	return ids, nil
}

func (t *tx) LockCursor(ctx context.Context, meetingID int64) (int64, bool, error) {
	if _, err := t.exec(ctx, `INSERT INTO webhook_cursors (meeting_id, seq) VALUES (?, 0) ON CONFLICT (meeting_id) DO NOTHING`, meetingID); err != nil {
		if foreignKeyViolation(err) {
			return 0, false, fmt.Errorf("meeting %d: %w", meetingID, webhooks.ErrNotFound)
		}
		return 0, false, fmt.Errorf("cursor of meeting %d: %w", meetingID, err)
	}
	var seq int64
	err := t.get(ctx, &seq, `SELECT seq FROM webhook_cursors WHERE meeting_id = ?`+t.lockRows("FOR UPDATE SKIP LOCKED"), meetingID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil // another node holds it
	}
	if err != nil {
		return 0, false, fmt.Errorf("cursor of meeting %d: %w", meetingID, err)
	}
	return seq, true, nil
}

func (t *tx) SetCursor(ctx context.Context, meetingID, seq int64) error {
	if _, err := t.exec(ctx, `UPDATE webhook_cursors SET seq = ? WHERE meeting_id = ?`, seq, meetingID); err != nil {
		return fmt.Errorf("move cursor of meeting %d: %w", meetingID, err)
	}
	return nil
}

func (t *tx) JournalState(ctx context.Context, meetingID int64) (webhooks.JournalState, error) {
	var r struct {
		CouncilID int64 `db:"council_id"`
		Published bool  `db:"published"`
		LastSeq   int64 `db:"last_seq"`
	}
	err := t.get(ctx, &r, `SELECT c.council_id, m.published, m.last_seq FROM meetings m
		JOIN committees c ON c.id = m.committee_id WHERE m.id = ?`, meetingID)
	if errors.Is(err, sql.ErrNoRows) {
		return webhooks.JournalState{}, fmt.Errorf("meeting %d: %w", meetingID, webhooks.ErrNotFound)
	}
	if err != nil {
		return webhooks.JournalState{}, fmt.Errorf("meeting %d: %w", meetingID, err)
	}
	return webhooks.JournalState{CouncilID: r.CouncilID, Published: r.Published, LastSeq: r.LastSeq}, nil
}

type eventRow struct {
	MeetingID int64     `db:"meeting_id"`
	Seq       int64     `db:"seq"`
	Type      string    `db:"type"`
	At        time.Time `db:"at"`
	ActorID   int64     `db:"actor_id"`
	Private   bool      `db:"private"`
	Data      string    `db:"data"`
}

func (t *tx) Events(ctx context.Context, meetingID, afterSeq, throughSeq int64, limit int) ([]agenda.Event, error) {
	var rows []eventRow
	err := t.sel(ctx, &rows, `SELECT meeting_id, seq, type, at, COALESCE(actor_id, 0) AS actor_id, private, data
		FROM events WHERE meeting_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, meetingID, afterSeq, throughSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("events of meeting %d: %w", meetingID, err)
	}
	out := make([]agenda.Event, len(rows))
	for i, r := range rows {
		out[i] = agenda.Event{MeetingID: r.MeetingID, Seq: r.Seq, Type: r.Type, At: r.At.UTC(), ActorID: r.ActorID,
			Private: r.Private, Data: json.RawMessage(r.Data)}
	}
	return out, nil
}

// --- deliveries

const deliveryColumns = `id, endpoint_id, council_id, meeting_id, seq, type, payload, status, attempts, next_attempt_at,
	COALESCE(claim, '') AS claim, locked_until, last_attempt_at, COALESCE(last_status_code, 0) AS last_status_code,
	last_error, delivered_at, created_at`

type deliveryRow struct {
	ID             string       `db:"id"`
	EndpointID     int64        `db:"endpoint_id"`
	CouncilID      int64        `db:"council_id"`
	MeetingID      int64        `db:"meeting_id"`
	Seq            int64        `db:"seq"`
	Type           string       `db:"type"`
	Payload        string       `db:"payload"`
	Status         string       `db:"status"`
	Attempts       int          `db:"attempts"`
	NextAttemptAt  sql.NullTime `db:"next_attempt_at"`
	Claim          string       `db:"claim"`
	LockedUntil    sql.NullTime `db:"locked_until"`
	LastAttemptAt  sql.NullTime `db:"last_attempt_at"`
	LastStatusCode int          `db:"last_status_code"`
	LastError      string       `db:"last_error"`
	DeliveredAt    sql.NullTime `db:"delivered_at"`
	CreatedAt      time.Time    `db:"created_at"`
}

func (r deliveryRow) delivery() webhooks.Delivery {
	return webhooks.Delivery{ID: r.ID, EndpointID: r.EndpointID, CouncilID: r.CouncilID, MeetingID: r.MeetingID, Seq: r.Seq,
		Type: r.Type, Payload: json.RawMessage(r.Payload), Status: webhooks.DeliveryStatus(r.Status), Attempts: r.Attempts,
		NextAttemptAt: fromDBPtr(r.NextAttemptAt), Claim: r.Claim, LockedUntil: fromDBPtr(r.LockedUntil),
		LastAttemptAt: fromDBPtr(r.LastAttemptAt), LastStatusCode: r.LastStatusCode, LastError: r.LastError,
		DeliveredAt: fromDBPtr(r.DeliveredAt), CreatedAt: r.CreatedAt.UTC()}
}

func deliveries(rows []deliveryRow) []webhooks.Delivery {
	out := make([]webhooks.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.delivery()
	}
	return out
}

func (t *tx) CreateDelivery(ctx context.Context, d webhooks.Delivery) (bool, error) {
	n, err := t.exec(ctx, `INSERT INTO webhook_deliveries (id, endpoint_id, council_id, meeting_id, seq, type, payload, status,
		attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (endpoint_id, meeting_id, seq) DO NOTHING`,
		d.ID, d.EndpointID, d.CouncilID, d.MeetingID, d.Seq, d.Type, string(d.Payload), string(d.Status), d.Attempts,
		utcPtr(d.NextAttemptAt), utc(d.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("create delivery of event %d of meeting %d: %w", d.Seq, d.MeetingID, err)
	}
	return n == 1, nil
}

func (t *tx) GetDelivery(ctx context.Context, id string) (webhooks.Delivery, error) {
	var r deliveryRow
	err := t.get(ctx, &r, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`+t.lockRows("FOR UPDATE"), id)
	if errors.Is(err, sql.ErrNoRows) {
		return webhooks.Delivery{}, fmt.Errorf("delivery %s: %w", id, webhooks.ErrNotFound)
	}
	if err != nil {
		return webhooks.Delivery{}, fmt.Errorf("get delivery %s: %w", id, err)
	}
	return r.delivery(), nil
}

func (t *tx) ListDeliveries(ctx context.Context, f webhooks.DeliveryFilter) ([]webhooks.Delivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE endpoint_id = ?`
	args := []any{f.EndpointID}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.After != "" {
		q += ` AND id < ?`
		args = append(args, f.After)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	var rows []deliveryRow
	if err := t.sel(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("deliveries of webhook %d: %w", f.EndpointID, err)
	}
	return deliveries(rows), nil
}

func (t *tx) ClaimDue(ctx context.Context, now, leaseUntil time.Time, claim string, limit int) ([]webhooks.Delivery, error) {
	var rows []deliveryRow
	err := t.sel(ctx, &rows, `UPDATE webhook_deliveries SET claim = ?, locked_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
			WHERE d.status = 'pending' AND d.locked_until IS NULL AND d.next_attempt_at <= ? AND e.active
			ORDER BY d.next_attempt_at, d.id LIMIT ?`+t.lockRows("FOR UPDATE OF d SKIP LOCKED")+`)
		RETURNING `+deliveryColumns,
		claim, utc(leaseUntil), utc(now), limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out := deliveries(rows)
	slices.SortFunc(out, func(a, b webhooks.Delivery) int {
		if c := a.NextAttemptAt.Compare(*b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (t *tx) ExpiredLeases(ctx context.Context, now time.Time, limit int) ([]webhooks.Delivery, error) {
	var rows []deliveryRow
	err := t.sel(ctx, &rows, `SELECT `+deliveryColumns+` FROM webhook_deliveries
		WHERE locked_until IS NOT NULL AND locked_until <= ? AND status = 'pending'
		ORDER BY locked_until, id LIMIT ?`+t.lockRows("FOR UPDATE SKIP LOCKED"), utc(now), limit)
	if err != nil {
		return nil, fmt.Errorf("deliveries with lapsed leases: %w", err)
	}
	return deliveries(rows), nil
}

func (t *tx) SettleDelivery(ctx context.Context, d webhooks.Delivery, claim string) (bool, error) {
	q := `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, claim = NULL, locked_until = NULL,
		last_attempt_at = ?, last_status_code = ?, last_error = ?, delivered_at = ? WHERE id = ?`
	args := []any{string(d.Status), d.Attempts, utcPtr(d.NextAttemptAt), utcPtr(d.LastAttemptAt), nullInt(d.LastStatusCode),
		d.LastError, utcPtr(d.DeliveredAt), d.ID}
	if claim != "" {
		q += ` AND claim = ?`
		args = append(args, claim)
	}
	n, err := t.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("update delivery %s: %w", d.ID, err)
	}
	if n == 0 && claim == "" {
		return false, fmt.Errorf("delivery %s: %w", d.ID, webhooks.ErrNotFound)
	}
	return n == 1, nil
}

func (t *tx) CancelPending(ctx context.Context, endpointID int64, at time.Time, reason string) error {
	_, err := t.exec(ctx, `UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, claim = NULL,
		locked_until = NULL, last_error = ? WHERE endpoint_id = ? AND status = 'pending'`, reason, endpointID)
	if err != nil {
		return fmt.Errorf("cancel deliveries of webhook %d: %w", endpointID, err)
	}
	return nil
}

type attemptRow struct {
	ID         int64     `db:"id"`
	DeliveryID string    `db:"delivery_id"`
	Number     int       `db:"attempt"`
	At         time.Time `db:"at"`
	DurationMS int64     `db:"duration_ms"`
	StatusCode int       `db:"status_code"`
	Error      string    `db:"error"`
	Response   string    `db:"response"`
}

func (t *tx) LogAttempt(ctx context.Context, a *webhooks.Attempt) error {
	a.At = utc(a.At)
	var id int64
	err := t.get(ctx, &id, `INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, status_code, error, response)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.DeliveryID, a.Number, a.At, a.DurationMS, nullInt(a.StatusCode), a.Error, a.Response)
	if err != nil {
		return fmt.Errorf("log attempt at delivery %s: %w", a.DeliveryID, err)
	}
	a.ID = id
	return nil
}

func (t *tx) Attempts(ctx context.Context, deliveryID string) ([]webhooks.Attempt, error) {
	var rows []attemptRow
	err := t.sel(ctx, &rows, `SELECT id, delivery_id, attempt, at, duration_ms, COALESCE(status_code, 0) AS status_code,
		error, response FROM webhook_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("log of delivery %s: %w", deliveryID, err)
	}
	out := make([]webhooks.Attempt, len(rows))
	for i, r := range rows {
		out[i] = webhooks.Attempt{ID: r.ID, DeliveryID: r.DeliveryID, Number: r.Number, At: r.At.UTC(), DurationMS: r.DurationMS,
			StatusCode: r.StatusCode, Error: r.Error, Response: r.Response}
	}
	return out, nil
}

func (t *tx) Prune(ctx context.Context, before time.Time) (int64, error) {
	n, err := t.exec(ctx, `DELETE FROM webhook_deliveries WHERE created_at < ? AND status IN ('delivered', 'failed')`, utc(before))
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	return n, nil
}
