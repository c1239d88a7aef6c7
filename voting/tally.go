package voting

import (
	"cmp"
	"fmt"
	"slices"
)

// Outcome is how a poll was decided.
type Outcome string

// Outcomes.
const (
	OutcomeCarried Outcome = "carried" // the motion was carried
	OutcomeLost    Outcome = "lost"    // the motion was lost
	// OutcomeDecided: a plurality vote chose Result.Winner.
	OutcomeDecided Outcome = "decided"
	// OutcomeTied: an equality of votes awaits the presiding member's casting vote.
	OutcomeTied Outcome = "tied"
	// OutcomeUndecided: a plurality vote chose nothing, for want of votes or of a
	// casting vote to break an equality.
	OutcomeUndecided Outcome = "undecided"
	// OutcomeInquorate: the quorum was not present at the opening or the close, so
	// there is no decision.
	OutcomeInquorate Outcome = "inquorate"
)

// OptionCount is the number of final votes for one option.
type OptionCount struct {
	Option string `json:"option"`
	Count  int    `json:"count"`
}

// A Vote is what the tally reads of one accepted ballot.
type Vote struct {
	Voter    int64  `json:"voter"`
	Choice   string `json:"choice"`
	Casting  bool   `json:"casting,omitempty"`
	Recorder int64  `json:"recorder,omitempty"` // the clerk who recorded it, if one did
	Proxy    int64  `json:"proxy,omitempty"`    // the proxy holder who gave it, if one did
}

// VoteOf returns what the tally reads of b.
func VoteOf(b *Ballot) Vote {
	return Vote{Voter: b.Voter, Choice: b.Choice, Casting: b.Casting, Recorder: b.Recorder, Proxy: b.Proxy}
}

// Result is a poll's tally.
type Result struct {
	// Counts are the final votes per option, in the poll's option order, each voter's
	// last ballot only, the casting vote not included.
	Counts []OptionCount `json:"counts"`
	// VotesCast is the number of final votes other than abstentions.
	VotesCast int `json:"votes_cast"`
	// Abstentions is the number of final votes to abstain.
	Abstentions int `json:"abstentions"`
	// NotVoting is the number of eligible members who cast no ballot.
	NotVoting int `json:"not_voting"`
	// Ballots is the number of ballots accepted, changed votes included, the casting
	// vote not included.
	Ballots int `json:"ballots"`
	// Outcome is the decision.
	Outcome Outcome `json:"outcome"`
	// Winner is, for a plurality vote decided, the option chosen.
	Winner string `json:"winner,omitempty"`
	// CastingVote is the presiding member's casting vote, when one decided the poll.
	CastingVote string `json:"casting_vote,omitempty"`
	// PreponderantVote is the presiding member's own vote, when it decided an equality
	// under rules that give it that weight.
	PreponderantVote string `json:"preponderant_vote,omitempty"`
	// Votes are the final votes, one per voter, by voter id.
	Votes []Vote `json:"votes"`
	// Counted are the hands counted in the room for each option (the clerk's last
	// count), which Counts include; none if the clerk counted none.
	Counted []OptionCount `json:"counted_in_room,omitempty"`
	// Equality says, where the votes were equal between options that could win, how
	// the equality was resolved, or why it stood.
	Equality *Equality `json:"equality,omitempty"`
}

// Equality is an equality of votes in a poll and what became of it.
type Equality struct {
	// Options are those with equal votes.
	Options []string `json:"options"`
	// Resolution is what decided it, or why nothing did (Resolution constants).
	Resolution Resolution `json:"resolution"`
}

// Stood reports whether nothing broke the equality: neither a casting vote nor a
// preponderant vote decided it, and none is awaited.
func (e *Equality) Stood() bool {
	switch e.Resolution {
	case ResolvedByCastingVote, ResolvedByPreponderantVote, AwaitingCastingVote:
		return false
	}
	return true
}

// Resolution says how an equality of votes was treated.
type Resolution string

// Resolutions of an equality. Where nothing resolves it, a motion is not carried and
// a choice is not made (LGA 1972 Sch. 12 para 39 gives the casting vote; nothing else
// carries a motion that does not have a majority).
const (
	// ResolvedByCastingVote: the presiding member's second, casting vote decided it.
	ResolvedByCastingVote Resolution = "casting_vote"
	// AwaitingCastingVote: the poll waits for the presiding member's casting vote.
	AwaitingCastingVote Resolution = "awaiting_casting_vote"
	// CastingVoteNotGiven: the rules give a casting vote, but the member presiding
	// gave none (they left, or declined to use it), as recorded in the log.
	CastingVoteNotGiven Resolution = "casting_vote_not_given"
	// ResolvedByPreponderantVote: the presiding member's own vote decided it.
	ResolvedByPreponderantVote Resolution = "preponderant_vote"
	// NoCastingVoteInRules: the rules give the person presiding neither a casting nor
	// a preponderant vote.
	NoCastingVoteInRules Resolution = "no_casting_vote_in_rules"
	// NoPresidingMember: the rules give one, but nobody presiding the poll could give
	// it (none eligible to vote on the item when it opened).
	NoPresidingMember Resolution = "no_presiding_member"
	// PresidingVoteNotInEquality: under a preponderant vote, the presiding member
	// abstained, did not vote, or voted for an option not in the equality.
	PresidingVoteNotInEquality Resolution = "presiding_vote_not_in_equality"
	// PreponderantVoteAddsNone: under an absolute majority a preponderant vote adds
	// no vote, so it cannot make the majority.
	PreponderantVoteAddsNone Resolution = "preponderant_vote_adds_no_vote"
)

// Text says in words what became of the equality, for minutes and summaries.
func (r Resolution) Text() string {
	switch r {
	case ResolvedByCastingVote:
		return "decided by the casting vote of the member presiding"
	case AwaitingCastingVote:
		return "awaiting the casting vote of the member presiding"
	case CastingVoteNotGiven:
		return "the member presiding gave no casting vote, so the equality stands"
	case ResolvedByPreponderantVote:
		return "decided by the vote of the member presiding, which prevails on an equality"
	case NoCastingVoteInRules:
		return "the rules give no casting vote, so the equality stands"
	case NoPresidingMember:
		return "no member presiding could give a casting vote, so the equality stands"
	case PresidingVoteNotInEquality:
		return "the member presiding did not vote for either side of the equality, so it stands"
	case PreponderantVoteAddsNone:
		return "under an absolute majority the presiding member's vote adds no vote, so the equality stands"
	}
	return string(r)
}

// TallyInput is everything a tally depends on.
type TallyInput struct {
	Method  Method
	Options []string
	// Votes are every accepted ballot of the poll, in the order accepted (the log's
	// order). A voter's last ballot counts.
	Votes []Vote
	// Membership is the whole number of members, for an absolute majority.
	Membership int
	// Eligible lists who could vote, for the count of those not voting; nil skips it.
	Eligible []int64
	// QuorumRequired, PresentAtOpen and PresentAtClose check the quorum at the opening
	// and the close. A running tally passes the number present now as PresentAtClose.
	QuorumRequired, PresentAtOpen, PresentAtClose int
	// CastingVote says whether the rules give the person presiding a casting vote.
	CastingVote bool
	// PreponderantVote says whether the presiding member's own vote decides an
	// equality instead.
	PreponderantVote bool
	// Presiding is who may give it.
	Presiding int64
	// CastingDeclined says that no casting vote will come: the member presiding has
	// left or declined to give one (a CastingDeclined is logged), so an equality stands.
	CastingDeclined bool
	// Room are the hands counted in the room for each option, votes beside Votes
	// (nil: no count).
	Room []OptionCount
}

// TallyPoll tallies p's ballots: Votes in log order. For a poll still open it checks
// the quorum against those present at its opening.
func TallyPoll(p *Poll, votes []Vote) (Result, error) {
	in := TallyInput{
		Method:           p.Method,
		Options:          p.Options,
		Votes:            votes,
		Membership:       p.Membership,
		Eligible:         p.Eligible,
		QuorumRequired:   p.QuorumRequired,
		PresentAtOpen:    p.PresentAtOpen,
		PresentAtClose:   p.PresentAtOpen,
		CastingVote:      p.CastingVote,
		PreponderantVote: p.PreponderantVote,
		Presiding:        p.Presiding,
		CastingDeclined:  p.Declined != nil,
	}
	if p.RoomCount != nil {
		in.Room = p.RoomCount.Counts
	}
	if p.Closing != nil {
		in.PresentAtClose = p.Closing.PresentAtClose
	}
	return Tally(in)
}

// Tally decides a poll from its ballots. Every ballot is kept and counted in Ballots;
// each voter's last ballot is their vote. Abstentions are not votes cast.
//
//   - Majority: carried when more vote for than against; lost when more vote against,
//     or when no votes are cast.
//   - TwoThirds: carried when at least two thirds of the votes cast are for.
//   - Absolute: carried when more than half of the whole membership votes for.
//   - Plurality: the option with the most votes is chosen.
//
// An equality (for = against > 0, or two options sharing the most votes) goes to the
// presiding member's casting vote where the rules give one: the result is OutcomeTied
// until the casting vote, a ballot marked Casting, is among the votes. Where the rules
// give the presiding member a preponderant vote instead, their own last vote decides
// the equality if it is for one of the options in it; if they abstained or did not
// vote, the equality stands. Without either in the rules, or when the equality stands,
// a motion on an equality is lost and a plurality vote is undecided. Under an absolute
// majority an equality is resolved by a casting vote only if one more vote for would
// carry the motion, and never by a preponderant vote, which adds no vote. Two thirds
// needs no casting vote. Without a quorum at the opening or the close the poll is
// inquorate. Where no casting vote will come (CastingDeclined), the equality stands.
//
// Tally refuses a choice that is not an option (ErrInvalidChoice), a casting vote
// where the rules give none (ErrNoCastingVote), from someone not presiding
// (ErrNotPresiding), for an option not in the equality or where there is no equality
// (ErrNoTie). It refuses a declaration that no casting vote will come likewise: where
// the rules give none (ErrNoCastingVote), with nobody presiding (ErrNotPresiding),
// where there is no equality a casting vote could resolve (ErrNoTie), and beside a
// casting vote (ErrPollClosed).
func Tally(in TallyInput) (Result, error) {
	def := PollOpening{ID: 1, Meeting: 1, Item: 1, Method: in.Method, Options: in.Options}
	if err := def.Validate(); err != nil {
		return Result{}, fmt.Errorf("tally: %w", err)
	}
	var res Result
	last := map[int64]Vote{}
	var casting *Vote
	for _, v := range in.Votes {
		if !def.HasOption(v.Choice) {
			return Result{}, fmt.Errorf("tally: voter %d: choice %q: %w", v.Voter, v.Choice, ErrInvalidChoice)
		}
		if v.Casting {
			switch {
			case !in.CastingVote:
				return Result{}, fmt.Errorf("tally: casting vote by %d: %w", v.Voter, ErrNoCastingVote)
			case in.Presiding == 0 || v.Voter != in.Presiding:
				return Result{}, fmt.Errorf("tally: casting vote by %d, presiding %d: %w", v.Voter, in.Presiding, ErrNotPresiding)
			case v.Choice == OptionAbstain:
				return Result{}, fmt.Errorf("tally: casting vote to abstain: %w", ErrInvalidChoice)
			}
			casting = &v
			continue
		}
		res.Ballots++
		last[v.Voter] = v
	}
	count := map[string]int{}
	for _, v := range last {
		count[v.Choice]++
		res.Votes = append(res.Votes, v)
	}
	slices.SortFunc(res.Votes, func(a, b Vote) int { return cmp.Compare(a.Voter, b.Voter) })
	room := 0
	if in.Room != nil {
		for _, oc := range in.Room {
			if !def.HasOption(oc.Option) || oc.Count < 0 {
				return Result{}, fmt.Errorf("tally: hands counted for %q: %w", oc.Option, ErrInvalidChoice)
			}
			count[oc.Option] += oc.Count
			room += oc.Count
		}
		res.Counted = slices.Clone(in.Room)
	}
	for _, o := range in.Options {
		res.Counts = append(res.Counts, OptionCount{Option: o, Count: count[o]})
		if o == OptionAbstain {
			res.Abstentions += count[o]
		} else {
			res.VotesCast += count[o]
		}
	}
	if in.Eligible != nil {
		for _, id := range in.Eligible {
			if _, ok := last[id]; !ok {
				res.NotVoting++
			}
		}
		res.NotVoting = max(res.NotVoting-room, 0) // the hands are of those who had not voted
	}
	if in.CastingDeclined {
		switch {
		case !in.CastingVote:
			return Result{}, fmt.Errorf("tally: no casting vote declared: %w", ErrNoCastingVote)
		case in.Presiding == 0:
			return Result{}, fmt.Errorf("tally: no casting vote declared with nobody presiding: %w", ErrNotPresiding)
		case casting != nil:
			return Result{}, fmt.Errorf("tally: a casting vote by %d where none was to come: %w", casting.Voter, ErrPollClosed)
		}
	}

	if in.PresentAtOpen < in.QuorumRequired || in.PresentAtClose < in.QuorumRequired {
		res.Outcome = OutcomeInquorate
		if casting != nil {
			return Result{}, fmt.Errorf("tally: casting vote in an inquorate poll: %w", ErrNoTie)
		}
		if in.CastingDeclined {
			return Result{}, fmt.Errorf("tally: no casting vote declared in an inquorate poll: %w", ErrNoTie)
		}
		return res, nil
	}

	// tied lists the options in an equality that a casting vote may resolve.
	var tied []string
	f, a := count[OptionFor], count[OptionAgainst]
	switch in.Method {
	case Majority:
		switch {
		case f > a:
			res.Outcome = OutcomeCarried
		case f < a || f == 0:
			res.Outcome = OutcomeLost
		default:
			tied = []string{OptionFor, OptionAgainst}
		}
	case TwoThirds:
		res.Outcome = OutcomeLost
		if res.VotesCast > 0 && 3*f >= 2*res.VotesCast {
			res.Outcome = OutcomeCarried
		}
	case Absolute:
		need := in.Membership/2 + 1
		switch {
		case f >= need:
			res.Outcome = OutcomeCarried
		case f == a && f > 0 && f+1 >= need:
			tied = []string{OptionFor, OptionAgainst}
		default:
			res.Outcome = OutcomeLost
		}
	case Plurality:
		top := 0
		for _, o := range in.Options {
			if o == OptionAbstain {
				continue
			}
			switch n := count[o]; {
			case n > top:
				top, tied = n, []string{o}
			case n == top && n > 0:
				tied = append(tied, o)
			}
		}
		switch {
		case top == 0:
			res.Outcome, tied = OutcomeUndecided, nil
		case len(tied) == 1:
			res.Outcome, res.Winner, tied = OutcomeDecided, tied[0], nil
		}
	}

	if tied == nil {
		if casting != nil {
			return Result{}, fmt.Errorf("tally: casting vote by %d: %w", casting.Voter, ErrNoTie)
		}
		if in.CastingDeclined {
			return Result{}, fmt.Errorf("tally: no casting vote declared where there is no equality: %w", ErrNoTie)
		}
		return res, nil
	}
	eq := &Equality{Options: slices.Clone(tied)}
	res.Equality = eq
	switch {
	case casting != nil:
		if !slices.Contains(tied, casting.Choice) {
			return Result{}, fmt.Errorf("tally: casting vote for %q, not among %v: %w", casting.Choice, tied, ErrNoTie)
		}
		res.CastingVote = casting.Choice
		eq.Resolution = ResolvedByCastingVote
		switch {
		case in.Method == Plurality:
			res.Outcome, res.Winner = OutcomeDecided, casting.Choice
		case casting.Choice == OptionFor:
			res.Outcome = OutcomeCarried
		default:
			res.Outcome = OutcomeLost
		}
	case in.CastingVote && in.Presiding != 0 && !in.CastingDeclined:
		res.Outcome = OutcomeTied
		eq.Resolution = AwaitingCastingVote
	case in.PreponderantVote && in.Presiding != 0 && in.Method != Absolute && slices.Contains(tied, last[in.Presiding].Choice):
		choice := last[in.Presiding].Choice
		res.PreponderantVote = choice
		eq.Resolution = ResolvedByPreponderantVote
		switch {
		case in.Method == Plurality:
			res.Outcome, res.Winner = OutcomeDecided, choice
		case choice == OptionFor:
			res.Outcome = OutcomeCarried
		default:
			res.Outcome = OutcomeLost
		}
	default:
		res.Outcome = OutcomeLost
		if in.Method == Plurality {
			res.Outcome = OutcomeUndecided
		}
		switch {
		case in.CastingDeclined:
			eq.Resolution = CastingVoteNotGiven
		case !in.CastingVote && !in.PreponderantVote:
			eq.Resolution = NoCastingVoteInRules
		case in.Presiding == 0:
			eq.Resolution = NoPresidingMember
		case in.Method == Absolute:
			eq.Resolution = PreponderantVoteAddsNone
		default:
			eq.Resolution = PresidingVoteNotInEquality
		}
	}
	return res, nil
}
