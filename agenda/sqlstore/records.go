package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Apologies.

// PutApology records an apology, or replaces the reason of one already recorded.
func (t *tx) PutApology(ctx context.Context, a agenda.Apology) error {
	_, err := t.exec(ctx, `INSERT INTO apologies (meeting_id, user_id, reason, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (meeting_id, user_id) DO UPDATE SET reason = excluded.reason`,
		a.MeetingID, a.UserID, a.Reason, utc(a.CreatedAt))
	if err != nil {
		return failWrite(err, "put apology", "", fmt.Sprintf("meeting %d or user %d does not exist", a.MeetingID, a.UserID))
	}
	return nil
}

func (t *tx) DeleteApology(ctx context.Context, meetingID, userID int64) error {
	n, err := t.exec(ctx, `DELETE FROM apologies WHERE meeting_id = ? AND user_id = ?`, meetingID, userID)
	if err != nil {
		return failDelete(err, "delete apology", "the apology is still referred to")
	}
	return one(n, nil, fmt.Sprintf("apology of %d at meeting", userID), meetingID, "delete")
}

func (t *tx) ListApologies(ctx context.Context, meetingID int64) ([]agenda.Apology, error) {
	var out []agenda.Apology
	if err := t.sel(ctx, &out, `SELECT meeting_id, user_id, reason, created_at FROM apologies
		WHERE meeting_id = ? ORDER BY created_at, user_id`, meetingID); err != nil {
		return nil, fmt.Errorf("list apologies of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		out[i].CreatedAt = fromDB(out[i].CreatedAt)
	}
	return out, nil
}

// Substitutions.

// PutSubstitution records that a substitute sits for a member, or changes the member a
// substitute sits for. A member has at most one substitute at a meeting: a second is
// ErrConflict.
func (t *tx) PutSubstitution(ctx context.Context, s agenda.Substitution) error {
	_, err := t.exec(ctx, `INSERT INTO substitutions (meeting_id, substitute_id, member_id, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (meeting_id, substitute_id) DO UPDATE SET member_id = excluded.member_id`,
		s.MeetingID, s.SubstituteID, s.MemberID, utc(s.CreatedAt))
	if err != nil {
		return failWrite(err, "put substitution", fmt.Sprintf("member %d already has a substitute at this meeting", s.MemberID),
			fmt.Sprintf("meeting %d, user %d or user %d does not exist", s.MeetingID, s.SubstituteID, s.MemberID))
	}
	return nil
}

func (t *tx) DeleteSubstitution(ctx context.Context, meetingID, substituteID int64) error {
	n, err := t.exec(ctx, `DELETE FROM substitutions WHERE meeting_id = ? AND substitute_id = ?`, meetingID, substituteID)
	if err != nil {
		return failDelete(err, "delete substitution", "the substitution is still referred to")
	}
	return one(n, nil, fmt.Sprintf("substitution of %d at meeting", substituteID), meetingID, "delete")
}

func (t *tx) ListSubstitutions(ctx context.Context, meetingID int64) ([]agenda.Substitution, error) {
	var out []agenda.Substitution
	if err := t.sel(ctx, &out, `SELECT meeting_id, substitute_id, member_id, created_at FROM substitutions
		WHERE meeting_id = ? ORDER BY created_at, substitute_id`, meetingID); err != nil {
		return nil, fmt.Errorf("list substitutions of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		out[i].CreatedAt = fromDB(out[i].CreatedAt)
	}
	return out, nil
}

// Declarations.

func (t *tx) CreateDeclaration(ctx context.Context, d *agenda.Declaration) error {
	d.CreatedAt = utc(d.CreatedAt)
	id, err := t.insert(ctx, `INSERT INTO declarations (meeting_id, item_id, user_id, kind, description, withdraws, dispensation, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		d.MeetingID, nullID(d.ItemID), d.UserID, d.Kind, d.Description, d.Withdraws, d.Dispensation, d.CreatedAt)
	if err != nil {
		return failWrite(err, "create declaration", "", fmt.Sprintf("meeting %d, item %d or user %d does not exist", d.MeetingID, d.ItemID, d.UserID))
	}
	d.ID = id
	return nil
}

func (t *tx) ListDeclarations(ctx context.Context, meetingID int64) ([]agenda.Declaration, error) {
	var out []agenda.Declaration
	if err := t.sel(ctx, &out, `SELECT id, meeting_id, COALESCE(item_id, 0) AS item_id, user_id, kind, description,
		withdraws, dispensation, created_at FROM declarations WHERE meeting_id = ? ORDER BY id`, meetingID); err != nil {
		return nil, fmt.Errorf("list declarations of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		out[i].CreatedAt = fromDB(out[i].CreatedAt)
	}
	return out, nil
}

// Motions.

const motionColumns = `id, meeting_id, item_id, COALESCE(amends_id, 0) AS amends_id, text,
	COALESCE(proposer_id, 0) AS proposer_id, COALESCE(seconder_id, 0) AS seconder_id, status, created_at, updated_at`

func fixMotion(m *agenda.Motion) {
	m.CreatedAt, m.UpdatedAt = fromDB(m.CreatedAt), fromDB(m.UpdatedAt)
}

func (t *tx) CreateMotion(ctx context.Context, m *agenda.Motion) error {
	m.CreatedAt, m.UpdatedAt = utc(m.CreatedAt), utc(m.UpdatedAt)
	id, err := t.insert(ctx, `INSERT INTO motions (meeting_id, item_id, amends_id, text, proposer_id, seconder_id, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.MeetingID, m.ItemID, nullID(m.AmendsID), m.Text, nullID(m.ProposerID), nullID(m.SeconderID), m.Status, m.CreatedAt, m.UpdatedAt)
	if err != nil {
		return failWrite(err, "create motion", "", "the meeting, item, motion amended, proposer or seconder does not exist")
	}
	m.ID = id
	return nil
}

// UpdateMotion stores a motion's text, movers and status; its meeting, item and what it
// amends never change.
func (t *tx) UpdateMotion(ctx context.Context, m agenda.Motion) error {
	n, err := t.exec(ctx, `UPDATE motions SET text = ?, proposer_id = ?, seconder_id = ?, status = ?, updated_at = ? WHERE id = ?`,
		m.Text, nullID(m.ProposerID), nullID(m.SeconderID), m.Status, utc(m.UpdatedAt), m.ID)
	if err != nil {
		return failWrite(err, "update motion", "", "the proposer or seconder does not exist")
	}
	return one(n, nil, "motion", m.ID, "update")
}

func (t *tx) GetMotion(ctx context.Context, id int64) (agenda.Motion, error) {
	var m agenda.Motion
	if err := t.get(ctx, &m, `SELECT `+motionColumns+` FROM motions WHERE id = ?`, id); err != nil {
		return agenda.Motion{}, failGet(err, "motion", id)
	}
	fixMotion(&m)
	return m, nil
}

func (t *tx) ListMotions(ctx context.Context, meetingID int64) ([]agenda.Motion, error) {
	var out []agenda.Motion
	if err := t.sel(ctx, &out, `SELECT `+motionColumns+` FROM motions WHERE meeting_id = ? ORDER BY id`, meetingID); err != nil {
		return nil, fmt.Errorf("list motions of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		fixMotion(&out[i])
	}
	return out, nil
}

// Attendance.

const attendanceColumns = `id, meeting_id, user_id, mode, COALESCE(proxy_holder_id, 0) AS proxy_holder_id, source,
	arrived_at, left_at`

func fixAttendance(a *agenda.Attendance) {
	a.ArrivedAt, a.LeftAt = fromDB(a.ArrivedAt), fromDBPtr(a.LeftAt)
}

func (t *tx) CreateAttendance(ctx context.Context, a *agenda.Attendance) error {
	a.ArrivedAt = utc(a.ArrivedAt)
	if a.LeftAt != nil {
		l := utc(*a.LeftAt)
		a.LeftAt = &l
	}
	id, err := t.insert(ctx, `INSERT INTO attendance (meeting_id, user_id, mode, proxy_holder_id, source, arrived_at, left_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.MeetingID, a.UserID, a.Mode, nullID(a.ProxyHolderID), a.Source, a.ArrivedAt, utcPtr(a.LeftAt))
	if err != nil {
		return failWrite(err, "create attendance", "", fmt.Sprintf("meeting %d, user %d or proxy holder %d does not exist", a.MeetingID, a.UserID, a.ProxyHolderID))
	}
	a.ID = id
	return nil
}

// CloseAttendance sets left_at on an open stretch. Closing one already closed is
// ErrConflict, so that two writers cannot both record the same departure.
func (t *tx) CloseAttendance(ctx context.Context, id int64, at time.Time) error {
	n, err := t.exec(ctx, `UPDATE attendance SET left_at = ? WHERE id = ? AND left_at IS NULL`, utc(at), id)
	if err != nil {
		return fmt.Errorf("close attendance %d: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	var exists int
	if err := t.get(ctx, &exists, `SELECT COUNT(*) FROM attendance WHERE id = ?`, id); err != nil {
		return fmt.Errorf("close attendance %d: %w", id, err)
	}
	if exists == 0 {
		return fmt.Errorf("attendance %d: %w", id, agenda.ErrNotFound)
	}
	return fmt.Errorf("the departure is already recorded: %w", agenda.ErrConflict)
}

func (t *tx) OpenAttendance(ctx context.Context, meetingID, userID int64) (agenda.Attendance, error) {
	var a agenda.Attendance
	err := t.get(ctx, &a, `SELECT `+attendanceColumns+` FROM attendance
		WHERE meeting_id = ? AND user_id = ? AND left_at IS NULL ORDER BY arrived_at DESC, id DESC LIMIT 1`, meetingID, userID)
	if err != nil {
		return agenda.Attendance{}, failGet(err, fmt.Sprintf("open attendance of %d at meeting", userID), meetingID)
	}
	fixAttendance(&a)
	return a, nil
}

func (t *tx) ListAttendance(ctx context.Context, meetingID int64) ([]agenda.Attendance, error) {
	var out []agenda.Attendance
	if err := t.sel(ctx, &out, `SELECT `+attendanceColumns+` FROM attendance WHERE meeting_id = ? ORDER BY arrived_at, id`, meetingID); err != nil {
		return nil, fmt.Errorf("list attendance of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		fixAttendance(&out[i])
	}
	return out, nil
}

// Speakers.

const speakerColumns = `s.id, s.meeting_id, s.item_id, s.name, s.capacity, s.organisation, s.email, s.seconds,
	s.position, s.created_at`

func (t *tx) CreateSpeaker(ctx context.Context, s *agenda.Speaker) error {
	s.CreatedAt = utc(s.CreatedAt)
	id, err := t.insert(ctx, `INSERT INTO speakers (meeting_id, item_id, name, capacity, organisation, email, seconds, position, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.MeetingID, s.ItemID, s.Name, s.Capacity, s.Organisation, s.Email, s.Seconds, s.Position, s.CreatedAt)
	if err != nil {
		return failWrite(err, "create speaker", "", fmt.Sprintf("meeting %d or item %d does not exist", s.MeetingID, s.ItemID))
	}
	s.ID = id
	return nil
}

func (t *tx) GetSpeaker(ctx context.Context, id int64) (agenda.Speaker, error) {
	var s agenda.Speaker
	if err := t.get(ctx, &s, `SELECT `+speakerColumns+` FROM speakers s WHERE s.id = ?`, id); err != nil {
		return agenda.Speaker{}, failGet(err, "speaker", id)
	}
	s.CreatedAt = fromDB(s.CreatedAt)
	return s, nil
}

func (t *tx) DeleteSpeaker(ctx context.Context, id int64) error {
	n, err := t.exec(ctx, `DELETE FROM speakers WHERE id = ?`, id)
	if err != nil {
		return failDelete(err, "delete speaker", "the speaker is still referred to")
	}
	return one(n, nil, "speaker", id, "delete")
}

// ListSpeakers lists a meeting's speakers in agenda order: by their item's position, then
// their own.
func (t *tx) ListSpeakers(ctx context.Context, meetingID int64) ([]agenda.Speaker, error) {
	var out []agenda.Speaker
	if err := t.sel(ctx, &out, `SELECT `+speakerColumns+` FROM speakers s JOIN items i ON i.id = s.item_id
		WHERE s.meeting_id = ? ORDER BY i.position, i.id, s.position, s.id`, meetingID); err != nil {
		return nil, fmt.Errorf("list speakers of meeting %d: %w", meetingID, err)
	}
	for i := range out {
		out[i].CreatedAt = fromDB(out[i].CreatedAt)
	}
	return out, nil
}
