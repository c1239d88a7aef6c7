package voting

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// CountTag opens every version 1 count. Like BallotTag, it keeps a count's signature
// from ever being taken for anything else.
const CountTag = "chamber/counts/1"

// countFixedLen is the length of a count before its list of options.
const countFixedLen = len(CountTag) + 5*8 + ChallengeSize + NonceSize + 1

// MaxCountLen bounds the encoding of a count: 255 options of the longest key.
const MaxCountLen = countFixedLen + 255*(1+MaxChoiceLen+4)

// A Count is a show of hands counted in the room and recorded by the clerk: how many
// hands went up for each option of a poll, without names. It is for a poll that is
// not a recorded (named) vote, and counts the members present who did not vote on
// their own devices; the clerk signs it with their own key. BALLOT.md specifies its
// byte encoding.
type Count struct {
	Meeting  int64 `json:"meeting"`
	Item     int64 `json:"item"`
	Poll     int64 `json:"poll"`
	Recorder int64 `json:"recorded_by"` // the clerk (a user id) who counted, and signs
	// CountedAt is when the count was made, by the clerk's clock, to the millisecond.
	CountedAt time.Time `json:"counted_at"`
	// Challenge is the poll's server challenge.
	Challenge Challenge `json:"-"`
	// Nonce is fresh randomness from the clerk, one per count.
	Nonce [NonceSize]byte `json:"-"`
	// Counts are the hands for each of the poll's options, in the poll's option order.
	Counts []OptionCount `json:"counts"`
}

// Total is the number of hands counted, abstentions included.
func (c *Count) Total() int {
	n := 0
	for _, oc := range c.Counts {
		n += oc.Count
	}
	return n
}

// Of returns the hands counted for option.
func (c *Count) Of(option string) int {
	for _, oc := range c.Counts {
		if oc.Option == option {
			return oc.Count
		}
	}
	return 0
}

func (c *Count) validate() error {
	switch {
	case c.Meeting <= 0, c.Item <= 0, c.Poll <= 0, c.Recorder <= 0:
		return fmt.Errorf("encode count: %w: meeting, item, poll and recorder ids must be positive", ErrMalformed)
	case c.CountedAt.UnixMilli() <= 0:
		return fmt.Errorf("encode count: %w: time %v is not after 1970", ErrMalformed, c.CountedAt)
	case len(c.Counts) == 0 || len(c.Counts) > 255:
		return fmt.Errorf("encode count: %w: %d options", ErrMalformed, len(c.Counts))
	}
	seen := map[string]bool{}
	for _, oc := range c.Counts {
		switch {
		case !validChoice(oc.Option):
			return fmt.Errorf("encode count: %w: option %q is not an option key", ErrMalformed, oc.Option)
		case seen[oc.Option]:
			return fmt.Errorf("encode count: %w: option %q twice", ErrMalformed, oc.Option)
		case !countOK(oc.Count):
			return fmt.Errorf("encode count: %w: count %d for %q", ErrMalformed, oc.Count, oc.Option)
		}
		seen[oc.Option] = true
	}
	if !countOK(c.Total()) {
		return fmt.Errorf("encode count: %w: total out of range", ErrMalformed)
	}
	return nil
}

// MarshalBinary returns c's canonical encoding, the bytes the clerk signs.
func (c *Count) MarshalBinary() ([]byte, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	e := encoder{b: make([]byte, 0, countFixedLen+len(c.Counts)*(1+8+4))}
	e.raw([]byte(CountTag))
	e.i64(c.Meeting)
	e.i64(c.Item)
	e.i64(c.Poll)
	e.i64(c.Recorder)
	e.i64(c.CountedAt.UnixMilli())
	e.raw(c.Challenge[:])
	e.raw(c.Nonce[:])
	e.u8(uint8(len(c.Counts)))
	for _, oc := range c.Counts {
		e.str8(oc.Option)
		e.u32(uint32(oc.Count))
	}
	return e.b, nil
}

// ParseCount decodes a canonical count encoding strictly, as ParseBallot does a
// ballot: any c it accepts re-encodes to exactly data.
func ParseCount(data []byte) (Count, error) {
	var c Count
	if len(data) > MaxCountLen {
		return c, fmt.Errorf("parse count: %w: %d bytes, at most %d", ErrMalformed, len(data), MaxCountLen)
	}
	d := decoder{b: data}
	if tag := d.take(len(CountTag), "tag"); d.err == nil && string(tag) != CountTag {
		d.off = 0
		d.fail("tag %q, want %q", tag, CountTag)
	}
	c.Meeting = d.id("meeting")
	c.Item = d.id("item")
	c.Poll = d.id("poll")
	c.Recorder = d.id("recorder")
	ms := d.i64("time")
	if d.err == nil && ms == 0 {
		d.off -= 8
		d.fail("time: 0")
	}
	c.CountedAt = time.UnixMilli(ms).UTC()
	copy(c.Challenge[:], d.take(ChallengeSize, "challenge"))
	copy(c.Nonce[:], d.take(NonceSize, "nonce"))
	n := int(d.u8("options"))
	for range n {
		if d.err != nil {
			break
		}
		c.Counts = append(c.Counts, OptionCount{Option: d.str8("option"), Count: int(d.u32("count"))})
	}
	if err := d.end(); err != nil {
		return Count{}, fmt.Errorf("parse count: %w", err)
	}
	again, err := c.MarshalBinary()
	if err := reencodes(data, again, err); err != nil {
		return Count{}, fmt.Errorf("parse count: %w", err)
	}
	return c, nil
}

// A SignedCount is a count's canonical bytes with the clerk's signature over them and
// the public key that made it.
type SignedCount struct {
	Bytes     []byte            `json:"count"`
	Signature []byte            `json:"signature"`
	PublicKey ed25519.PublicKey `json:"public_key"`
}

// SignCount encodes c and signs it with priv.
func SignCount(c Count, priv ed25519.PrivateKey) (SignedCount, error) {
	data, err := c.MarshalBinary()
	if err != nil {
		return SignedCount{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return SignedCount{}, fmt.Errorf("sign count: %w: private key of %d bytes", ErrMalformed, len(priv))
	}
	return SignedCount{Bytes: data, Signature: ed25519.Sign(priv, data), PublicKey: priv.Public().(ed25519.PublicKey)}, nil
}

// Open parses the count and checks its signature with its key, as SignedBallot.Open
// does a ballot's. It does not check that the key is the recorder's.
func (s SignedCount) Open() (Count, error) {
	c, err := ParseCount(s.Bytes)
	if err != nil {
		return Count{}, err
	}
	if len(s.PublicKey) != ed25519.PublicKeySize || len(s.Signature) != ed25519.SignatureSize {
		return Count{}, fmt.Errorf("open count: %w: signature or key of the wrong length", ErrMalformed)
	}
	if !ed25519.Verify(s.PublicKey, s.Bytes, s.Signature) {
		return Count{}, fmt.Errorf("open count in poll %d: %w", c.Poll, ErrBadSignature)
	}
	return c, nil
}

// Hash identifies a count by its bytes: their SHA-256.
func (s SignedCount) Hash() [32]byte { return sha256.Sum256(s.Bytes) }

// LogValue identifies a signed count in log lines by its hash and key.
func (s SignedCount) LogValue() slog.Value {
	h := s.Hash()
	return slog.GroupValue(slog.String("hash", hex.EncodeToString(h[:8])), slog.String("key", string(KeyIDOf(s.PublicKey))))
}

// EncodeCountEntry returns the leaf bytes of a count: the kind byte, the count's
// length (2 bytes) and bytes, the signature (64 bytes) and the public key (32 bytes).
func EncodeCountEntry(sc SignedCount) ([]byte, error) {
	if _, err := ParseCount(sc.Bytes); err != nil {
		return nil, fmt.Errorf("encode count entry: %w", err)
	}
	if len(sc.Signature) != ed25519.SignatureSize || len(sc.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("encode count entry: %w: signature or key of the wrong length", ErrMalformed)
	}
	e := encoder{b: make([]byte, 0, 1+2+len(sc.Bytes)+ed25519.SignatureSize+ed25519.PublicKeySize)}
	e.u8(uint8(EntryCount))
	e.bytes16(sc.Bytes)
	e.raw(sc.Signature)
	e.raw(sc.PublicKey)
	return e.b, nil
}

// AdmitCount checks a count against the poll at time now: it must be for this meeting,
// item and poll with its challenge (else ErrWrongPoll), the poll must not be a
// recorded vote, which takes names (ErrNamedVote), the count must give every option
// of the poll once, in the poll's order (ErrInvalidChoice), and the poll must be open
// (ErrPollClosed).
func (p *Poll) AdmitCount(c *Count, now time.Time) error {
	if c.Meeting != p.Meeting || c.Item != p.Item || c.Poll != p.ID || c.Challenge != p.Challenge {
		return fmt.Errorf("count for meeting %d item %d poll %d, or with another challenge, not poll %d: %w",
			c.Meeting, c.Item, c.Poll, p.ID, ErrWrongPoll)
	}
	if p.Named {
		return fmt.Errorf("a count in poll %d: %w", p.ID, ErrNamedVote)
	}
	if err := countsFit(&p.PollOpening, c); err != nil {
		return err
	}
	if !p.IsOpen(now) {
		return fmt.Errorf("poll %d: %w", p.ID, ErrPollClosed)
	}
	return nil
}

// countsFit checks that a count gives each of the poll's options once, in its order.
func countsFit(p *PollOpening, c *Count) error {
	got := make([]string, len(c.Counts))
	for i, oc := range c.Counts {
		got[i] = oc.Option
	}
	if !slices.Equal(got, p.Options) {
		return fmt.Errorf("count for options %v in poll %d of options %v: %w", got, p.ID, p.Options, ErrInvalidChoice)
	}
	return nil
}

// StoredCount is a count as stored: where it is in the log, and when it arrived.
type StoredCount struct {
	ID         int64
	Signed     SignedCount
	Count      Count
	Key        KeyID
	Index      int64
	ReceivedAt time.Time
}

// CountSubmission is a checked count ready to store. MayVote lists the poll's
// eligible voters who may still vote now (present, in a mode that votes); the store
// refuses the count (ErrOverCount) if it counts more hands than those of them who have
// not voted by ballot.
type CountSubmission struct {
	Signed     SignedCount
	Count      Count
	Key        KeyID
	ReceivedAt time.Time
	MayVote    []int64
}
