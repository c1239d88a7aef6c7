package voting

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeyStatus(t *testing.T) {
	approved, revoked := t0.Add(time.Hour), t0.Add(2*time.Hour)
	tests := []struct {
		name    string
		key     Key
		at      time.Time
		want    KeyStatus
		wantErr error
	}{
		{"enrolled, not approved", Key{}, revoked, KeyPending, ErrKeyNotApproved},
		{"before approval", Key{ApprovedAt: approved}, approved.Add(-time.Millisecond), KeyPending, ErrKeyNotApproved},
		{"at approval", Key{ApprovedAt: approved}, approved, KeyApproved, nil},
		{"approved", Key{ApprovedAt: approved, RevokedAt: revoked}, revoked.Add(-time.Millisecond), KeyApproved, nil},
		{"at revocation", Key{ApprovedAt: approved, RevokedAt: revoked}, revoked, KeyRevoked, ErrKeyRevoked},
		{"revoked before approval", Key{RevokedAt: approved}, revoked, KeyRevoked, ErrKeyRevoked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.Status(tc.at); got != tc.want {
				t.Errorf("Status: got %q, want %q", got, tc.want)
			}
			if err := tc.key.CanSign(tc.at); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("CanSign: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestKeyCheck(t *testing.T) {
	voterPriv, clerkPriv := testKey("voter-42"), testKey("clerk-9")
	voterKey, err := NewKey(42, voterPriv.Public().(ed25519.PublicKey), "laptop", t0)
	if err != nil {
		t.Fatal(err)
	}
	voterKey.ApprovedAt, voterKey.ApprovedBy = t0, 9
	clerkKey, _ := NewKey(9, clerkPriv.Public().(ed25519.PublicKey), "console", t0)
	clerkKey.ApprovedAt = t0
	own := vectors[0].ballot      // voter 42's own vote
	recorded := vectors[2].ballot // recorded by clerk 9 for voter 43
	recorded43 := recorded        // the same, claimed signed by voter 43's key
	sign := func(b Ballot, priv ed25519.PrivateKey) SignedBallot {
		sb, err := SignBallot(b, priv)
		if err != nil {
			t.Fatal(err)
		}
		return sb
	}
	revokedKey := voterKey
	revokedKey.RevokedAt = t0.Add(time.Minute)
	pendingKey := voterKey
	pendingKey.ApprovedAt = time.Time{}
	otherUserKey := voterKey
	otherUserKey.User = 43
	tests := []struct {
		name string
		key  Key
		sb   SignedBallot
		at   time.Time
		want error
	}{
		{"own vote", voterKey, sign(own, voterPriv), t0.Add(time.Second), nil},
		{"clerk-recorded vote", clerkKey, sign(recorded, clerkPriv), t0.Add(time.Second), nil},
		{"revoked key", revokedKey, sign(own, voterPriv), t0.Add(time.Hour), ErrKeyRevoked},
		{"key not approved", pendingKey, sign(own, voterPriv), t0.Add(time.Second), ErrKeyNotApproved},
		{"another member's key", otherUserKey, sign(own, voterPriv), t0.Add(time.Second), ErrWrongKey},
		{"clerk vote signed by the voter", otherUserKey, sign(recorded43, voterPriv), t0.Add(time.Second), ErrWrongKey},
		{"ballot signed by another key", voterKey, sign(own, clerkPriv), t0.Add(time.Second), ErrWrongKey},
		{"forged signature", voterKey, func() SignedBallot { s := sign(own, voterPriv); s.Signature[0] ^= 1; return s }(), t0, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.key.Check(tc.sb, tc.at)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("Check: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestKeyID(t *testing.T) {
	pub := testKey("voter-42").Public().(ed25519.PublicKey)
	id := KeyIDOf(pub)
	if len(id) != 32 || strings.Trim(string(id), "0123456789abcdef") != "" {
		t.Errorf("KeyIDOf: got %q, want 32 lowercase hex digits", id)
	}
	golden(t, "keyid.txt", []byte(EncodePublicKey(pub)+" "+string(id)+"\n"))
	if other := KeyIDOf(testKey("x").Public().(ed25519.PublicKey)); other == id {
		t.Errorf("two keys share the id %s", id)
	}
}

func TestParsePublicKey(t *testing.T) {
	good := EncodePublicKey(testKey("voter-42").Public().(ed25519.PublicKey))
	identity := make([]byte, 32)
	identity[0] = 1 // the neutral element, of order 1
	order2 := bytes.Repeat([]byte{0xff}, 32)
	order2[0], order2[31] = 0xec, 0x7f // y = p-1: the point of order 2, (0, -1)
	notOnCurve := make([]byte, 32)
	notOnCurve[0] = 2 // y = 2 gives no x
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"genuine", good, false},
		{"not base64", "not base64!", true},
		{"url base64", strings.NewReplacer("+", "-", "/", "_").Replace(EncodePublicKey(mustPubWith(t, "+/"))), true},
		{"31 bytes", base64.StdEncoding.EncodeToString(make([]byte, 31)), true},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), true},
		{"identity point", base64.StdEncoding.EncodeToString(identity), true},
		{"point of order two", base64.StdEncoding.EncodeToString(order2), true},
		{"not on the curve", base64.StdEncoding.EncodeToString(notOnCurve), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePublicKey(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePublicKey(%q): got %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("ParsePublicKey: got %v, want ErrMalformed", err)
			}
		})
	}
}

// mustPubWith returns a test public key whose base64 contains one of chars.
func mustPubWith(t *testing.T, chars string) ed25519.PublicKey {
	for i := range 1000 {
		pub := testKey("search " + string(rune('a'+i%26)) + string(rune('a'+i/26))).Public().(ed25519.PublicKey)
		if strings.ContainsAny(EncodePublicKey(pub), chars) {
			return pub
		}
	}
	t.Fatal("no key found")
	return nil
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "member.key")
	pub, err := GenerateKeyFile(path, rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKeyFile: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("private key file mode: got %v, want 0600", got)
	}
	priv, err := LoadKeyFile(path)
	if err != nil {
		t.Fatalf("LoadKeyFile: %v", err)
	}
	if !priv.Public().(ed25519.PublicKey).Equal(pub) {
		t.Errorf("loaded key's public half differs from the generated one")
	}
	pubPEM, err := os.ReadFile(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParsePublicKeyPEM(pubPEM); err != nil || !got.Equal(pub) {
		t.Errorf("ParsePublicKeyPEM(.pub): got %x, %v, want %x", got, err, pub)
	}
	if !strings.HasPrefix(string(pubPEM), "-----BEGIN PUBLIC KEY-----\n") {
		t.Errorf(".pub file: got %q, want a PEM PUBLIC KEY", pubPEM)
	}

	t.Run("refuses to overwrite", func(t *testing.T) {
		if _, err := GenerateKeyFile(path, rand.Reader); !errors.Is(err, os.ErrExist) {
			t.Errorf("GenerateKeyFile over an existing file: got %v, want ErrExist", err)
		}
		if again, err := LoadKeyFile(path); err != nil || !again.Equal(priv) {
			t.Errorf("the existing key changed: %v", err)
		}
	})
	t.Run("refuses a file others may read", func(t *testing.T) {
		if err := os.Chmod(path, 0o640); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(path, 0o600)
		if _, err := LoadKeyFile(path); !errors.Is(err, ErrKeyFileExposed) {
			t.Errorf("LoadKeyFile of a 0640 file: got %v, want ErrKeyFileExposed", err)
		}
	})
	t.Run("refuses what is not a private key", func(t *testing.T) {
		tests := []struct {
			name string
			data string
		}{
			{"empty", ""},
			{"public key", string(pubPEM)},
			{"two blocks", mustRead(t, path) + mustRead(t, path)},
			{"garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
				if err := os.WriteFile(p, []byte(tc.data), 0o600); err != nil {
					t.Fatal(err)
				}
				if _, err := LoadKeyFile(p); !errors.Is(err, ErrMalformed) {
					t.Errorf("LoadKeyFile: got %v, want ErrMalformed", err)
				}
			})
		}
	})
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
