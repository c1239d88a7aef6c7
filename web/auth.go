package web

import (
	"crypto/subtle"
	"errors"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/chamber/chamber/agenda"
)

// Session cookie and CSRF header names.
const (
	SessionCookie = "chamber_session"
	CSRFHeader    = "X-CSRF-Token"
)

// authenticate works out who is asking. A bearer token wins over the cookie and needs no
// CSRF token (browsers cannot attach one to a cross-site request). A cookie-authenticated
// write must carry the session's CSRF token. An invalid bearer token is 401 wherever it
// is sent; an invalid or expired cookie is treated as no cookie, so that reading public
// pages keeps working after a session ends.
func (s *Server) authenticate(c *call) error {
	if c.route.Access == Open {
		return nil
	}
	r := c.r
	var userID int64
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || token == "" {
			return &httpError{kind: probUnauthenticated, detail: "The Authorization header must be \"Bearer\" followed by an API token."}
		}
		h, err := s.bearerUser(c, strings.TrimSpace(token))
		if errors.Is(err, agenda.ErrBadCredentials) {
			return &httpError{kind: probUnauthenticated, detail: "The bearer token is unknown, expired or revoked."}
		}
		if err != nil {
			return err
		}
		userID, c.cred = h.userID, h.cred
	} else if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		h, err := s.sessionUser(c, ck.Value)
		switch {
		case errors.Is(err, agenda.ErrBadCredentials):
			// An ended session: carry on as the public.
		case err != nil:
			return err
		default:
			userID, c.cookie, c.csrf, c.cred = h.userID, ck.Value, h.csrf, h.cred
		}
	}
	if userID != 0 && c.route.identity {
		// Who is asking is all the route needs to know at first; it reads their
		// roles itself if it comes to need them (loadRoles).
		c.actor = agenda.Actor{UserID: userID}
		userID = 0
	}
	if userID != 0 {
		a, err := s.svc.Actor(r.Context(), userID)
		switch {
		case errors.Is(err, agenda.ErrUnauthenticated):
			return &httpError{kind: probUnauthenticated, detail: "The account no longer exists."}
		case err != nil:
			return err
		}
		c.actor = a
	}
	if c.route.Access == SignedIn && c.actor.Anonymous() {
		return &httpError{kind: probUnauthenticated, detail: "Sign in first, or send an Authorization: Bearer token."}
	}
	if c.cookie != "" && !safeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.csrf)) != 1 {
			return &httpError{kind: probCSRF, detail: "Send the session's CSRF token in the " + CSRFHeader + " header."}
		}
	}
	return nil
}

// loadRoles reads the roles of a caller that a route authenticated by identity alone.
func (c *call) loadRoles() error {
	if !c.route.identity || c.actor.Anonymous() || c.rolesLoaded {
		return nil
	}
	a, err := c.s.svc.Actor(c.r.Context(), c.actor.UserID)
	if errors.Is(err, agenda.ErrUnauthenticated) {
		return &httpError{kind: probUnauthenticated, detail: "The account no longer exists."}
	}
	if err != nil {
		return err
	}
	c.actor, c.rolesLoaded = a, true
	return nil
}

// setSession starts a browser session for the user and sets its cookie. It returns the
// session's CSRF token.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, userID int64) (string, error) {
	cookie, csrf, err := s.svc.NewSession(r.Context(), userID)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     SessionCookie,
		Value:    cookie,
		Path:     "/",
		MaxAge:   int(agenda.SessionTTL / time.Second),
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	})
	return csrf, nil
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// LoginRequest signs in with an email and password.
type LoginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// Mode is "cookie" (a browser session; the answer carries its CSRF token) or
	// "token" (a bearer API token for the command line).
	Mode string `json:"mode,omitempty" jsonschema:"enum=cookie,enum=token"`
	// TokenName names the API token (token mode), such as "laptop CLI".
	TokenName string `json:"token_name,omitempty"`
	// TokenTTLSeconds is how long the token lasts; 0 means until revoked.
	TokenTTLSeconds int64 `json:"token_ttl_seconds,omitempty"`
}

// LoginResponse is the signed-in user with the CSRF token of the new session (cookie
// mode) or the new API token (token mode; shown once, never again).
type LoginResponse struct {
	User      agenda.User      `json:"user"`
	CSRFToken string           `json:"csrf_token,omitempty"`
	Token     string           `json:"token,omitempty"`
	APIToken  *agenda.APIToken `json:"api_token,omitempty"`
}

// Sign-in attempts allowed per client address: a burst, then one every loginEvery.
const (
	loginBurst = 10
	loginEvery = 6 * time.Second
)

func (s *Server) login(c *call, in LoginRequest) (LoginResponse, error) {
	if in.Mode == "" {
		in.Mode = "cookie"
	}
	if in.Mode != "cookie" && in.Mode != "token" {
		return LoginResponse{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "mode", Message: "must be cookie or token"}}}
	}
	if in.TokenTTLSeconds < 0 || in.TokenTTLSeconds > math.MaxInt64/int64(time.Second) {
		return LoginResponse{}, &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "token_ttl_seconds", Message: "must be a positive number of seconds, or 0"}}}
	}
	u, err := s.svc.Login(c.r.Context(), in.Email, in.Password)
	if err != nil {
		return LoginResponse{}, err
	}
	out := LoginResponse{User: u}
	if in.Mode == "cookie" {
		out.CSRFToken, err = s.setSession(c.w, c.r, u.ID)
		return out, err
	}
	actor, err := s.svc.Actor(c.r.Context(), u.ID)
	if err != nil {
		return LoginResponse{}, err
	}
	token, t, err := s.svc.NewAPIToken(c.r.Context(), actor, in.TokenName, time.Duration(in.TokenTTLSeconds)*time.Second)
	if err != nil {
		var ve *agenda.ValidationError
		if errors.As(err, &ve) {
			for i := range ve.Fields {
				ve.Fields[i].Field = "token_" + ve.Fields[i].Field
			}
		}
		return LoginResponse{}, err
	}
	out.Token, out.APIToken = token, &t
	return out, nil
}

// limitLogins refuses sign-in attempts beyond the client address's allowance, before the
// body is read.
func (s *Server) limitLogins(next func(*call) (any, error)) func(*call) (any, error) {
	return func(c *call) (any, error) {
		if err := c.rateLimit(s.logins); err != nil {
			return nil, err
		}
		return next(c)
	}
}

// rateLimit takes one attempt from the client address's allowance in l, or answers 429
// with Retry-After.
func (c *call) rateLimit(l *ipLimiter) error {
	if ok, wait := l.allow(clientIP(c.r)); !ok {
		secs := max(1, int(math.Ceil(wait.Seconds())))
		c.w.Header().Set("Retry-After", strconv.Itoa(secs))
		return &httpError{kind: probRateLimited, detail: "Try again in " + strconv.Itoa(secs) + " seconds."}
	}
	return nil
}

// logout ends what the request was authenticated by: the browser session, or the API
// token (chamber logout).
func (s *Server) logout(c *call) (noContent, error) {
	s.held.forget(c.held)
	if c.cred.Token != 0 {
		return noContent{}, s.svc.RevokeAPIToken(c.r.Context(), c.actor, c.cred.Token)
	}
	if c.cookie == "" {
		return noContent{}, nil
	}
	if err := s.svc.EndSession(c.r.Context(), c.cookie); err != nil {
		return noContent{}, err
	}
	clearSessionCookie(c.w)
	return noContent{}, nil
}

// clientIP is the address a request came from. Chamber does not trust X-Forwarded-For:
// behind a proxy, every client shares the proxy's allowance.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ipLimiter keeps a token bucket per client address.
type ipLimiter struct {
	every time.Duration
	burst int
	now   func() time.Time

	mu  sync.Mutex // guards ips
	ips map[string]*ipEntry
}

type ipEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxTrackedIPs bounds the limiter's memory; idle entries are dropped beyond it.
const maxTrackedIPs = 10000

func newIPLimiter(every time.Duration, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{every: every, burst: burst, now: now, ips: map[string]*ipEntry{}}
}

// allow takes one attempt from ip's allowance, or says how long to wait for the next.
func (l *ipLimiter) allow(ip string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.ips[ip]
	if !ok {
		if len(l.ips) >= maxTrackedIPs {
			l.prune(now)
		}
		e = &ipEntry{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.ips[ip] = e
	}
	e.seen = now
	res := e.lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// prune drops addresses idle long enough for their bucket to have refilled.
func (l *ipLimiter) prune(now time.Time) {
	idle := l.every * time.Duration(l.burst)
	for ip, e := range l.ips {
		if now.Sub(e.seen) > idle {
			delete(l.ips, ip)
		}
	}
}
