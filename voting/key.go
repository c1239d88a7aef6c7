package voting

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"time"

	"filippo.io/edwards25519"
)

// A KeyID names a public key: the lowercase hex of the first 16 bytes of the SHA-256
// of its 32 raw bytes.
type KeyID string

// KeyIDOf returns pub's id.
func KeyIDOf(pub ed25519.PublicKey) KeyID {
	sum := sha256.Sum256(pub)
	return KeyID(hex.EncodeToString(sum[:16]))
}

// KeyStatus is where a key stands in its life: enrolled by a member, approved by a
// clerk, revoked.
type KeyStatus string

// Key statuses.
const (
	KeyPending  KeyStatus = "pending"
	KeyApproved KeyStatus = "approved"
	KeyRevoked  KeyStatus = "revoked"
)

// A Key is a member's (or a clerk's) device key. A member enrols it; it signs nothing
// that counts until a clerk approves it, and nothing at all after it is revoked. The
// server only ever holds the public half.
type Key struct {
	ID         KeyID             `json:"id"`
	User       int64             `json:"user"`
	PublicKey  ed25519.PublicKey `json:"public_key"`
	Label      string            `json:"label,omitempty"` // such as "laptop" or "CLI"
	EnrolledAt time.Time         `json:"enrolled_at"`
	ApprovedAt time.Time         `json:"approved_at,omitzero"`
	ApprovedBy int64             `json:"approved_by,omitempty"`
	RevokedAt  time.Time         `json:"revoked_at,omitzero"`
	RevokedBy  int64             `json:"revoked_by,omitempty"`
}

// NewKey returns a pending key for user, refusing public keys that could not have come
// from a key generator (see ValidatePublicKey).
func NewKey(user int64, pub ed25519.PublicKey, label string, now time.Time) (Key, error) {
	if err := ValidatePublicKey(pub); err != nil {
		return Key{}, err
	}
	return Key{
		ID:         KeyIDOf(pub),
		User:       user,
		PublicKey:  bytes.Clone(pub),
		Label:      label,
		EnrolledAt: now,
	}, nil
}

// Status returns k's status at time t.
func (k *Key) Status(t time.Time) KeyStatus {
	switch {
	case !k.RevokedAt.IsZero() && !t.Before(k.RevokedAt):
		return KeyRevoked
	case !k.ApprovedAt.IsZero() && !t.Before(k.ApprovedAt):
		return KeyApproved
	}
	return KeyPending
}

// CanSign returns nil if k was approved and not revoked at time t, else ErrKeyRevoked
// or ErrKeyNotApproved.
func (k *Key) CanSign(t time.Time) error {
	switch k.Status(t) {
	case KeyApproved:
		return nil
	case KeyRevoked:
		return fmt.Errorf("key %s: %w", k.ID, ErrKeyRevoked)
	}
	return fmt.Errorf("key %s: %w", k.ID, ErrKeyNotApproved)
}

// Check opens sb with k: the ballot must parse, be signed by k, be one that k's owner
// may sign (their own vote, or one they recorded as clerk), and k must be approved and
// unrevoked at time t (the server's clock when the ballot arrives).
func (k *Key) Check(sb SignedBallot, t time.Time) (Ballot, error) {
	if !bytes.Equal(sb.PublicKey, k.PublicKey) {
		return Ballot{}, fmt.Errorf("check ballot: key %s is not the ballot's key: %w", k.ID, ErrWrongKey)
	}
	b, err := sb.Open()
	if err != nil {
		return Ballot{}, err
	}
	if err := k.CheckOpened(sb, &b, t); err != nil {
		return Ballot{}, err
	}
	return b, nil
}

// CheckOpened is Check for a ballot already opened (parsed, and its signature checked
// with sb's key), which it does not check again.
func (k *Key) CheckOpened(sb SignedBallot, b *Ballot, t time.Time) error {
	if !bytes.Equal(sb.PublicKey, k.PublicKey) {
		return fmt.Errorf("check ballot: key %s is not the ballot's key: %w", k.ID, ErrWrongKey)
	}
	if b.Signer() != k.User {
		return fmt.Errorf("check ballot: key %s belongs to user %d, the signer is %d: %w", k.ID, k.User, b.Signer(), ErrWrongKey)
	}
	if err := k.CanSign(t); err != nil {
		return fmt.Errorf("check ballot: %w", err)
	}
	return nil
}

// ValidatePublicKey refuses a public key that is not 32 bytes, is not a point on the
// curve, or is of small order. A small-order key verifies signatures that need no
// private key, so a ballot under it would prove nothing about who made it.
func ValidatePublicKey(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("public key: %w: %d bytes, want %d", ErrMalformed, len(pub), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return fmt.Errorf("public key: %w: not a curve point", ErrMalformed)
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return fmt.Errorf("public key: %w: small-order point", ErrMalformed)
	}
	return nil
}

// EncodePublicKey returns pub as standard base64 of its 32 raw bytes: what WebCrypto's
// exportKey("raw") gives, base64-encoded, and what ParsePublicKey reads.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key written by EncodePublicKey and validates it.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("public key: %w: %v", ErrMalformed, err)
	}
	pub := ed25519.PublicKey(raw)
	if err := ValidatePublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// Key files, as `chamber keygen` writes them, are PEM: the private key as PKCS #8
// ("PRIVATE KEY"), the public key beside it, at the same path plus ".pub", as
// SubjectPublicKeyInfo ("PUBLIC KEY"). Both are what OpenSSL and WebCrypto read.

// GenerateKeyFile makes a new Ed25519 key from random, writes the private key to path
// with mode 0600 and the public key to path+".pub", and returns the public key. It
// refuses to overwrite either file.
func GenerateKeyFile(path string, random io.Reader) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return pub, nil
}

// writeNew writes data to a file that must not exist yet, created with mode perm and
// synced before it is closed.
func writeNew(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// LoadKeyFile reads a private key written by GenerateKeyFile. On Unix it refuses a file
// that group or others may read or write.
func LoadKeyFile(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load key %s: mode %v: %w", path, fi.Mode().Perm(), ErrKeyFileExposed)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	return ParsePrivateKeyPEM(data)
}

// ParsePrivateKeyPEM reads one PEM "PRIVATE KEY" block holding a PKCS #8 Ed25519 key,
// and nothing else.
func ParsePrivateKeyPEM(data []byte) (ed25519.PrivateKey, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 || len(block.Headers) != 0 {
		return nil, fmt.Errorf("private key: %w: want exactly one PEM PRIVATE KEY block", ErrMalformed)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private key: %w: %v", ErrMalformed, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key: %w: a %T, not Ed25519", ErrMalformed, k)
	}
	return priv, nil
}

// ParsePublicKeyPEM reads one PEM "PUBLIC KEY" block holding an Ed25519
// SubjectPublicKeyInfo, such as a ".pub" file written by GenerateKeyFile.
func ParsePublicKeyPEM(data []byte) (ed25519.PublicKey, error) {
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("public key: %w: want exactly one PEM PUBLIC KEY block", ErrMalformed)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("public key: %w: %v", ErrMalformed, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key: %w: a %T, not Ed25519", ErrMalformed, k)
	}
	if err := ValidatePublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}
