package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chamber/chamber/agenda"
)

type itemRow struct {
	ID                int64      `db:"id"`
	MeetingID         int64      `db:"meeting_id"`
	Position          int        `db:"position"`
	Number            string     `db:"number"`
	Title             string     `db:"title"`
	Description       string     `db:"description"`
	Kind              string     `db:"kind"`
	ExemptParagraph   int        `db:"exempt_paragraph"`
	WholeItemPresence bool       `db:"whole_item_presence"`
	Papers            string     `db:"papers"`
	Status            string     `db:"status"`
	StartedAt         *time.Time `db:"started_at"`
	EndedAt           *time.Time `db:"ended_at"`
	Notes             string     `db:"notes"`
	Decision          string     `db:"decision"`
	CreatedAt         time.Time  `db:"created_at"`
}

const itemColumns = `id, meeting_id, position, number, title, description, kind,
	COALESCE(exempt_paragraph, 0) AS exempt_paragraph, whole_item_presence, papers, status,
	started_at, ended_at, notes, decision, created_at`

func (r itemRow) item() (agenda.Item, error) {
	it := agenda.Item{ID: r.ID, MeetingID: r.MeetingID, Position: r.Position, Number: r.Number, Title: r.Title,
		Description: r.Description, Kind: agenda.ItemKind(r.Kind), ExemptParagraph: r.ExemptParagraph,
		WholeItemPresence: r.WholeItemPresence, Status: agenda.ItemStatus(r.Status), StartedAt: fromDBPtr(r.StartedAt),
		EndedAt: fromDBPtr(r.EndedAt), Notes: r.Notes, Decision: r.Decision, CreatedAt: fromDB(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Papers), &it.Papers); err != nil {
		return agenda.Item{}, fmt.Errorf("item %d: decode papers: %w", r.ID, err)
	}
	if it.Papers == nil {
		it.Papers = []agenda.Paper{}
	}
	return it, nil
}

func encodePapers(p []agenda.Paper) (string, error) {
	if len(p) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode papers: %w", err)
	}
	return string(b), nil
}

func normItem(it *agenda.Item) {
	it.CreatedAt = utc(it.CreatedAt)
	if it.StartedAt != nil {
		s := utc(*it.StartedAt)
		it.StartedAt = &s
	}
	if it.EndedAt != nil {
		e := utc(*it.EndedAt)
		it.EndedAt = &e
	}
}

func (t *tx) CreateItem(ctx context.Context, it *agenda.Item) error {
	papers, err := encodePapers(it.Papers)
	if err != nil {
		return err
	}
	normItem(it)
	id, err := t.insert(ctx, `INSERT INTO items (meeting_id, position, number, title, description, kind, exempt_paragraph,
		whole_item_presence, papers, status, started_at, ended_at, notes, decision, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		it.MeetingID, it.Position, it.Number, it.Title, it.Description, it.Kind, nullInt(it.ExemptParagraph),
		it.WholeItemPresence, papers, it.Status, utcPtr(it.StartedAt), utcPtr(it.EndedAt), it.Notes, it.Decision, it.CreatedAt)
	if err != nil {
		return failWrite(err, "create item", "", fmt.Sprintf("meeting %d does not exist", it.MeetingID))
	}
	it.ID = id
	return nil
}

// UpdateItem stores an item's place, details and state; its meeting and creation time
// never change.
func (t *tx) UpdateItem(ctx context.Context, it agenda.Item) error {
	papers, err := encodePapers(it.Papers)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE items SET position = ?, number = ?, title = ?, description = ?, kind = ?,
		exempt_paragraph = ?, whole_item_presence = ?, papers = ?, status = ?, started_at = ?, ended_at = ?,
		notes = ?, decision = ? WHERE id = ?`,
		it.Position, it.Number, it.Title, it.Description, it.Kind, nullInt(it.ExemptParagraph), it.WholeItemPresence,
		papers, it.Status, utcPtr(it.StartedAt), utcPtr(it.EndedAt), it.Notes, it.Decision, it.ID)
	if err != nil {
		return failWrite(err, "update item", "", "")
	}
	return one(n, nil, "item", it.ID, "update")
}

func (t *tx) DeleteItem(ctx context.Context, id int64) error {
	n, err := t.exec(ctx, `DELETE FROM items WHERE id = ?`, id)
	if err != nil {
		return failDelete(err, "delete item", "the item is still referred to")
	}
	return one(n, nil, "item", id, "delete")
}

func (t *tx) GetItem(ctx context.Context, id int64) (agenda.Item, error) {
	var r itemRow
	if err := t.get(ctx, &r, `SELECT `+itemColumns+` FROM items WHERE id = ?`, id); err != nil {
		return agenda.Item{}, failGet(err, "item", id)
	}
	return r.item()
}

func (t *tx) ListItems(ctx context.Context, meetingID int64) ([]agenda.Item, error) {
	var rows []itemRow
	if err := t.sel(ctx, &rows, `SELECT `+itemColumns+` FROM items WHERE meeting_id = ? ORDER BY position, id`, meetingID); err != nil {
		return nil, fmt.Errorf("list items of meeting %d: %w", meetingID, err)
	}
	var out []agenda.Item
	for _, r := range rows {
		it, err := r.item()
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}
