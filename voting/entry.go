package voting

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// EntryKind is the first byte of a log entry and names its layout. BALLOT.md
// specifies each.
type EntryKind byte

// Log entry kinds.
const (
	EntryBallot  EntryKind = 0x01 // an accepted ballot with its signature and key
	EntryOpening EntryKind = 0x02 // a poll opened
	EntryClosing EntryKind = 0x03 // a poll closed
	EntryCount   EntryKind = 0x04 // a show of hands counted in the room, signed by the clerk
	// EntryCastingDeclined: after an equality, no casting vote will come (the member
	// presiding has left, or declines to give it), so the equality stands.
	EntryCastingDeclined EntryKind = 0x05
)

func (k EntryKind) String() string {
	switch k {
	case EntryBallot:
		return "ballot"
	case EntryOpening:
		return "opening"
	case EntryClosing:
		return "closing"
	case EntryCount:
		return "count"
	case EntryCastingDeclined:
		return "no casting vote"
	}
	return fmt.Sprintf("EntryKind(%#02x)", byte(k))
}

// An Entry is one leaf of a meeting's log: exactly one of its pointers is set.
type Entry struct {
	Ballot   *SignedBallot
	Opening  *PollOpening
	Closing  *PollClosing
	Count    *SignedCount
	Declined *CastingDeclined
}

// Kind returns e's kind, or 0 if e holds nothing.
func (e Entry) Kind() EntryKind {
	switch {
	case e.Ballot != nil:
		return EntryBallot
	case e.Opening != nil:
		return EntryOpening
	case e.Closing != nil:
		return EntryClosing
	case e.Count != nil:
		return EntryCount
	case e.Declined != nil:
		return EntryCastingDeclined
	}
	return 0
}

// Poll returns the poll that e belongs to.
func (e Entry) Poll() int64 {
	switch {
	case e.Ballot != nil:
		b, err := ParseBallot(e.Ballot.Bytes)
		if err != nil {
			return 0
		}
		return b.Poll
	case e.Opening != nil:
		return e.Opening.ID
	case e.Closing != nil:
		return e.Closing.Poll
	case e.Count != nil:
		c, err := ParseCount(e.Count.Bytes)
		if err != nil {
			return 0
		}
		return c.Poll
	case e.Declined != nil:
		return e.Declined.Poll
	}
	return 0
}

// Encode returns e's leaf bytes.
func (e Entry) Encode() ([]byte, error) {
	switch e.Kind() {
	case EntryBallot:
		return EncodeBallotEntry(*e.Ballot)
	case EntryOpening:
		return EncodeOpening(e.Opening)
	case EntryClosing:
		return EncodeClosing(e.Closing)
	case EntryCount:
		return EncodeCountEntry(*e.Count)
	case EntryCastingDeclined:
		return EncodeCastingDeclined(e.Declined)
	}
	return nil, fmt.Errorf("encode log entry: %w: empty entry", ErrMalformed)
}

// EncodeBallotEntry returns the leaf bytes of an accepted ballot: the kind byte, the
// ballot's length (2 bytes) and bytes, the signature (64 bytes) and the public key (32
// bytes).
func EncodeBallotEntry(sb SignedBallot) ([]byte, error) {
	if _, err := ParseBallot(sb.Bytes); err != nil {
		return nil, fmt.Errorf("encode ballot entry: %w", err)
	}
	if len(sb.Signature) != ed25519.SignatureSize || len(sb.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("encode ballot entry: %w: signature or key of the wrong length", ErrMalformed)
	}
	e := encoder{b: make([]byte, 0, 1+2+len(sb.Bytes)+ed25519.SignatureSize+ed25519.PublicKeySize)}
	e.u8(uint8(EntryBallot))
	e.bytes16(sb.Bytes)
	e.raw(sb.Signature)
	e.raw(sb.PublicKey)
	return e.b, nil
}

// maxList bounds the lists in an opening (eligible voters, overrides).
const maxList = 1 << 16

// EncodeOpening returns the leaf bytes recording that poll p opened.
func EncodeOpening(p *PollOpening) ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("encode opening: %w", err)
	}
	switch {
	case p.Motion < 0, p.OpenedBy < 0, p.Presiding < 0:
		return nil, fmt.Errorf("encode opening: %w: negative id", ErrMalformed)
	case p.OpenedAt.UnixMilli() <= 0, !p.ClosesAt.IsZero() && p.ClosesAt.UnixMilli() <= 0:
		return nil, fmt.Errorf("encode opening: %w: time not after 1970", ErrMalformed)
	case !utf8.ValidString(p.Question), len(p.Question) >= maxList:
		return nil, fmt.Errorf("encode opening: %w: question not UTF-8 or too long", ErrMalformed)
	case len(p.Eligible) >= maxList, len(p.Overrides) >= maxList:
		return nil, fmt.Errorf("encode opening: %w: too many voters", ErrMalformed)
	case !countOK(p.Membership), !countOK(p.QuorumRequired), !countOK(p.PresentAtOpen):
		return nil, fmt.Errorf("encode opening: %w: count out of range", ErrMalformed)
	}
	e := encoder{}
	e.u8(uint8(EntryOpening))
	e.i64(p.Meeting)
	e.i64(p.Item)
	e.i64(p.ID)
	e.i64(p.Motion)
	e.str8(string(p.Method))
	e.u8(uint8(len(p.Options)))
	for _, o := range p.Options {
		e.str8(o)
	}
	e.bool(p.Named)
	e.bool(p.LiveTally)
	e.bytes16([]byte(p.Question))
	e.raw(p.Challenge[:])
	e.i64(p.OpenedAt.UnixMilli())
	e.i64(unixMilliOrZero(p.ClosesAt))
	e.i64(p.OpenedBy)
	e.u32(uint32(p.Membership))
	e.u32(uint32(p.QuorumRequired))
	e.u32(uint32(p.PresentAtOpen))
	e.u8(tieBreak(p))
	e.i64(p.Presiding)
	e.u16(uint16(len(p.Eligible)))
	for _, id := range p.Eligible {
		if id <= 0 {
			return nil, fmt.Errorf("encode opening: %w: eligible voter id %d", ErrMalformed, id)
		}
		e.i64(id)
	}
	e.u16(uint16(len(p.Overrides)))
	for i, o := range p.Overrides {
		if o.Voter <= 0 || o.By <= 0 || o.Reason == "" || !utf8.ValidString(o.Reason) || len(o.Reason) >= maxList ||
			i > 0 && p.Overrides[i-1].Voter >= o.Voter {
			return nil, fmt.Errorf("encode opening: %w: override %d", ErrMalformed, i)
		}
		e.i64(o.Voter)
		e.i64(o.By)
		e.bytes16([]byte(o.Reason))
	}
	return e.b, nil
}

// EncodeClosing returns the leaf bytes recording that a poll closed.
func EncodeClosing(c *PollClosing) ([]byte, error) {
	switch {
	case c.Meeting <= 0, c.Item <= 0, c.Poll <= 0, c.ClosedBy < 0:
		return nil, fmt.Errorf("encode closing: %w: bad id", ErrMalformed)
	case c.ClosedAt.UnixMilli() <= 0:
		return nil, fmt.Errorf("encode closing: %w: time not after 1970", ErrMalformed)
	case !countOK(c.PresentAtClose), !countOK(c.Ballots), len(c.Counts) > 255:
		return nil, fmt.Errorf("encode closing: %w: count out of range", ErrMalformed)
	case !validChoice(string(c.Outcome)):
		return nil, fmt.Errorf("encode closing: %w: outcome %q", ErrMalformed, c.Outcome)
	}
	e := encoder{}
	e.u8(uint8(EntryClosing))
	e.i64(c.Meeting)
	e.i64(c.Item)
	e.i64(c.Poll)
	e.i64(c.ClosedAt.UnixMilli())
	e.i64(c.ClosedBy)
	e.u32(uint32(c.PresentAtClose))
	e.u32(uint32(c.Ballots))
	e.u8(uint8(len(c.Counts)))
	for _, oc := range c.Counts {
		if !validChoice(oc.Option) || !countOK(oc.Count) {
			return nil, fmt.Errorf("encode closing: %w: count for %q", ErrMalformed, oc.Option)
		}
		e.str8(oc.Option)
		e.u32(uint32(oc.Count))
	}
	e.str8(string(c.Outcome))
	return e.b, nil
}

// EncodeCastingDeclined returns the leaf bytes recording that no casting vote will
// come in a poll that closed on an equality.
func EncodeCastingDeclined(d *CastingDeclined) ([]byte, error) {
	switch {
	case d.Meeting <= 0, d.Item <= 0, d.Poll <= 0, d.DeclaredBy <= 0, d.Presiding <= 0:
		return nil, fmt.Errorf("encode no casting vote: %w: bad id", ErrMalformed)
	case d.DeclaredAt.UnixMilli() <= 0:
		return nil, fmt.Errorf("encode no casting vote: %w: time not after 1970", ErrMalformed)
	case d.Reason == "" || !utf8.ValidString(d.Reason) || utf8.RuneCountInString(d.Reason) > MaxDeclineReason:
		return nil, fmt.Errorf("encode no casting vote: %w: the reason must be 1 to %d characters of UTF-8", ErrMalformed, MaxDeclineReason)
	}
	e := encoder{b: make([]byte, 0, 1+6*8+2+len(d.Reason))}
	e.u8(uint8(EntryCastingDeclined))
	e.i64(d.Meeting)
	e.i64(d.Item)
	e.i64(d.Poll)
	e.i64(d.DeclaredAt.UnixMilli())
	e.i64(d.DeclaredBy)
	e.i64(d.Presiding)
	e.bytes16([]byte(d.Reason))
	return e.b, nil
}

// How an opening says the rules break an equality of votes.
const (
	tieNone         = 0 // no tie-break: an equality loses the motion
	tieCasting      = 1 // the person presiding has a second, casting vote
	tiePreponderant = 2 // the presiding member's own vote decides
)

// tieBreak returns p's tie-break byte. Validate refuses both rules at once.
func tieBreak(p *PollOpening) uint8 {
	switch {
	case p.CastingVote:
		return tieCasting
	case p.PreponderantVote:
		return tiePreponderant
	}
	return tieNone
}

func countOK(n int) bool { return n >= 0 && n <= 1<<31-1 }

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// ParseEntry decodes a log entry strictly: every field as EncodeBallotEntry,
// EncodeOpening, EncodeClosing, EncodeCountEntry and EncodeCastingDeclined write it,
// and nothing after.
func ParseEntry(data []byte) (Entry, error) {
	d := decoder{b: data}
	kind := EntryKind(d.u8("kind"))
	var e Entry
	switch kind {
	case EntryBallot:
		raw := d.bytes16("ballot")
		sig := d.take(ed25519.SignatureSize, "signature")
		pub := d.take(ed25519.PublicKeySize, "public key")
		if err := d.end(); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		if _, err := ParseBallot(raw); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		e.Ballot = &SignedBallot{Bytes: slices.Clone(raw), Signature: slices.Clone(sig), PublicKey: slices.Clone(pub)}
	case EntryCount:
		raw := d.bytes16("count")
		sig := d.take(ed25519.SignatureSize, "signature")
		pub := d.take(ed25519.PublicKeySize, "public key")
		if err := d.end(); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		if _, err := ParseCount(raw); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		e.Count = &SignedCount{Bytes: slices.Clone(raw), Signature: slices.Clone(sig), PublicKey: slices.Clone(pub)}
	case EntryOpening:
		p := &PollOpening{}
		p.Meeting = d.id("meeting")
		p.Item = d.id("item")
		p.ID = d.id("poll")
		p.Motion = d.i64("motion")
		p.Method = Method(d.str8("method"))
		n := int(d.u8("options"))
		for range n {
			p.Options = append(p.Options, d.str8("option"))
		}
		p.Named = d.bool("named")
		p.LiveTally = d.bool("live tally")
		p.Question = string(d.bytes16("question"))
		copy(p.Challenge[:], d.take(ChallengeSize, "challenge"))
		p.OpenedAt = timeOrZero(d.i64("opened at"))
		p.ClosesAt = timeOrZero(d.i64("closes at"))
		p.OpenedBy = d.i64("opened by")
		p.Membership = int(d.u32("membership"))
		p.QuorumRequired = int(d.u32("quorum required"))
		p.PresentAtOpen = int(d.u32("present at open"))
		switch tb := d.u8("tie-break"); tb {
		case tieCasting:
			p.CastingVote = true
		case tiePreponderant:
			p.PreponderantVote = true
		case tieNone:
		default:
			d.off--
			d.fail("tie-break: unknown rule %d", tb)
		}
		p.Presiding = d.i64("presiding")
		n = int(d.u16("eligible"))
		for range n {
			if d.err != nil {
				break
			}
			p.Eligible = append(p.Eligible, d.id("eligible voter"))
		}
		n = int(d.u16("overrides"))
		for range n {
			if d.err != nil {
				break
			}
			p.Overrides = append(p.Overrides, Override{Voter: d.id("override voter"), By: d.id("override by"), Reason: string(d.bytes16("override reason"))})
		}
		if err := d.end(); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		again, err := EncodeOpening(p)
		if err := reencodes(data, again, err); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		e.Opening = p
	case EntryClosing:
		c := &PollClosing{}
		c.Meeting = d.id("meeting")
		c.Item = d.id("item")
		c.Poll = d.id("poll")
		c.ClosedAt = timeOrZero(d.i64("closed at"))
		c.ClosedBy = d.i64("closed by")
		c.PresentAtClose = int(d.u32("present at close"))
		c.Ballots = int(d.u32("ballots"))
		n := int(d.u8("counts"))
		for range n {
			c.Counts = append(c.Counts, OptionCount{Option: d.str8("option"), Count: int(d.u32("count"))})
		}
		c.Outcome = Outcome(d.str8("outcome"))
		if err := d.end(); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		again, err := EncodeClosing(c)
		if err := reencodes(data, again, err); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		e.Closing = c
	case EntryCastingDeclined:
		dc := &CastingDeclined{}
		dc.Meeting = d.id("meeting")
		dc.Item = d.id("item")
		dc.Poll = d.id("poll")
		dc.DeclaredAt = timeOrZero(d.i64("declared at"))
		dc.DeclaredBy = d.id("declared by")
		dc.Presiding = d.id("presiding")
		dc.Reason = string(d.bytes16("reason"))
		if err := d.end(); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		again, err := EncodeCastingDeclined(dc)
		if err := reencodes(data, again, err); err != nil {
			return Entry{}, fmt.Errorf("parse log entry: %w", err)
		}
		e.Declined = dc
	default:
		if d.err == nil {
			return Entry{}, fmt.Errorf("parse log entry: %w: unknown kind %#02x", ErrMalformed, byte(kind))
		}
		return Entry{}, fmt.Errorf("parse log entry: %w", d.err)
	}
	return e, nil
}

// reencodes checks that a decoded entry encodes back to the bytes it came from, which
// refuses every value the encoder would refuse (zero times, bad options, unsorted
// voters, counts past 2³¹-1) without a second list of rules.
func reencodes(data []byte, again []byte, err error) error {
	if err != nil {
		if errors.Is(err, ErrMalformed) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if string(again) != string(data) {
		return fmt.Errorf("%w: not in canonical form", ErrMalformed)
	}
	return nil
}
