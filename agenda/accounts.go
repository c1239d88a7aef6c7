package agenda

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow OWASP's recommendation for argon2id (19 MiB, 2 passes).
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// HashPassword returns password's argon2id hash in the PHC string format.
func HashPassword(password string, p PasswordParams) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Each password hashed holds argon2id's memory (19 MiB) while it runs, and sign-in
// attempts may come from any number of addresses at once (each address's are limited
// on their own): at most Options.MaxHashing are hashed at a time, the others waiting
// their turn, so that the memory sign-ins take is bounded whoever sends them. A request
// that ends while it waits gives up its turn.

// hashTurn waits for a turn to hash a password, and returns the function that ends it.
func (s *Service) hashTurn(ctx context.Context) (func(), error) {
	select {
	case s.hashing <- struct{}{}:
		return func() { <-s.hashing }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting to check a password: %w", ctx.Err())
	}
}

// hashPassword is HashPassword in its turn.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	done, err := s.hashTurn(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	return HashPassword(password, s.pw), nil
}

// passwordMatches is CheckPassword in its turn; an empty hash (no such user) is checked
// against a dummy one, so that it takes as long as a wrong password.
func (s *Service) passwordMatches(ctx context.Context, hash, password string) (bool, error) {
	done, err := s.hashTurn(ctx)
	if err != nil {
		return false, err
	}
	defer done()
	if hash == "" {
		CheckPassword(s.dummyHash(), password)
		return false, nil
	}
	return CheckPassword(hash, password), nil
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewToken returns a random URL-safe token with prefix and the hex SHA-256 under which
// it is stored.
func NewToken(prefix string) (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Token prefixes make leaked tokens recognisable to secret scanners.
const (
	APITokenPrefix = "chm_"
	sessionPrefix  = "chs_"
	linkPrefix     = "chl_"
)

func normaliseEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func checkEmail(c *checker, field, email string) {
	if email == "" {
		c.add(field, "is required")
		return
	}
	if len(email) > 254 {
		c.add(field, "is longer than 254 bytes")
		return
	}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		c.add(field, "is not an email address")
	}
}

func checkPassword(c *checker, password string) {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		c.add("password", "must be at least %d characters", MinPasswordLength)
	case len(password) > 1024:
		c.add("password", "is longer than 1024 bytes")
	}
}

// Actor loads a user's roles. An unknown user is ErrUnauthenticated, so a deleted
// account's session stops working at once.
func (s *Service) Actor(ctx context.Context, userID int64) (Actor, error) {
	var a Actor
	err := s.read(ctx, func(tx Tx) error {
		u, err := tx.GetUser(ctx, userID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthenticated
		}
		if err != nil {
			return err
		}
		a = Actor{UserID: u.ID, Name: u.Name, Admin: u.Admin}
		if a.Councils, err = tx.CouncilRoles(ctx, userID); err != nil {
			return err
		}
		a.Committees, err = tx.CommitteeRoles(ctx, userID)
		return err
	})
	return a, err
}

// CreateAdmin creates an administrator account, for bootstrapping an installation. It
// is not exposed over HTTP.
func (s *Service) CreateAdmin(ctx context.Context, email, name, password string) (User, error) {
	email = normaliseEmail(email)
	var c checker
	checkEmail(&c, "email", email)
	c.text("name", name, true, 200)
	checkPassword(&c, password)
	if err := c.err(); err != nil {
		return User{}, err
	}
	u := User{Email: email, Name: strings.TrimSpace(name), Admin: true}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return User{}, err
	}
	err = s.write(ctx, system, func(o *op) error {
		u.CreatedAt = o.now
		return o.CreateUser(ctx, &u, hash)
	})
	return u, err
}

// Login checks an email and password. Every failure is ErrBadCredentials, and an unknown
// email costs as much time as a wrong password.
func (s *Service) Login(ctx context.Context, email, password string) (User, error) {
	email = normaliseEmail(email)
	var u User
	var hash string
	err := s.read(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.GetUserByEmail(ctx, email); err != nil {
			return err
		}
		hash, err = tx.PasswordHash(ctx, u.ID)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	ok, err := s.passwordMatches(ctx, hash, password)
	if err != nil {
		return User{}, err
	}
	if !ok {
		return User{}, ErrBadCredentials
	}
	return u, nil
}

// SessionTTL is how long a browser session lasts.
const SessionTTL = 12 * time.Hour

// NewSession starts a browser session for a user and returns the cookie value and the
// session's CSRF token.
func (s *Service) NewSession(ctx context.Context, userID int64) (cookie, csrf string, err error) {
	cookie, hash := NewToken(sessionPrefix)
	csrf, _ = NewToken("")
	err = s.write(ctx, system, func(o *op) error {
		if err := o.DeleteExpiredSessions(ctx, o.now); err != nil {
			return err
		}
		return o.CreateSession(ctx, LoginSession{IDHash: hash, UserID: userID, CSRFToken: csrf, CreatedAt: o.now, ExpiresAt: o.now.Add(SessionTTL)})
	})
	return cookie, csrf, err
}

// SessionFor returns the live session for a cookie value.
func (s *Service) SessionFor(ctx context.Context, cookie string) (LoginSession, error) {
	if !strings.HasPrefix(cookie, sessionPrefix) {
		return LoginSession{}, ErrBadCredentials
	}
	sess, err := s.store.SessionByHash(ctx, HashToken(cookie))
	if errors.Is(err, ErrNotFound) || (err == nil && !sess.ExpiresAt.After(s.clock())) {
		return LoginSession{}, ErrBadCredentials
	}
	return sess, err
}

// EndSession signs a browser session out.
func (s *Service) EndSession(ctx context.Context, cookie string) error {
	return s.write(ctx, system, func(o *op) error {
		return o.DeleteSession(ctx, HashToken(cookie))
	})
}

// NewAPIToken creates a bearer token for the actor. ttl 0 means it does not expire.
func (s *Service) NewAPIToken(ctx context.Context, actor Actor, name string, ttl time.Duration) (string, APIToken, error) {
	if actor.Anonymous() {
		return "", APIToken{}, ErrUnauthenticated
	}
	var c checker
	c.text("name", name, true, 100)
	if ttl < 0 {
		c.add("ttl", "must not be negative")
	}
	if err := c.err(); err != nil {
		return "", APIToken{}, err
	}
	token, hash := NewToken(APITokenPrefix)
	t := APIToken{UserID: actor.UserID, Name: name, Hash: hash}
	err := s.write(ctx, actor, func(o *op) error {
		t.CreatedAt = o.now
		if ttl > 0 {
			exp := o.now.Add(ttl)
			t.ExpiresAt = &exp
		}
		return o.CreateAPIToken(ctx, &t)
	})
	return token, t, err
}

// APITokenUser returns the token a bearer token's value names, with the user it belongs
// to, and records its use.
func (s *Service) APITokenUser(ctx context.Context, token string) (APIToken, error) {
	if !strings.HasPrefix(token, APITokenPrefix) {
		return APIToken{}, ErrBadCredentials
	}
	t, err := s.store.APITokenByHash(ctx, HashToken(token))
	now := s.clock()
	if errors.Is(err, ErrNotFound) || (err == nil && t.ExpiresAt != nil && !t.ExpiresAt.After(now)) {
		return APIToken{}, ErrBadCredentials
	}
	if err != nil {
		return APIToken{}, err
	}
	// Recording the last use at most once a minute keeps reads from becoming writes.
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.store.Update(ctx, func(tx Tx) error { return tx.TouchAPIToken(ctx, t.ID, now) }); err != nil {
			s.log.Warn("record token use", "token", t.ID, "err", err)
		}
	}
	return t, nil
}

// ListAPITokens lists the actor's tokens (never their values).
func (s *Service) ListAPITokens(ctx context.Context, actor Actor) ([]APIToken, error) {
	if actor.Anonymous() {
		return nil, ErrUnauthenticated
	}
	var out []APIToken
	err := s.read(ctx, func(tx Tx) error {
		var err error
		out, err = tx.ListAPITokens(ctx, actor.UserID)
		return err
	})
	return out, err
}

// RevokeAPIToken deletes one of the actor's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, actor Actor, id int64) error {
	if actor.Anonymous() {
		return ErrUnauthenticated
	}
	return s.write(ctx, actor, func(o *op) error { return o.DeleteAPIToken(ctx, actor.UserID, id) })
}

// Link lifetimes.
const (
	InviteTTL = 14 * 24 * time.Hour
	SignInTTL = 24 * time.Hour
)

// NewSignInLink makes a link that signs userID in and goes to redirect (a path on this
// site). Only a clerk of one of the user's councils, or an admin, may make one; reusable
// links serve demos and training.
func (s *Service) NewSignInLink(ctx context.Context, actor Actor, userID int64, redirect string, reusable bool) (string, error) {
	if !strings.HasPrefix(redirect, "/") || strings.HasPrefix(redirect, "//") {
		return "", invalid("redirect", "must be a path on this site")
	}
	token, hash := NewToken(linkPrefix)
	err := s.write(ctx, actor, func(o *op) error {
		if err := s.mayManageUser(o, actor, userID); err != nil {
			return err
		}
		return o.CreateLink(ctx, Link{Hash: hash, UserID: userID, Purpose: SignIn, Redirect: redirect,
			Reusable: reusable, CreatedBy: actor.UserID, CreatedAt: o.now, ExpiresAt: o.now.Add(SignInTTL)})
	})
	return token, err
}

// mayManageUser checks that actor is an admin or a clerk of a council the user belongs to.
func (s *Service) mayManageUser(o *op, actor Actor, userID int64) error {
	if actor.Admin {
		_, err := o.GetUser(o.ctx, userID)
		return err
	}
	roles, err := o.CouncilRoles(o.ctx, userID)
	if err != nil {
		return err
	}
	for council := range roles {
		if actor.IsClerk(council) {
			return nil
		}
	}
	if len(roles) == 0 {
		if _, err := o.GetUser(o.ctx, userID); err != nil {
			return err
		}
	}
	return actor.forbid()
}

// UseSignInLink signs in with a link and returns the user and where to go.
func (s *Service) UseSignInLink(ctx context.Context, token string) (User, string, error) {
	var u User
	var redirect string
	err := s.write(ctx, system, func(o *op) error {
		l, err := s.liveLink(o, token, SignIn)
		if err != nil {
			return err
		}
		if !l.Reusable {
			if err := o.MarkLinkUsed(ctx, l.Hash, o.now); err != nil {
				return err
			}
		}
		redirect = l.Redirect
		u, err = o.GetUser(ctx, l.UserID)
		return err
	})
	return u, redirect, err
}

func (s *Service) liveLink(o *op, token string, purpose LinkPurpose) (Link, error) {
	if !strings.HasPrefix(token, linkPrefix) {
		return Link{}, ErrBadCredentials
	}
	l, err := o.GetLink(o.ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Link{}, ErrBadCredentials
	}
	if err != nil {
		return Link{}, err
	}
	if l.Purpose != purpose || l.UsedAt != nil || !l.ExpiresAt.After(o.now) {
		return Link{}, ErrBadCredentials
	}
	return l, nil
}

// InvitationUser returns whom an invitation is for, so the page can greet them.
func (s *Service) InvitationUser(ctx context.Context, token string) (User, error) {
	var u User
	err := s.write(ctx, system, func(o *op) error {
		l, err := s.liveLink(o, token, Invite)
		if err != nil {
			return err
		}
		u, err = o.GetUser(ctx, l.UserID)
		return err
	})
	return u, err
}

// AcceptInvitation sets the invited user's password; the link is then spent.
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (User, error) {
	var c checker
	checkPassword(&c, password)
	if err := c.err(); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.write(ctx, system, func(o *op) error {
		l, err := s.liveLink(o, token, Invite)
		if err != nil {
			return err
		}
		if err := o.MarkLinkUsed(ctx, l.Hash, o.now); err != nil {
			return err
		}
		if err := o.SetPasswordHash(ctx, l.UserID, hash); err != nil {
			return err
		}
		u, err = o.GetUser(ctx, l.UserID)
		return err
	})
	return u, err
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, actor Actor) (User, error) {
	if actor.Anonymous() {
		return User{}, ErrUnauthenticated
	}
	var u User
	err := s.read(ctx, func(tx Tx) error {
		var err error
		u, err = tx.GetUser(ctx, actor.UserID)
		return err
	})
	return u, err
}
