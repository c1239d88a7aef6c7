package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/migrations"
)

// userColumns reads a user; invited is an account without a password.
const userColumns = `id, email, name, is_admin, created_at, password_hash = '' AS invited`

func (t *tx) CreateUser(ctx context.Context, u *agenda.User, passwordHash string) error {
	u.CreatedAt = utc(u.CreatedAt)
	id, err := t.insert(ctx, `INSERT INTO users (email, name, password_hash, is_admin, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, u.Email, u.Name, passwordHash, u.Admin, u.CreatedAt)
	if err != nil {
		return failWrite(err, "create user", fmt.Sprintf("the email address %s is already in use", u.Email), "")
	}
	u.ID = id
	u.Invited = passwordHash == ""
	return nil
}

func (t *tx) GetUser(ctx context.Context, id int64) (agenda.User, error) {
	var u agenda.User
	if err := t.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = ?`, id); err != nil {
		return agenda.User{}, failGet(err, "user", id)
	}
	u.CreatedAt = fromDB(u.CreatedAt)
	return u, nil
}

func (t *tx) GetUserByEmail(ctx context.Context, email string) (agenda.User, error) {
	var u agenda.User
	if err := t.get(ctx, &u, `SELECT `+userColumns+` FROM users WHERE email = ?`, email); err != nil {
		return agenda.User{}, failGet(err, "user with that email", nil)
	}
	u.CreatedAt = fromDB(u.CreatedAt)
	return u, nil
}

func (t *tx) PasswordHash(ctx context.Context, userID int64) (string, error) {
	var h string
	if err := t.get(ctx, &h, `SELECT password_hash FROM users WHERE id = ?`, userID); err != nil {
		return "", failGet(err, "user", userID)
	}
	return h, nil
}

func (t *tx) SetPasswordHash(ctx context.Context, userID int64, hash string) error {
	n, err := t.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
	return one(n, err, "user", userID, "set password of")
}

func (t *tx) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := t.get(ctx, &n, `SELECT COUNT(*) FROM users WHERE is_admin`); err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// Sessions.

func (t *tx) CreateSession(ctx context.Context, s agenda.LoginSession) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		s.IDHash, s.UserID, s.CSRFToken, utc(s.CreatedAt), utc(s.ExpiresAt))
	if err != nil {
		return failWrite(err, "create session", "the session already exists", fmt.Sprintf("user %d does not exist", s.UserID))
	}
	return nil
}

func (t *tx) GetSession(ctx context.Context, idHash string) (agenda.LoginSession, error) {
	var s agenda.LoginSession
	if err := t.get(ctx, &s, `SELECT id, user_id, csrf_token, created_at, expires_at FROM sessions WHERE id = ?`, idHash); err != nil {
		return agenda.LoginSession{}, failGet(err, "session", nil)
	}
	s.CreatedAt, s.ExpiresAt = fromDB(s.CreatedAt), fromDB(s.ExpiresAt)
	return s, nil
}

// DeleteSession ends a session. Ending one that no longer exists (it expired and was
// swept, or was ended twice) is not an error: signing out is idempotent.
func (t *tx) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE id = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (t *tx) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := t.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, utc(now)); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	return nil
}

// API tokens.

const tokenColumns = `id, user_id, name, hash, created_at, expires_at, last_used_at`

func fixToken(k *agenda.APIToken) {
	k.CreatedAt = fromDB(k.CreatedAt)
	k.ExpiresAt = fromDBPtr(k.ExpiresAt)
	k.LastUsedAt = fromDBPtr(k.LastUsedAt)
}

func (t *tx) CreateAPIToken(ctx context.Context, k *agenda.APIToken) error {
	k.CreatedAt = utc(k.CreatedAt)
	if k.ExpiresAt != nil {
		e := utc(*k.ExpiresAt)
		k.ExpiresAt = &e
	}
	if k.LastUsedAt != nil {
		l := utc(*k.LastUsedAt)
		k.LastUsedAt = &l
	}
	id, err := t.insert(ctx, `INSERT INTO api_tokens (user_id, name, hash, created_at, expires_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		k.UserID, k.Name, k.Hash, k.CreatedAt, utcPtr(k.ExpiresAt), utcPtr(k.LastUsedAt))
	if err != nil {
		return failWrite(err, "create API token", "the token already exists", fmt.Sprintf("user %d does not exist", k.UserID))
	}
	k.ID = id
	return nil
}

func (t *tx) GetAPITokenByHash(ctx context.Context, hash string) (agenda.APIToken, error) {
	var k agenda.APIToken
	if err := t.get(ctx, &k, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash); err != nil {
		return agenda.APIToken{}, failGet(err, "API token", nil)
	}
	fixToken(&k)
	return k, nil
}

func (t *tx) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	n, err := t.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, utc(at), id)
	return one(n, err, "API token", id, "touch")
}

func (t *tx) ListAPITokens(ctx context.Context, userID int64) ([]agenda.APIToken, error) {
	var out []agenda.APIToken
	if err := t.sel(ctx, &out, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID); err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	for i := range out {
		fixToken(&out[i])
	}
	return out, nil
}

func (t *tx) DeleteAPIToken(ctx context.Context, userID, id int64) error {
	n, err := t.exec(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	return one(n, err, "API token", id, "delete")
}

// Links.

func (t *tx) CreateLink(ctx context.Context, l agenda.Link) error {
	_, err := t.exec(ctx, `INSERT INTO links (hash, user_id, purpose, redirect, reusable, created_by, created_at, expires_at, used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.Hash, l.UserID, l.Purpose, l.Redirect, l.Reusable, nullID(l.CreatedBy), utc(l.CreatedAt), utc(l.ExpiresAt), utcPtr(l.UsedAt))
	if err != nil {
		return failWrite(err, "create link", "the link already exists", fmt.Sprintf("user %d or %d does not exist", l.UserID, l.CreatedBy))
	}
	return nil
}

func (t *tx) GetLink(ctx context.Context, hash string) (agenda.Link, error) {
	var l agenda.Link
	err := t.get(ctx, &l, `SELECT hash, user_id, purpose, redirect, reusable, COALESCE(created_by, 0) AS created_by,
		created_at, expires_at, used_at FROM links WHERE hash = ?`, hash)
	if err != nil {
		return agenda.Link{}, failGet(err, "link", nil)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromDB(l.CreatedAt), fromDB(l.ExpiresAt), fromDBPtr(l.UsedAt)
	return l, nil
}

// MarkLinkUsed spends a link. A link already spent is ErrConflict, so that two requests
// racing to use a single-use link cannot both succeed.
func (t *tx) MarkLinkUsed(ctx context.Context, hash string, at time.Time) error {
	n, err := t.exec(ctx, `UPDATE links SET used_at = ? WHERE hash = ? AND used_at IS NULL`, utc(at), hash)
	if err != nil {
		return fmt.Errorf("mark link used: %w", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := t.GetLink(ctx, hash); err != nil {
		return err
	}
	return fmt.Errorf("the link has already been used: %w", agenda.ErrConflict)
}

// Credentials. Every request but the public's checks one, so the checks are read
// outside any transaction (each is one statement, consistent on its own), and those
// that arrive together share one read (migrations.Coalescer).

// maxCredentials bounds the credentials one read asks for.
const maxCredentials = 500

// SessionByHash implements agenda.Store.
func (s *Store) SessionByHash(ctx context.Context, idHash string) (agenda.LoginSession, error) {
	sess, err := s.sessions.Find(ctx, idHash, agenda.ErrNotFound)
	if err != nil {
		return sess, fmt.Errorf("session: %w", err)
	}
	return sess, nil
}

// APITokenByHash implements agenda.Store.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (agenda.APIToken, error) {
	t, err := s.tokens.Find(ctx, hash, agenda.ErrNotFound)
	if err != nil {
		return t, fmt.Errorf("API token: %w", err)
	}
	return t, nil
}

func (s *Store) readSessions(ctx context.Context, hashes []string) (map[string]agenda.LoginSession, error) {
	var rows []agenda.LoginSession
	if err := migrations.SelectIn(ctx, s.db, &rows, `SELECT id, user_id, csrf_token, created_at, expires_at FROM sessions WHERE id IN (?)`, hashes); err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	out := make(map[string]agenda.LoginSession, len(rows))
	for _, r := range rows {
		r.CreatedAt, r.ExpiresAt = fromDB(r.CreatedAt), fromDB(r.ExpiresAt)
		out[r.IDHash] = r
	}
	return out, nil
}

func (s *Store) readTokens(ctx context.Context, hashes []string) (map[string]agenda.APIToken, error) {
	var rows []agenda.APIToken
	if err := migrations.SelectIn(ctx, s.db, &rows, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash IN (?)`, hashes); err != nil {
		return nil, fmt.Errorf("read API tokens: %w", err)
	}
	out := make(map[string]agenda.APIToken, len(rows))
	for _, r := range rows {
		fixToken(&r)
		out[r.Hash] = r
	}
	return out, nil
}
