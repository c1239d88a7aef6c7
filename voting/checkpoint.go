package voting

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A Checkpoint is a log's tree head: its origin, size and root hash. Its text is the
// body of a C2SP tlog-checkpoint:
//
//	<origin>
//	<size in decimal>
//	<root hash in standard base64>
//
// each line ending in a newline. Signed, it is a signed note (C2SP signed-note) whose
// signature is made by the server's log key under the key name <origin>.
type Checkpoint struct {
	Origin string
	Size   int64
	Hash   tlog.Hash
}

// ValidOrigin reports whether s may name a log: not empty, UTF-8, with no space and
// no '+', so that it is also a valid note key name.
func ValidOrigin(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '+' || r == unicode.ReplacementChar
	})
}

// MeetingOrigin names the log of a meeting on the deployment named base, such as
// "chamber.example.gov.uk": base + "/meetings/" + the meeting's id.
func MeetingOrigin(base string, meeting int64) string {
	return base + "/meetings/" + strconv.FormatInt(meeting, 10)
}

// Text returns the checkpoint's note text.
func (c Checkpoint) Text() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash[:]))
}

// ParseCheckpoint reads a checkpoint's note text strictly: exactly three lines, a
// valid origin, a size in canonical decimal and a canonical base64 hash. Extension
// lines, which Chamber never writes, are refused.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.SplitAfter(string(text), "\n")
	if len(lines) != 4 || lines[3] != "" {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w: want three lines", ErrMalformed)
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	sizeText := strings.TrimSuffix(lines[1], "\n")
	hashText := strings.TrimSuffix(lines[2], "\n")
	if !ValidOrigin(origin) {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w: origin %q", ErrMalformed, origin)
	}
	size, err := strconv.ParseInt(sizeText, 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != sizeText {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w: tree size %q", ErrMalformed, sizeText)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(hashText)
	if err != nil || len(raw) != tlog.HashSize {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w: root hash %q", ErrMalformed, hashText)
	}
	c := Checkpoint{Origin: origin, Size: size}
	copy(c.Hash[:], raw)
	return c, nil
}

// A LogKey is the server's Ed25519 key that signs checkpoints. Each meeting's log
// gets its own note key name (its origin) over the same key, so that a checkpoint's
// signature line names the log it belongs to.
type LogKey struct {
	priv ed25519.PrivateKey
}

// NewLogKey wraps an Ed25519 private key, such as one LoadKeyFile read.
func NewLogKey(priv ed25519.PrivateKey) (*LogKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("log key: %w: %d bytes", ErrMalformed, len(priv))
	}
	return &LogKey{priv: priv}, nil
}

// Public returns the key's public half.
func (k *LogKey) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// VerifierKey returns the note verifier key of the log named origin, the text that
// `chamber verify` and anyone else needs to check its checkpoints:
// "<origin>+<key hash>+<base64 of 0x01 and the public key>".
func (k *LogKey) VerifierKey(origin string) (string, error) {
	if !ValidOrigin(origin) {
		return "", fmt.Errorf("log key: %w: origin %q", ErrMalformed, origin)
	}
	return note.NewEd25519VerifierKey(origin, k.Public())
}

// Signer returns a note signer for the log named origin.
func (k *LogKey) Signer(origin string) (note.Signer, error) {
	vkey, err := k.VerifierKey(origin)
	if err != nil {
		return nil, err
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("log key: %w", err)
	}
	return &noteSigner{name: origin, hash: v.KeyHash(), priv: k.priv}, nil
}

// Sign returns c as a signed note.
func (k *LogKey) Sign(c Checkpoint) ([]byte, error) {
	s, err := k.Signer(c.Origin)
	if err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: string(c.Text())}, s)
	if err != nil {
		return nil, fmt.Errorf("sign checkpoint: %w", err)
	}
	return msg, nil
}

type noteSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
}

func (s *noteSigner) Name() string                    { return s.name }
func (s *noteSigner) KeyHash() uint32                 { return s.hash }
func (s *noteSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }

// OpenCheckpoint verifies a signed checkpoint with the note verifier key vkey and
// returns it. The key's name must be the checkpoint's origin. Signatures by other keys
// (witnesses' cosignatures, say) are ignored.
func OpenCheckpoint(signed []byte, vkey string) (Checkpoint, error) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: verifier key: %w: %v", ErrMalformed, err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w: %v", ErrBadProof, err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("checkpoint of %q signed by key for %q: %w", c.Origin, v.Name(), ErrBadProof)
	}
	return c, nil
}

// A Receipt is what a voter gets back for an accepted ballot: where their ballot is in
// the meeting's log, the proof that it is there, and the checkpoint the proof is
// against.
type Receipt struct {
	Index      int64            `json:"index"`
	Proof      tlog.RecordProof `json:"proof"`
	Checkpoint string           `json:"checkpoint"` // a signed note
}

// VerifyReceipt checks that leaf (the log entry of the ballot, see
// EncodeBallotEntry) is in the log whose checkpoint r carries, signed by the holder of
// vkey, and returns that checkpoint.
func VerifyReceipt(r Receipt, leaf []byte, vkey string) (Checkpoint, error) {
	c, err := OpenCheckpoint([]byte(r.Checkpoint), vkey)
	if err != nil {
		return Checkpoint{}, err
	}
	if err := VerifyInclusion(c, r.Index, leaf, r.Proof); err != nil {
		return Checkpoint{}, err
	}
	return c, nil
}
