package signaling

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestTokens(t *testing.T) {
	now := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	key := []byte("0123456789abcdef0123456789abcdef")
	tokens := NewTokens(key, clock)
	g := Grants{Identity: "u-7", UserID: 7, Name: "Cllr Jones", MeetingID: 42, Role: RoleMember, CanPublish: true, CanSubscribe: true}
	good, err := tokens.Issue(g, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resume, err := tokens.IssueResume(42, "u-7", "s1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"grants": g, "aud": joinAudience, "iss": tokenIssuer, "sub": "u-7", "exp": now.Add(time.Hour).Unix()})
	unsigned, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewTokens([]byte("another key entirely, 32 bytes!!"), clock).Issue(g, time.Minute)

	for _, tc := range []struct {
		name    string
		at      time.Time
		token   string
		wantErr error
	}{
		{"valid", now, good, nil},
		{"valid just before expiry", now.Add(2 * time.Minute), good, nil},
		{"expired", now.Add(3 * time.Minute), good, ErrTokenExpired},
		{"other key", now, other, ErrInvalidToken},
		{"alg none", now, unsigned, ErrInvalidToken},
		{"resume token is not a join token", now, resume, ErrInvalidToken},
		{"garbage", now, "a.b.c", ErrInvalidToken},
		{"too long", now, strings.Repeat("a", 9000), ErrInvalidToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := NewTokens(key, func() time.Time { return tc.at })
			got, err := v.Verify(tc.token)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
			}
			if err == nil && got != g {
				t.Errorf("Verify = %+v, want %+v", got, g)
			}
		})
	}

	meeting, identity, session, err := tokens.VerifyResume(resume)
	if err != nil || meeting != 42 || identity != "u-7" || session != "s1" {
		t.Errorf("VerifyResume = %d %q %q %v, want 42 u-7 s1", meeting, identity, session, err)
	}
	if _, _, _, err := tokens.VerifyResume(good); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyResume(join token) error = %v, want ErrInvalidToken", err)
	}
}

func TestIssueRefusesBadGrants(t *testing.T) {
	tokens := NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	for _, tc := range []struct {
		name string
		g    Grants
	}{
		{"no identity", Grants{MeetingID: 1, Role: RoleMember}},
		{"no meeting", Grants{Identity: "a", Role: RoleMember}},
		{"unknown role", Grants{Identity: "a", MeetingID: 1, Role: "mayor"}},
		{"publishing observer", Grants{Identity: "a", MeetingID: 1, Role: RoleObserver, CanPublish: true}},
		{"publishing console", Grants{Identity: "a", MeetingID: 1, Role: RoleChair, Console: true, Hidden: true, CanPublish: true}},
		{"listed console", Grants{Identity: "a", MeetingID: 1, Role: RoleClerk, Console: true}},
		{"member's console", Grants{Identity: "a", MeetingID: 1, Role: RoleMember, Console: true, Hidden: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tokens.Issue(tc.g, time.Minute); err == nil {
				t.Errorf("Issue(%+v) succeeded, want an error", tc.g)
			}
		})
	}
	if _, err := tokens.Issue(Grants{Identity: "a", MeetingID: 1, Role: RoleMember}, 0); err == nil {
		t.Error("Issue with zero ttl succeeded")
	}
}

// TestPasses: a pass carries grants for later exchange, and is neither a join token nor
// accepted from another key.
func TestPasses(t *testing.T) {
	now := time.Date(2026, 3, 4, 18, 0, 0, 0, time.UTC)
	tokens := NewTokens([]byte("0123456789abcdef0123456789abcdef"), func() time.Time { return now })
	g := Grants{Identity: "speaker-3", Name: "Ann Pritchard", MeetingID: 42, Role: RoleSpeaker, CanSubscribe: true, SpeakerItemID: 9}
	pass, err := tokens.IssuePass(g, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tokens.VerifyPass(pass); err != nil || got != g {
		t.Errorf("VerifyPass = %+v, %v, want %+v", got, err, g)
	}
	if _, err := tokens.Verify(pass); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verify(pass) error = %v, want ErrInvalidToken: a pass must not open a room", err)
	}
	join, _ := tokens.Issue(g, time.Minute)
	if _, err := tokens.VerifyPass(join); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyPass(join token) error = %v, want ErrInvalidToken", err)
	}
	late := NewTokens([]byte("0123456789abcdef0123456789abcdef"), func() time.Time { return now.Add(25 * time.Hour) })
	if _, err := late.VerifyPass(pass); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("VerifyPass after expiry error = %v, want ErrTokenExpired", err)
	}
}
