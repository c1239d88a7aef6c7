package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

// meetingQuery reads meetings with their committee's council.
const meetingQuery = `SELECT m.id, m.committee_id, c.council_id, m.title, m.starts_at, m.location, m.published,
	m.status, m.session, COALESCE(m.private_paragraph, 0) AS private_paragraph,
	COALESCE(m.current_item_id, 0) AS current_item_id, m.last_seq, m.started_at, m.closed_at,
	m.created_at, m.updated_at
	FROM meetings m JOIN committees c ON c.id = m.committee_id`

func fixMeeting(m *agenda.Meeting) {
	m.StartsAt, m.CreatedAt, m.UpdatedAt = fromDB(m.StartsAt), fromDB(m.CreatedAt), fromDB(m.UpdatedAt)
	m.StartedAt, m.ClosedAt = fromDBPtr(m.StartedAt), fromDBPtr(m.ClosedAt)
}

// normMeeting puts m's times in the form they are stored in.
func normMeeting(m *agenda.Meeting) {
	m.StartsAt, m.CreatedAt, m.UpdatedAt = utc(m.StartsAt), utc(m.CreatedAt), utc(m.UpdatedAt)
	if m.StartedAt != nil {
		s := utc(*m.StartedAt)
		m.StartedAt = &s
	}
	if m.ClosedAt != nil {
		c := utc(*m.ClosedAt)
		m.ClosedAt = &c
	}
}

// CreateMeeting stores a new meeting. Its council is its committee's, and its journal
// starts empty (LastSeq 0) whatever m says.
func (t *tx) CreateMeeting(ctx context.Context, m *agenda.Meeting) error {
	var councilID int64
	if err := t.get(ctx, &councilID, `SELECT council_id FROM committees WHERE id = ?`, m.CommitteeID); err != nil {
		return failGet(err, "committee", m.CommitteeID)
	}
	normMeeting(m)
	id, err := t.insert(ctx, `INSERT INTO meetings (committee_id, title, starts_at, location, published, status, session,
		private_paragraph, current_item_id, last_seq, started_at, closed_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id`,
		m.CommitteeID, m.Title, m.StartsAt, m.Location, m.Published, m.Status, m.Session,
		nullInt(m.PrivateParagraph), nullID(m.CurrentItemID), utcPtr(m.StartedAt), utcPtr(m.ClosedAt), m.CreatedAt, m.UpdatedAt)
	if err != nil {
		return failWrite(err, "create meeting", "", "")
	}
	m.ID, m.CouncilID, m.LastSeq = id, councilID, 0
	return nil
}

// UpdateMeeting stores a meeting's details and state. It never writes last_seq, which
// only AppendEvent moves, nor the meeting's committee or creation time.
func (t *tx) UpdateMeeting(ctx context.Context, m agenda.Meeting) error {
	n, err := t.exec(ctx, `UPDATE meetings SET title = ?, starts_at = ?, location = ?, published = ?, status = ?,
		session = ?, private_paragraph = ?, current_item_id = ?, started_at = ?, closed_at = ?, updated_at = ?
		WHERE id = ?`,
		m.Title, utc(m.StartsAt), m.Location, m.Published, m.Status, m.Session, nullInt(m.PrivateParagraph),
		nullID(m.CurrentItemID), utcPtr(m.StartedAt), utcPtr(m.ClosedAt), utc(m.UpdatedAt), m.ID)
	if err != nil {
		return failWrite(err, "update meeting", "", "")
	}
	return one(n, nil, "meeting", m.ID, "update")
}

// GetMeeting reads a meeting. In a write transaction on PostgreSQL it also locks the
// meeting's row until the transaction ends, so that a change decided on what was read
// cannot interleave with another change to the same meeting.
func (t *tx) GetMeeting(ctx context.Context, id int64) (agenda.Meeting, error) {
	q := meetingQuery + ` WHERE m.id = ?`
	if t.write && t.dialect == migrations.Postgres {
		q += ` FOR NO KEY UPDATE OF m`
	}
	var m agenda.Meeting
	if err := t.get(ctx, &m, q, id); err != nil {
		return agenda.Meeting{}, failGet(err, "meeting", id)
	}
	fixMeeting(&m)
	return m, nil
}

// ListMeetings lists meetings by start time and id. When PublishedOnly is set, a meeting
// passes if it is published, or of one of VisibleCommittees, or of one of
// VisibleCouncils. From is inclusive, To exclusive.
func (t *tx) ListMeetings(ctx context.Context, f agenda.MeetingFilter) ([]agenda.Meeting, error) {
	var where []string
	var args []any
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.CouncilID != 0 {
		add(`c.council_id = ?`, f.CouncilID)
	}
	if f.CommitteeID != 0 {
		add(`m.committee_id = ?`, f.CommitteeID)
	}
	if f.Status != "" {
		add(`m.status = ?`, f.Status)
	}
	if f.PublishedOnly {
		or := []string{`m.published`}
		var orArgs []any
		if len(f.VisibleCommittees) > 0 {
			or = append(or, `m.committee_id IN (?)`)
			orArgs = append(orArgs, f.VisibleCommittees)
		}
		if len(f.VisibleCouncils) > 0 {
			or = append(or, `c.council_id IN (?)`)
			orArgs = append(orArgs, f.VisibleCouncils)
		}
		add(`(`+strings.Join(or, ` OR `)+`)`, orArgs...)
	}
	if !f.From.IsZero() {
		add(`m.starts_at >= ?`, utc(f.From))
	}
	if !f.To.IsZero() {
		add(`m.starts_at < ?`, utc(f.To))
	}
	if f.After != nil {
		at := utc(f.After.StartsAt)
		add(`(m.starts_at > ? OR (m.starts_at = ? AND m.id > ?))`, at, at, f.After.ID)
	}
	q := meetingQuery
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY m.starts_at, m.id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	q, args, err := sqlx.In(q, args...)
	if err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	var out []agenda.Meeting
	if err := t.sel(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list meetings: %w", err)
	}
	for i := range out {
		fixMeeting(&out[i])
	}
	return out, nil
}

// Journal.

type eventRow struct {
	MeetingID int64     `db:"meeting_id"`
	Seq       int64     `db:"seq"`
	Type      string    `db:"type"`
	At        time.Time `db:"at"`
	ActorID   int64     `db:"actor_id"`
	Private   bool      `db:"private"`
	Data      string    `db:"data"`
}

// AppendEvent gives e the meeting's next sequence number and stores it. Taking the
// number updates the meeting's row, so concurrent writers to one meeting queue there and
// the numbers have no gaps.
func (t *tx) AppendEvent(ctx context.Context, e *agenda.Event) error {
	var seq int64
	if err := t.get(ctx, &seq, `UPDATE meetings SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq`, e.MeetingID); err != nil {
		return failGet(err, "meeting", e.MeetingID)
	}
	data := string(e.Data)
	if len(e.Data) == 0 {
		data = "{}"
	}
	e.At = utc(e.At)
	_, err := t.exec(ctx, `INSERT INTO events (meeting_id, seq, type, at, actor_id, private, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.MeetingID, seq, e.Type, e.At, nullID(e.ActorID), e.Private, data)
	if err != nil {
		return failWrite(err, "append event", fmt.Sprintf("event %d of meeting %d already exists", seq, e.MeetingID), "")
	}
	e.Seq = seq
	return nil
}

func (t *tx) Events(ctx context.Context, meetingID, afterSeq int64, limit int) ([]agenda.Event, error) {
	q := `SELECT meeting_id, seq, type, at, COALESCE(actor_id, 0) AS actor_id, private, data
		FROM events WHERE meeting_id = ? AND seq > ? ORDER BY seq`
	args := []any{meetingID, afterSeq}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	var rows []eventRow
	if err := t.sel(ctx, &rows, q, args...); err != nil {
		return nil, fmt.Errorf("events of meeting %d: %w", meetingID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]agenda.Event, len(rows))
	for i, r := range rows {
		out[i] = agenda.Event{MeetingID: r.MeetingID, Seq: r.Seq, Type: r.Type, At: fromDB(r.At), ActorID: r.ActorID,
			Private: r.Private, Data: []byte(r.Data)}
	}
	return out, nil
}
