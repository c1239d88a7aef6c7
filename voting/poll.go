package voting

import (
	"encoding/base64"
	"fmt"
	"slices"
	"time"
)

// A Method is how a poll is decided.
type Method string

// Methods.
const (
	// Majority carries a motion with more votes for than against among those present
	// and voting; abstentions are not votes cast (LGA 1972 Sch. 12 para 39).
	Majority Method = "majority"
	// TwoThirds carries a motion with at least two thirds of the votes cast for it.
	TwoThirds Method = "two_thirds"
	// Absolute carries a motion with more than half of the whole membership for it.
	Absolute Method = "absolute"
	// Plurality chooses, among several options, the one with the most votes, as in an
	// appointment; an "abstain" option, if offered, is not a vote cast.
	Plurality Method = "plurality"
)

// The option keys of a motion.
const (
	OptionFor     = "for"
	OptionAgainst = "against"
	OptionAbstain = "abstain"
)

// DefaultOptions returns a motion's options: for, against, abstain.
func DefaultOptions() []string { return []string{OptionFor, OptionAgainst, OptionAbstain} }

// A Challenge is a poll's server challenge: random bytes chosen when the poll opens,
// which every ballot in the poll must carry. In JSON it is standard base64.
type Challenge [ChallengeSize]byte

// MarshalText encodes c as standard base64.
func (c Challenge) MarshalText() ([]byte, error) {
	return base64.StdEncoding.AppendEncode(nil, c[:]), nil
}

// UnmarshalText decodes standard base64 of exactly ChallengeSize bytes.
func (c *Challenge) UnmarshalText(text []byte) error {
	raw, err := base64.StdEncoding.Strict().DecodeString(string(text))
	if err != nil || len(raw) != ChallengeSize {
		return fmt.Errorf("challenge: %w: want base64 of %d bytes", ErrMalformed, ChallengeSize)
	}
	copy(c[:], raw)
	return nil
}

// PollOpening is a poll as it opened: its definition and the roll call taken at that
// moment. It is fixed from then on, and the log records it (see EncodeOpening).
type PollOpening struct {
	ID        int64     `json:"id"`
	Meeting   int64     `json:"meeting"`
	Item      int64     `json:"item"`
	Motion    int64     `json:"motion,omitempty"`
	Question  string    `json:"question"`
	Options   []string  `json:"options"`
	Method    Method    `json:"method"`
	Named     bool      `json:"named"`      // a recorded vote: names go into the minutes
	LiveTally bool      `json:"live_tally"` // running counts are shown to all
	Challenge Challenge `json:"challenge"`
	OpenedAt  time.Time `json:"opened_at"`
	ClosesAt  time.Time `json:"closes_at,omitzero"` // zero: closed by hand
	OpenedBy  int64     `json:"opened_by"`

	// Membership is the whole number of members of the committee.
	Membership int `json:"membership"`
	// QuorumRequired is how many must be present for a decision.
	QuorumRequired int `json:"quorum_required"`
	// PresentAtOpen is how many counted towards the quorum when the poll opened.
	PresentAtOpen int `json:"present_at_open"`
	// CastingVote says whether the rules give the person presiding a casting vote.
	CastingVote bool `json:"casting_vote"`
	// PreponderantVote says whether the presiding member's own vote decides an
	// equality (France); it excludes CastingVote.
	PreponderantVote bool `json:"preponderant_vote,omitempty"`
	// Presiding is the user presiding when the poll opened; 0 if none was recorded.
	Presiding int64 `json:"presiding,omitempty"`
	// Eligible lists the user ids who may vote, ascending.
	Eligible []int64 `json:"eligible"`
	// Overrides are the chair's recorded decisions to let a member vote despite a rule
	// that would bar them, each with its reason.
	Overrides []Override `json:"overrides,omitempty"`
}

// PollClosing is what is known when a poll closes; the log records it (see
// EncodeClosing). Counts and Outcome are the tally at the close, before any casting
// vote.
type PollClosing struct {
	Meeting        int64         `json:"meeting"`
	Item           int64         `json:"item"`
	Poll           int64         `json:"poll"`
	ClosedAt       time.Time     `json:"closed_at"`
	ClosedBy       int64         `json:"closed_by,omitempty"` // 0: closed at its closing time
	PresentAtClose int           `json:"present_at_close"`
	Ballots        int           `json:"ballots"` // every ballot accepted, changed votes included
	Counts         []OptionCount `json:"counts"`
	Outcome        Outcome       `json:"outcome"`
}

// MaxDeclineReason bounds the reason given when no casting vote will come, in
// characters (so at most four times as many bytes).
const MaxDeclineReason = 500

// CastingDeclined records that no casting vote will come in a poll that closed on an
// equality under rules that give one: the member presiding has left, or declines to
// use it (LGA 1972 Sch. 12 para 39 gives the casting vote; nothing obliges its use).
// Nothing then breaks the equality: a motion is lost, a choice is not made. The log
// records it (see EncodeCastingDeclined).
type CastingDeclined struct {
	Meeting    int64     `json:"meeting"`
	Item       int64     `json:"item"`
	Poll       int64     `json:"poll"`
	DeclaredAt time.Time `json:"declared_at"`
	// DeclaredBy is who recorded it: the member presiding, or the chair or a clerk.
	DeclaredBy int64 `json:"declared_by"`
	// Presiding is the member presiding over the poll, whose casting vote it was.
	Presiding int64 `json:"presiding"`
	// Reason says why, for the minutes: "the chair has left the meeting".
	Reason string `json:"reason"`
}

// A Poll is a vote on an agenda item or motion: how it opened and, once closed, how it
// closed and its final result.
type Poll struct {
	PollOpening
	Closing *PollClosing `json:"closing,omitempty"`
	// Declined is, for a poll that closed on an equality, the declaration that no
	// casting vote will come; the result then says the equality stands.
	Declined *CastingDeclined `json:"casting_declined,omitempty"`
	// Result is the final result, once decided: at the close, or after the casting
	// vote (or the declaration that none will come) when the close found an equality.
	// Nil before.
	Result *Result `json:"result,omitempty"`
	// RoomCount is the last show of hands the clerk counted in the room, if any: its
	// hands are votes beside the ballots (see Tally).
	RoomCount *Count `json:"room_count,omitempty"`
}

// Validate reports a poll definition that cannot be decided: an unknown method, option
// keys that are invalid or repeated, or options that do not fit the method (a motion
// needs "for" and "against", may offer "abstain", and nothing else; a plurality needs
// at least two options besides "abstain").
func (p *PollOpening) Validate() error {
	if p.ID <= 0 || p.Meeting <= 0 || p.Item <= 0 {
		return fmt.Errorf("poll %d: %w: ids must be positive", p.ID, ErrInvalidPoll)
	}
	if len(p.Options) > 255 {
		return fmt.Errorf("poll %d: %w: %d options", p.ID, ErrInvalidPoll, len(p.Options))
	}
	seen := map[string]bool{}
	for _, o := range p.Options {
		if !validChoice(o) {
			return fmt.Errorf("poll %d: %w: option %q is not a valid key", p.ID, ErrInvalidPoll, o)
		}
		if seen[o] {
			return fmt.Errorf("poll %d: %w: option %q repeated", p.ID, ErrInvalidPoll, o)
		}
		seen[o] = true
	}
	switch p.Method {
	case Majority, TwoThirds, Absolute:
		if !seen[OptionFor] || !seen[OptionAgainst] {
			return fmt.Errorf("poll %d: %w: a %s vote needs the options for and against", p.ID, ErrInvalidPoll, p.Method)
		}
		for o := range seen {
			if o != OptionFor && o != OptionAgainst && o != OptionAbstain {
				return fmt.Errorf("poll %d: %w: option %q in a %s vote", p.ID, ErrInvalidPoll, o, p.Method)
			}
		}
	case Plurality:
		n := len(p.Options)
		if seen[OptionAbstain] {
			n--
		}
		if n < 2 {
			return fmt.Errorf("poll %d: %w: a plurality vote needs at least two options", p.ID, ErrInvalidPoll)
		}
	default:
		return fmt.Errorf("poll %d: %w: unknown method %q", p.ID, ErrInvalidPoll, p.Method)
	}
	if p.CastingVote && p.PreponderantVote {
		return fmt.Errorf("poll %d: %w: a casting vote and a preponderant vote exclude each other", p.ID, ErrInvalidPoll)
	}
	if !slices.IsSorted(p.Eligible) || len(slices.Compact(slices.Clone(p.Eligible))) != len(p.Eligible) {
		return fmt.Errorf("poll %d: %w: eligible voters not strictly ascending", p.ID, ErrInvalidPoll)
	}
	return nil
}

// HasOption reports whether choice is one of p's options.
func (p *PollOpening) HasOption(choice string) bool { return slices.Contains(p.Options, choice) }

// IsEligible reports whether user was eligible to vote when p opened.
func (p *PollOpening) IsEligible(user int64) bool {
	_, ok := slices.BinarySearch(p.Eligible, user)
	return ok
}

// IsOpen reports whether p accepts ordinary ballots at time now: it has opened, has not
// been closed, and its closing time, if any, has not come.
func (p *Poll) IsOpen(now time.Time) bool {
	return p.Closing == nil && !now.Before(p.OpenedAt) && (p.ClosesAt.IsZero() || now.Before(p.ClosesAt))
}

// Admit checks a ballot against the poll at time now (the server's clock): it must be
// for this meeting, item and poll and carry this poll's challenge (else ErrWrongPoll),
// choose one of the options (else ErrInvalidChoice), and arrive while the poll is open
// (else ErrPollClosed). A casting vote is admitted only once the poll has closed on an
// equality, which Tally decides; Admit refuses one while the poll is open. Admit does
// not check the signature (Key.Check), the voter's eligibility (IsEligible) or replays
// (the Store).
func (p *Poll) Admit(b *Ballot, now time.Time) error {
	if b.Meeting != p.Meeting || b.Item != p.Item || b.Poll != p.ID {
		return fmt.Errorf("ballot for meeting %d item %d poll %d, not meeting %d item %d poll %d: %w",
			b.Meeting, b.Item, b.Poll, p.Meeting, p.Item, p.ID, ErrWrongPoll)
	}
	if b.Challenge != p.Challenge {
		return fmt.Errorf("ballot for poll %d carries another challenge: %w", p.ID, ErrWrongPoll)
	}
	if !p.HasOption(b.Choice) {
		return fmt.Errorf("poll %d: choice %q: %w", p.ID, b.Choice, ErrInvalidChoice)
	}
	if b.Casting {
		if p.Closing == nil {
			return fmt.Errorf("casting vote in poll %d: %w", p.ID, ErrPollOpen)
		}
		return nil
	}
	if !p.IsOpen(now) {
		return fmt.Errorf("poll %d: %w", p.ID, ErrPollClosed)
	}
	return nil
}

// ApplyRoll fills the roll-call fields of p from the roll taken as it opens, and the
// casting vote from the rules.
func (p *PollOpening) ApplyRoll(rc RollCall, r Rules) {
	p.Membership = rc.Membership
	p.QuorumRequired = rc.QuorumRequired
	p.PresentAtOpen = rc.Present
	p.Eligible = rc.Eligible()
	p.Overrides = rc.Overrides()
	p.CastingVote = r.CastingVote
	p.PreponderantVote = r.PreponderantVote
}

// Close tallies the poll's ballots (votes in log order, casting votes excluded) as it
// closes at time at, by user by (0 when it closed at its closing time), with
// presentAtClose counting towards the quorum, and returns what the log records.
func (p *PollOpening) Close(at time.Time, by int64, presentAtClose int, votes []Vote) (PollClosing, error) {
	return p.CloseCounted(at, by, presentAtClose, votes, nil)
}

// CloseCounted is Close for a poll in which the clerk counted a show of hands in the
// room (room, the last count; nil if none): its hands are in the closing's counts.
func (p *PollOpening) CloseCounted(at time.Time, by int64, presentAtClose int, votes []Vote, room *Count) (PollClosing, error) {
	poll := Poll{PollOpening: *p, Closing: &PollClosing{PresentAtClose: presentAtClose}, RoomCount: room}
	var ordinary []Vote
	for _, v := range votes {
		if !v.Casting {
			ordinary = append(ordinary, v)
		}
	}
	res, err := TallyPoll(&poll, ordinary)
	if err != nil {
		return PollClosing{}, fmt.Errorf("close poll %d: %w", p.ID, err)
	}
	return PollClosing{
		Meeting:        p.Meeting,
		Item:           p.Item,
		Poll:           p.ID,
		ClosedAt:       at,
		ClosedBy:       by,
		PresentAtClose: presentAtClose,
		Ballots:        res.Ballots,
		Counts:         res.Counts,
		Outcome:        res.Outcome,
	}, nil
}
