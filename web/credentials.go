package web

import (
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// When a poll opens, every member's device casts its ballot at once, and reading each
// sender's API token or session again would put a round trip to the database, shared
// among all of them, in front of every ballot. So the routes that cast a member's own
// ballot (identityOnly) use the credential as this server last read it, for up to
// heldCredMaxAge, and pass it with the ballot (voting.Credential): the ballot is
// stored only if the token or session is still there as the ballot commits. A token
// revoked or a session ended since, on this node or another, gets the ballot refused
// as unauthenticated, and the credential is read again the next time. Every other
// route reads the credential afresh.

// heldCredMaxAge is how long a credential read is used for before it is read again
// (which also records an API token's use; see agenda.Service.APITokenUser).
const heldCredMaxAge = time.Minute

// maxHeldCreds bounds the credentials held: past it, they are dropped and read again.
const maxHeldCreds = 10000

// heldCred is a credential as last read.
type heldCred struct {
	userID  int64
	cred    voting.Credential // the API token or session, what a ballot is stored under
	csrf    string            // the session's CSRF token
	expires time.Time
	readAt  time.Time
}

// heldCreds holds credentials by the hash of the token or cookie presented.
type heldCreds struct {
	mu    sync.Mutex
	creds map[string]heldCred
}

func newHeldCreds() *heldCreds { return &heldCreds{creds: map[string]heldCred{}} }

// get returns the credential held for hash, if it was read no longer than
// heldCredMaxAge ago and has not expired.
func (h *heldCreds) get(hash string, now time.Time) (heldCred, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.creds[hash]
	if !ok || now.Sub(c.readAt) > heldCredMaxAge || now.Before(c.readAt) || !c.expires.IsZero() && !now.Before(c.expires) {
		return heldCred{}, false
	}
	return c, true
}

func (h *heldCreds) keep(hash string, c heldCred) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.creds) >= maxHeldCreds {
		clear(h.creds)
	}
	h.creds[hash] = c
}

func (h *heldCreds) forget(hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.creds, hash)
}

// forgetToken forgets an API token, by id, once it is revoked here.
func (h *heldCreds) forgetToken(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for hash, c := range h.creds {
		if c.cred.Token == id {
			delete(h.creds, hash)
		}
	}
}

// bearerUser returns the user of an API token: the one held, on a route that casts
// a member's own ballot, else as read now. err is agenda.ErrBadCredentials for a token
// that is unknown, expired or revoked.
func (s *Server) bearerUser(c *call, token string) (heldCred, error) {
	return s.heldOrRead(c, "token "+agenda.HashToken(token), func(now time.Time) (heldCred, error) {
		t, err := s.svc.APITokenUser(c.r.Context(), token)
		if err != nil {
			return heldCred{}, err
		}
		h := heldCred{userID: t.UserID, cred: voting.Credential{Token: t.ID}, readAt: now}
		if t.ExpiresAt != nil {
			h.expires = *t.ExpiresAt
		}
		return h, nil
	})
}

// sessionUser is bearerUser for a session cookie.
func (s *Server) sessionUser(c *call, cookie string) (heldCred, error) {
	return s.heldOrRead(c, "session "+agenda.HashToken(cookie), func(now time.Time) (heldCred, error) {
		sess, err := s.svc.SessionFor(c.r.Context(), cookie)
		if err != nil {
			return heldCred{}, err
		}
		return heldCred{userID: sess.UserID, cred: voting.Credential{Session: sess.IDHash}, csrf: sess.CSRFToken,
			expires: sess.ExpiresAt, readAt: now}, nil
	})
}

// heldOrRead returns the credential held under hash on a route that casts a member's
// own ballot, else reads it and holds it.
func (s *Server) heldOrRead(c *call, hash string, read func(now time.Time) (heldCred, error)) (heldCred, error) {
	now := s.now()
	if c.route.identity {
		if h, ok := s.held.get(hash, now); ok {
			c.held = hash
			return h, nil
		}
	}
	h, err := read(now)
	if err != nil {
		return heldCred{}, err
	}
	s.held.keep(hash, h)
	c.held = hash
	return h, nil
}
