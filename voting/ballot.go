package voting

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"
)

// BallotTag opens every version 1 ballot. It separates ballot signatures from anything
// else a key might ever sign, and names the layout that follows.
const BallotTag = "chamber/ballot/1"

// Sizes of a ballot's fixed fields.
const (
	ChallengeSize = 32 // a poll's server challenge
	NonceSize     = 32 // a ballot's client nonce
	MaxChoiceLen  = 32 // the longest option key
	// ballotFixedLen is the length of everything before the choice's bytes.
	ballotFixedLen = len(BallotTag) + 6*8 + 8 + ChallengeSize + NonceSize + 1 + 1
	// MaxBallotLen is the length of the longest valid encoding.
	MaxBallotLen = ballotFixedLen + MaxChoiceLen
)

// Ballot flags (one byte; bits not named here must be zero).
const (
	flagCasting = 1 << 0
)

// A Ballot is one vote in one poll, as signed. BALLOT.md specifies its byte encoding.
type Ballot struct {
	Meeting int64 // the meeting's id
	Item    int64 // the agenda item's id
	Poll    int64 // the poll's id
	Voter   int64 // the member whose vote this is (a user id)
	// Recorder is the clerk (a user id) who recorded this vote in the room or as a
	// proxy vote, and whose key signs it; 0 when the voter cast it on their own device.
	Recorder int64
	// Proxy is the member (a user id) who held the voter's proxy and voted with it; 0
	// for a vote the voter gave themselves.
	Proxy int64
	// Casting marks the presiding member's casting vote, given on an equality of votes.
	Casting bool
	// CastAt is when the ballot was made, by the signer's clock, to the millisecond.
	CastAt time.Time
	// Challenge is the poll's server challenge, given out when the poll opened.
	Challenge Challenge
	// Nonce is fresh randomness from the signer, one per ballot.
	Nonce [NonceSize]byte
	// Choice is the key of one of the poll's options, such as "for".
	Choice string
}

// Signer is the user whose key must sign b: the recorder for a vote recorded by a
// clerk, otherwise the voter.
func (b *Ballot) Signer() int64 {
	if b.Recorder != 0 {
		return b.Recorder
	}
	return b.Voter
}

// ByClerk reports whether a clerk recorded b rather than the voter casting it.
func (b *Ballot) ByClerk() bool { return b.Recorder != 0 }

// validChoice reports whether s may be an option key: 1 to MaxChoiceLen bytes of
// lowercase ASCII letters, digits, '_' and '-'.
func validChoice(s string) bool {
	if len(s) == 0 || len(s) > MaxChoiceLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// MarshalBinary returns b's canonical encoding, the bytes that are signed. It refuses
// a ballot that ParseBallot would refuse.
func (b *Ballot) MarshalBinary() ([]byte, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	e := encoder{b: make([]byte, 0, ballotFixedLen+len(b.Choice))}
	e.raw([]byte(BallotTag))
	e.i64(b.Meeting)
	e.i64(b.Item)
	e.i64(b.Poll)
	e.i64(b.Voter)
	e.i64(b.Recorder)
	e.i64(b.Proxy)
	e.i64(b.CastAt.UnixMilli())
	e.raw(b.Challenge[:])
	e.raw(b.Nonce[:])
	var flags uint8
	if b.Casting {
		flags |= flagCasting
	}
	e.u8(flags)
	e.str8(b.Choice)
	return e.b, nil
}

func (b *Ballot) validate() error {
	switch {
	case b.Meeting <= 0, b.Item <= 0, b.Poll <= 0, b.Voter <= 0:
		return fmt.Errorf("encode ballot: %w: meeting, item, poll and voter ids must be positive", ErrMalformed)
	case b.Recorder < 0, b.Proxy < 0:
		return fmt.Errorf("encode ballot: %w: negative recorder or proxy id", ErrMalformed)
	case b.CastAt.UnixMilli() <= 0:
		return fmt.Errorf("encode ballot: %w: time %v is not after 1970", ErrMalformed, b.CastAt)
	case !validChoice(b.Choice):
		return fmt.Errorf("encode ballot: %w: choice %q is not an option key", ErrMalformed, b.Choice)
	}
	return nil
}

// ParseBallot decodes a canonical ballot encoding. It is strict: a wrong tag or length,
// a zero id, a time at or before 1970, unknown flags, a bad choice or trailing bytes are
// refused with an error wrapping ErrMalformed. Any b it accepts re-encodes to exactly
// data.
func ParseBallot(data []byte) (Ballot, error) {
	var b Ballot
	if len(data) > MaxBallotLen {
		return b, fmt.Errorf("parse ballot: %w: %d bytes, at most %d", ErrMalformed, len(data), MaxBallotLen)
	}
	d := decoder{b: data}
	if tag := d.take(len(BallotTag), "tag"); d.err == nil && string(tag) != BallotTag {
		d.off = 0
		d.fail("tag %q, want %q", tag, BallotTag)
	}
	b.Meeting = d.id("meeting")
	b.Item = d.id("item")
	b.Poll = d.id("poll")
	b.Voter = d.id("voter")
	b.Recorder = d.i64("recorder")
	b.Proxy = d.i64("proxy")
	ms := d.i64("time")
	if d.err == nil && ms == 0 {
		d.off -= 8
		d.fail("time: 0")
	}
	b.CastAt = time.UnixMilli(ms).UTC()
	copy(b.Challenge[:], d.take(ChallengeSize, "challenge"))
	copy(b.Nonce[:], d.take(NonceSize, "nonce"))
	flags := d.u8("flags")
	if d.err == nil && flags&^flagCasting != 0 {
		d.off--
		d.fail("flags: unknown bits %#02x", flags&^flagCasting)
	}
	b.Casting = flags&flagCasting != 0
	b.Choice = d.str8("choice")
	if d.err == nil && !validChoice(b.Choice) {
		d.fail("choice %q is not an option key", b.Choice)
	}
	if err := d.end(); err != nil {
		return Ballot{}, fmt.Errorf("parse ballot: %w", err)
	}
	return b, nil
}

// BallotHash identifies a ballot by its encoding: the SHA-256 of the canonical bytes.
// Two submissions with the same hash are the same ballot.
func BallotHash(encoded []byte) [32]byte { return sha256.Sum256(encoded) }

// A SignedBallot is a ballot's canonical bytes with the signature over them and the
// public key that made it.
type SignedBallot struct {
	Bytes     []byte            `json:"ballot"`
	Signature []byte            `json:"signature"`
	PublicKey ed25519.PublicKey `json:"public_key"`
}

// SignBallot encodes b and signs it with priv.
func SignBallot(b Ballot, priv ed25519.PrivateKey) (SignedBallot, error) {
	data, err := b.MarshalBinary()
	if err != nil {
		return SignedBallot{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return SignedBallot{}, fmt.Errorf("sign ballot: %w: private key of %d bytes", ErrMalformed, len(priv))
	}
	return SignedBallot{
		Bytes:     data,
		Signature: ed25519.Sign(priv, data),
		PublicKey: priv.Public().(ed25519.PublicKey),
	}, nil
}

// Open parses the ballot and checks its signature. It returns an error wrapping
// ErrMalformed for a bad encoding, key or signature length, and ErrBadSignature for a
// signature that does not verify. It does not check that the key belongs to the
// ballot's signer; see Key.Check.
func (s SignedBallot) Open() (Ballot, error) {
	b, err := ParseBallot(s.Bytes)
	if err != nil {
		return Ballot{}, err
	}
	if len(s.PublicKey) != ed25519.PublicKeySize {
		return Ballot{}, fmt.Errorf("open ballot: %w: public key of %d bytes", ErrMalformed, len(s.PublicKey))
	}
	if len(s.Signature) != ed25519.SignatureSize {
		return Ballot{}, fmt.Errorf("open ballot: %w: signature of %d bytes", ErrMalformed, len(s.Signature))
	}
	if !ed25519.Verify(s.PublicKey, s.Bytes, s.Signature) {
		return Ballot{}, fmt.Errorf("open ballot of voter %d in poll %d: %w", b.Voter, b.Poll, ErrBadSignature)
	}
	return b, nil
}

// LogValue keeps a ballot's choice and nonce out of log lines.
func (b Ballot) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int64("meeting", b.Meeting), slog.Int64("item", b.Item), slog.Int64("poll", b.Poll),
		slog.Int64("voter", b.Voter), slog.Int64("recorder", b.Recorder), slog.Bool("casting", b.Casting))
}

// LogValue identifies a signed ballot in log lines by its hash and key, without its
// contents.
func (s SignedBallot) LogValue() slog.Value {
	h := s.Hash()
	return slog.GroupValue(slog.String("hash", hex.EncodeToString(h[:8])), slog.String("key", string(KeyIDOf(s.PublicKey))))
}

// Hash is BallotHash of the ballot's bytes.
func (s SignedBallot) Hash() [32]byte { return BallotHash(s.Bytes) }
