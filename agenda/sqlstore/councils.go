package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/chamber/chamber/agenda"
)

func (t *tx) CreateCouncil(ctx context.Context, c *agenda.Council) error {
	c.CreatedAt = utc(c.CreatedAt)
	id, err := t.insert(ctx, `INSERT INTO councils (slug, name, created_at) VALUES (?, ?, ?) RETURNING id`,
		c.Slug, c.Name, c.CreatedAt)
	if err != nil {
		return failWrite(err, "create council", fmt.Sprintf("a council with the short name %q already exists", c.Slug), "")
	}
	c.ID = id
	return nil
}

func (t *tx) GetCouncil(ctx context.Context, id int64) (agenda.Council, error) {
	var c agenda.Council
	if err := t.get(ctx, &c, `SELECT id, slug, name, created_at FROM councils WHERE id = ?`, id); err != nil {
		return agenda.Council{}, failGet(err, "council", id)
	}
	c.CreatedAt = fromDB(c.CreatedAt)
	return c, nil
}

func (t *tx) ListCouncils(ctx context.Context) ([]agenda.Council, error) {
	var out []agenda.Council
	if err := t.sel(ctx, &out, `SELECT id, slug, name, created_at FROM councils ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list councils: %w", err)
	}
	for i := range out {
		out[i].CreatedAt = fromDB(out[i].CreatedAt)
	}
	return out, nil
}

// People.

func (t *tx) PutPerson(ctx context.Context, p agenda.Person) error {
	_, err := t.exec(ctx, `INSERT INTO council_roles (council_id, user_id, role, title, party) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (council_id, user_id) DO UPDATE SET role = excluded.role, title = excluded.title, party = excluded.party`,
		p.CouncilID, p.UserID, p.Role, p.Title, p.Party)
	if err != nil {
		return failWrite(err, "put person", "", fmt.Sprintf("council %d or user %d does not exist", p.CouncilID, p.UserID))
	}
	return nil
}

const personQuery = `SELECT r.user_id, r.council_id, u.name, u.email, r.role, r.title, r.party, u.password_hash = '' AS invited
	FROM council_roles r JOIN users u ON u.id = r.user_id`

func (t *tx) GetPerson(ctx context.Context, councilID, userID int64) (agenda.Person, error) {
	var p agenda.Person
	if err := t.get(ctx, &p, personQuery+` WHERE r.council_id = ? AND r.user_id = ?`, councilID, userID); err != nil {
		return agenda.Person{}, failGet(err, fmt.Sprintf("person %d in council", userID), councilID)
	}
	return p, nil
}

func (t *tx) ListPeople(ctx context.Context, councilID int64) ([]agenda.Person, error) {
	var out []agenda.Person
	if err := t.sel(ctx, &out, personQuery+` WHERE r.council_id = ? ORDER BY u.name, u.id`, councilID); err != nil {
		return nil, fmt.Errorf("list people of council %d: %w", councilID, err)
	}
	return out, nil
}

func (t *tx) CouncilRoles(ctx context.Context, userID int64) (map[int64]agenda.CouncilRole, error) {
	var rows []struct {
		CouncilID int64              `db:"council_id"`
		Role      agenda.CouncilRole `db:"role"`
	}
	if err := t.sel(ctx, &rows, `SELECT council_id, role FROM council_roles WHERE user_id = ?`, userID); err != nil {
		return nil, fmt.Errorf("council roles of user %d: %w", userID, err)
	}
	out := make(map[int64]agenda.CouncilRole, len(rows))
	for _, r := range rows {
		out[r.CouncilID] = r.Role
	}
	return out, nil
}

// Committees.

type committeeRow struct {
	ID          int64     `db:"id"`
	CouncilID   int64     `db:"council_id"`
	Slug        string    `db:"slug"`
	Name        string    `db:"name"`
	ProfileName string    `db:"profile_name"`
	Profile     string    `db:"profile"`
	Overrides   string    `db:"overrides"`
	CreatedAt   time.Time `db:"created_at"`
}

const committeeColumns = `id, council_id, slug, name, profile_name, profile, overrides, created_at`

func (r committeeRow) committee() (agenda.Committee, error) {
	c := agenda.Committee{ID: r.ID, CouncilID: r.CouncilID, Slug: r.Slug, Name: r.Name, ProfileName: r.ProfileName,
		CreatedAt: fromDB(r.CreatedAt)}
	if err := json.Unmarshal([]byte(r.Profile), &c.Profile); err != nil {
		return agenda.Committee{}, fmt.Errorf("committee %d: decode profile: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Overrides), &c.Overrides); err != nil {
		return agenda.Committee{}, fmt.Errorf("committee %d: decode overrides: %w", r.ID, err)
	}
	return c, nil
}

func encodeProfile(c agenda.Committee) (profile, overrides string, err error) {
	p, err := json.Marshal(c.Profile)
	if err != nil {
		return "", "", fmt.Errorf("encode profile: %w", err)
	}
	o, err := json.Marshal(c.Overrides)
	if err != nil {
		return "", "", fmt.Errorf("encode overrides: %w", err)
	}
	return string(p), string(o), nil
}

func slugTaken(slug string) string {
	return fmt.Sprintf("the council already has a committee with the short name %q", slug)
}

func (t *tx) CreateCommittee(ctx context.Context, c *agenda.Committee) error {
	profile, overrides, err := encodeProfile(*c)
	if err != nil {
		return err
	}
	c.CreatedAt = utc(c.CreatedAt)
	id, err := t.insert(ctx, `INSERT INTO committees (council_id, slug, name, profile_name, profile, overrides, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		c.CouncilID, c.Slug, c.Name, c.ProfileName, profile, overrides, c.CreatedAt)
	if err != nil {
		return failWrite(err, "create committee", slugTaken(c.Slug), fmt.Sprintf("council %d does not exist", c.CouncilID))
	}
	c.ID = id
	return nil
}

func (t *tx) UpdateCommittee(ctx context.Context, c agenda.Committee) error {
	profile, overrides, err := encodeProfile(c)
	if err != nil {
		return err
	}
	n, err := t.exec(ctx, `UPDATE committees SET slug = ?, name = ?, profile_name = ?, profile = ?, overrides = ? WHERE id = ?`,
		c.Slug, c.Name, c.ProfileName, profile, overrides, c.ID)
	if err != nil {
		return failWrite(err, "update committee", slugTaken(c.Slug), "")
	}
	return one(n, nil, "committee", c.ID, "update")
}

func (t *tx) GetCommittee(ctx context.Context, id int64) (agenda.Committee, error) {
	var r committeeRow
	if err := t.get(ctx, &r, `SELECT `+committeeColumns+` FROM committees WHERE id = ?`, id); err != nil {
		return agenda.Committee{}, failGet(err, "committee", id)
	}
	return r.committee()
}

func (t *tx) ListCommittees(ctx context.Context, councilID int64) ([]agenda.Committee, error) {
	var rows []committeeRow
	if err := t.sel(ctx, &rows, `SELECT `+committeeColumns+` FROM committees WHERE council_id = ? ORDER BY id`, councilID); err != nil {
		return nil, fmt.Errorf("list committees of council %d: %w", councilID, err)
	}
	var out []agenda.Committee
	for _, r := range rows {
		c, err := r.committee()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (t *tx) PutMembership(ctx context.Context, m agenda.Membership) error {
	_, err := t.exec(ctx, `INSERT INTO committee_members (committee_id, user_id, role) VALUES (?, ?, ?)
		ON CONFLICT (committee_id, user_id) DO UPDATE SET role = excluded.role`,
		m.CommitteeID, m.UserID, m.Role)
	if err != nil {
		return failWrite(err, "put membership", "", fmt.Sprintf("committee %d or user %d does not exist", m.CommitteeID, m.UserID))
	}
	return nil
}

func (t *tx) DeleteMembership(ctx context.Context, committeeID, userID int64) error {
	n, err := t.exec(ctx, `DELETE FROM committee_members WHERE committee_id = ? AND user_id = ?`, committeeID, userID)
	if err != nil {
		return failDelete(err, "delete membership", "the membership is still referred to")
	}
	return one(n, nil, fmt.Sprintf("member %d of committee", userID), committeeID, "delete")
}

func (t *tx) ListMemberships(ctx context.Context, committeeID int64) ([]agenda.Membership, error) {
	var out []agenda.Membership
	err := t.sel(ctx, &out, `SELECT m.committee_id, m.user_id, u.name, m.role
		FROM committee_members m JOIN users u ON u.id = m.user_id
		WHERE m.committee_id = ? ORDER BY u.name, u.id`, committeeID)
	if err != nil {
		return nil, fmt.Errorf("list members of committee %d: %w", committeeID, err)
	}
	return out, nil
}

func (t *tx) CommitteeRoles(ctx context.Context, userID int64) (map[int64]agenda.CommitteeRole, error) {
	var rows []struct {
		CommitteeID int64                `db:"committee_id"`
		Role        agenda.CommitteeRole `db:"role"`
	}
	if err := t.sel(ctx, &rows, `SELECT committee_id, role FROM committee_members WHERE user_id = ?`, userID); err != nil {
		return nil, fmt.Errorf("committee roles of user %d: %w", userID, err)
	}
	out := make(map[int64]agenda.CommitteeRole, len(rows))
	for _, r := range rows {
		out[r.CommitteeID] = r.Role
	}
	return out, nil
}
