package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Roles a participant may hold in a meeting's room.
const (
	RoleChair    = "chair"
	RoleClerk    = "clerk"
	RoleMember   = "member"
	RoleOfficer  = "officer"
	RoleSpeaker  = "speaker"  // a public speaker on one item
	RoleObserver = "observer" // a member of the public watching
)

// Grants say who a participant is and what they may do in one meeting's room.
type Grants struct {
	Identity      string `json:"identity"`              // unique within the meeting
	UserID        int64  `json:"user_id,omitempty"`     // 0 for observers and public speakers
	Name          string `json:"name,omitempty"`        // display name
	MeetingID     int64  `json:"meeting_id"`            // the one meeting these grants are for
	Role          string `json:"role"`                  // one of the Role constants
	CanPublish    bool   `json:"can_publish,omitempty"` // may send audio and video
	CanSubscribe  bool   `json:"can_subscribe,omitempty"`
	CanAdmin      bool   `json:"can_admin,omitempty"`       // may use the chair's controls
	SpeakerItemID int64  `json:"speaker_item_id,omitempty"` // the item a public speaker may speak on
	Hidden        bool   `json:"hidden,omitempty"`          // left out of the participant list
	// Console marks the meeting console of a chair or clerk: a connection of its own
	// beside the person's seat in the room, from which they run it. It is hidden, never
	// publishes, is sent no media until it asks (receive) and is never reported to
	// Presence, so that opening the console changes neither the room nor the roll.
	Console bool `json:"console,omitempty"`
}

// Public reports whether the grants belong to a member of the public (an observer or a
// public speaker), who is excluded while the meeting is in private session.
func (g Grants) Public() bool {
	return g.Role == RoleObserver || g.Role == RoleSpeaker
}

// Validate reports whether the grants name a meeting, an identity and a known role.
func (g Grants) Validate() error {
	switch {
	case g.Identity == "":
		return errors.New("grants: no identity")
	case len(g.Identity) > 128:
		return errors.New("grants: identity longer than 128 bytes")
	case g.MeetingID <= 0:
		return errors.New("grants: no meeting")
	}
	switch g.Role {
	case RoleChair, RoleClerk, RoleMember, RoleOfficer, RoleSpeaker, RoleObserver:
	default:
		return fmt.Errorf("grants: unknown role %q", g.Role)
	}
	if g.Role == RoleObserver && g.CanPublish {
		return errors.New("grants: an observer cannot publish")
	}
	if g.Console {
		switch {
		case g.Role != RoleChair && g.Role != RoleClerk:
			return fmt.Errorf("grants: a %s has no console", g.Role)
		case g.CanPublish:
			return errors.New("grants: a console cannot publish")
		case !g.Hidden:
			return errors.New("grants: a console is hidden")
		}
	}
	return nil
}

// LogValue keeps log lines to who and where.
func (g Grants) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("identity", g.Identity),
		slog.Int64("meeting", g.MeetingID),
		slog.String("role", g.Role),
		slog.Bool("console", g.Console),
	)
}

// Token audiences: a join token and a resume token are not interchangeable.
const (
	joinAudience   = "chamber-rtc"
	resumeAudience = "chamber-rtc-resume"
	passAudience   = "chamber-rtc-pass"
	tokenIssuer    = "chamber"
)

// Errors returned by Tokens.
var (
	ErrInvalidToken = errors.New("invalid token")
	ErrTokenExpired = errors.New("token expired")
)

// Tokens issues and verifies the signed tokens that admit a participant to a room
// (JWT, HS256). A join token carries Grants for one meeting and expires; a resume
// token, issued by the room on join, lets the same participant reconnect.
type Tokens struct {
	key []byte
	now func() time.Time
}

// NewTokens returns Tokens that sign with key, which should be at least 32 random
// bytes. now is the clock; nil means time.Now.
func NewTokens(key []byte, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{key: append([]byte(nil), key...), now: now}
}

// LogValue keeps the key out of logs.
func (t *Tokens) LogValue() slog.Value { return slog.StringValue("[tokens]") }

type joinClaims struct {
	Grants Grants `json:"grants"`
	jwt.RegisteredClaims
}

type resumeClaims struct {
	MeetingID int64  `json:"meeting_id"`
	Session   string `json:"session"`
	jwt.RegisteredClaims
}

// Issue signs a join token for g, valid for ttl.
func (t *Tokens) Issue(g Grants, ttl time.Duration) (string, error) {
	if err := g.Validate(); err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	if ttl <= 0 {
		return "", errors.New("issue token: ttl must be positive")
	}
	now := t.now()
	claims := joinClaims{
		Grants:           g,
		RegisteredClaims: t.registered(g.Identity, joinAudience, now, ttl),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return s, nil
}

// Verify checks a join token's signature, audience and expiry and returns its grants.
func (t *Tokens) Verify(token string) (Grants, error) {
	var claims joinClaims
	if err := t.parse(token, joinAudience, &claims); err != nil {
		return Grants{}, err
	}
	if claims.Subject != claims.Grants.Identity {
		return Grants{}, fmt.Errorf("%w: subject does not match identity", ErrInvalidToken)
	}
	if err := claims.Grants.Validate(); err != nil {
		return Grants{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return claims.Grants, nil
}

// IssuePass signs a pass: grants given ahead of time (to a public speaker, in the link
// the clerk sends them), valid for ttl. A pass does not admit anyone to a room; the
// join endpoint checks it and exchanges it for a short-lived join token.
func (t *Tokens) IssuePass(g Grants, ttl time.Duration) (string, error) {
	if err := g.Validate(); err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	if ttl <= 0 {
		return "", errors.New("issue pass: ttl must be positive")
	}
	claims := joinClaims{Grants: g, RegisteredClaims: t.registered(g.Identity, passAudience, t.now(), ttl)}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("issue pass: %w", err)
	}
	return s, nil
}

// VerifyPass checks a pass and returns its grants.
func (t *Tokens) VerifyPass(token string) (Grants, error) {
	var claims joinClaims
	if err := t.parse(token, passAudience, &claims); err != nil {
		return Grants{}, err
	}
	if claims.Subject != claims.Grants.Identity {
		return Grants{}, fmt.Errorf("%w: subject does not match identity", ErrInvalidToken)
	}
	if err := claims.Grants.Validate(); err != nil {
		return Grants{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return claims.Grants, nil
}

// IssueResume signs a resume token naming a participant's session in a meeting.
// The token proves who is asking; the room decides whether the session is still
// there to resume.
func (t *Tokens) IssueResume(meetingID int64, identity, session string, ttl time.Duration) (string, error) {
	if meetingID <= 0 || identity == "" || session == "" || ttl <= 0 {
		return "", errors.New("issue resume token: missing meeting, identity, session or ttl")
	}
	claims := resumeClaims{
		MeetingID:        meetingID,
		Session:          session,
		RegisteredClaims: t.registered(identity, resumeAudience, t.now(), ttl),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("issue resume token: %w", err)
	}
	return s, nil
}

// VerifyResume checks a resume token and returns the meeting, identity and session it names.
func (t *Tokens) VerifyResume(token string) (meetingID int64, identity, session string, err error) {
	var claims resumeClaims
	if err := t.parse(token, resumeAudience, &claims); err != nil {
		return 0, "", "", err
	}
	if claims.MeetingID <= 0 || claims.Subject == "" || claims.Session == "" {
		return 0, "", "", fmt.Errorf("%w: incomplete resume token", ErrInvalidToken)
	}
	return claims.MeetingID, claims.Subject, claims.Session, nil
}

func (t *Tokens) registered(subject, audience string, now time.Time, ttl time.Duration) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    tokenIssuer,
		Subject:   subject,
		Audience:  jwt.ClaimStrings{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		ID:        randomID(),
	}
}

func (t *Tokens) parse(token, audience string, claims jwt.Claims) error {
	if len(token) > 8192 {
		return fmt.Errorf("%w: too long", ErrInvalidToken)
	}
	_, err := jwt.ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithAudience(audience),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case err != nil:
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return nil
}

// randomID returns 128 random bits, base64url encoded.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
