package voting

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
)

// votes builds votes from (voter, choice) pairs; voter ids below 0 mark a casting vote
// by -voter.
func votes(pairs ...any) []Vote {
	var out []Vote
	for i := 0; i < len(pairs); i += 2 {
		v := Vote{Voter: int64(pairs[i].(int)), Choice: pairs[i+1].(string)}
		if v.Voter < 0 {
			v.Voter, v.Casting = -v.Voter, true
		}
		out = append(out, v)
	}
	return out
}

// many returns n votes for choice from voters first, first+1, ….
func many(first, n int, choice string) []Vote {
	var out []Vote
	for i := range n {
		out = append(out, Vote{Voter: int64(first + i), Choice: choice})
	}
	return out
}

func join(vs ...[]Vote) []Vote { return slices.Concat(vs...) }

func TestTally(t *testing.T) {
	const chair = 1
	motion := func(m Method, vs []Vote) TallyInput {
		return TallyInput{Method: m, Options: DefaultOptions(), Votes: vs, Membership: 12,
			QuorumRequired: 3, PresentAtOpen: 10, PresentAtClose: 10, CastingVote: true, Presiding: chair}
	}
	noCasting := func(in TallyInput) TallyInput { in.CastingVote = false; return in }
	preponderant := func(in TallyInput) TallyInput { in.CastingVote, in.PreponderantVote = false, true; return in }
	quorum := func(in TallyInput, open, close int) TallyInput {
		in.PresentAtOpen, in.PresentAtClose = open, close
		return in
	}
	membership := func(in TallyInput, n int) TallyInput { in.Membership = n; return in }
	plural := func(vs []Vote) TallyInput {
		return TallyInput{Method: Plurality, Options: []string{"alpha", "beta", "gamma", OptionAbstain}, Votes: vs,
			QuorumRequired: 3, PresentAtOpen: 10, PresentAtClose: 10, CastingVote: true, Presiding: chair}
	}
	tests := []struct {
		name        string
		in          TallyInput
		wantErr     error
		outcome     Outcome
		counts      []int // per option, in option order
		cast        int
		ballots     int
		winner      string
		castingVote string
		preponder   string
	}{
		// Majority of those present and voting.
		{name: "majority carried", in: motion(Majority, join(many(10, 5, "for"), many(20, 3, "against"), many(30, 2, "abstain"))),
			outcome: OutcomeCarried, counts: []int{5, 3, 2}, cast: 8, ballots: 10},
		{name: "majority lost", in: motion(Majority, join(many(10, 3, "for"), many(20, 5, "against"))),
			outcome: OutcomeLost, counts: []int{3, 5, 0}, cast: 8, ballots: 8},
		{name: "abstentions are not votes cast", in: motion(Majority, join(many(10, 2, "for"), many(20, 1, "against"), many(30, 6, "abstain"))),
			outcome: OutcomeCarried, counts: []int{2, 1, 6}, cast: 3, ballots: 9},
		{name: "everyone abstains", in: motion(Majority, many(10, 4, "abstain")),
			outcome: OutcomeLost, counts: []int{0, 0, 4}, cast: 0, ballots: 4},
		{name: "no ballots", in: motion(Majority, nil), outcome: OutcomeLost, counts: []int{0, 0, 0}},
		{name: "the last ballot counts", in: motion(Majority, votes(10, "for", 11, "for", 12, "against", 10, "against", 11, "abstain", 13, "for", 10, "for")),
			outcome: OutcomeCarried, counts: []int{2, 1, 1}, cast: 3, ballots: 7},
		{name: "changed to lose", in: motion(Majority, votes(10, "for", 11, "for", 12, "against", 11, "against")),
			outcome: OutcomeLost, counts: []int{1, 2, 0}, cast: 3, ballots: 4},
		{name: "equality awaits the casting vote", in: motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"))),
			outcome: OutcomeTied, counts: []int{4, 4, 0}, cast: 8, ballots: 8},
		{name: "casting vote for carries", in: motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"), votes(-chair, "for"))),
			outcome: OutcomeCarried, counts: []int{4, 4, 0}, cast: 8, ballots: 8, castingVote: "for"},
		{name: "casting vote against loses", in: motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"), votes(-chair, "against"))),
			outcome: OutcomeLost, counts: []int{4, 4, 0}, cast: 8, ballots: 8, castingVote: "against"},
		{name: "chair votes, then gives the casting vote", in: motion(Majority, join(votes(chair, "for"), many(10, 3, "for"), many(20, 4, "against"), votes(-chair, "for"))),
			outcome: OutcomeCarried, counts: []int{4, 4, 0}, cast: 8, ballots: 8, castingVote: "for"},
		{name: "the last casting vote counts", in: motion(Majority, join(many(10, 1, "for"), many(20, 1, "against"), votes(-chair, "against", -chair, "for"))),
			outcome: OutcomeCarried, counts: []int{1, 1, 0}, cast: 2, ballots: 2, castingVote: "for"},
		{name: "equality without a casting vote in the rules is lost", in: noCasting(motion(Majority, join(many(10, 4, "for"), many(20, 4, "against")))),
			outcome: OutcomeLost, counts: []int{4, 4, 0}, cast: 8, ballots: 8},
		{name: "casting vote without an equality", in: motion(Majority, join(many(10, 5, "for"), many(20, 4, "against"), votes(-chair, "for"))),
			wantErr: ErrNoTie},
		{name: "casting vote on no votes", in: motion(Majority, votes(-chair, "for")), wantErr: ErrNoTie},
		{name: "casting vote by another member", in: motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"), votes(-10, "for"))),
			wantErr: ErrNotPresiding},
		{name: "casting vote with no one presiding", in: func() TallyInput {
			in := motion(Majority, join(many(10, 1, "for"), many(20, 1, "against"), votes(-chair, "for")))
			in.Presiding = 0
			return in
		}(), wantErr: ErrNotPresiding},
		{name: "casting vote where the rules give none", in: noCasting(motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"), votes(-chair, "for")))),
			wantErr: ErrNoCastingVote},
		{name: "casting vote to abstain", in: motion(Majority, join(many(10, 4, "for"), many(20, 4, "against"), votes(-chair, "abstain"))),
			wantErr: ErrInvalidChoice},
		{name: "a choice that is not an option", in: motion(Majority, votes(10, "maybe")), wantErr: ErrInvalidChoice},
		{name: "inquorate at the opening", in: quorum(motion(Majority, many(10, 2, "for")), 2, 5),
			outcome: OutcomeInquorate, counts: []int{2, 0, 0}, cast: 2, ballots: 2},
		{name: "inquorate at the close", in: quorum(motion(Majority, many(10, 2, "for")), 5, 2),
			outcome: OutcomeInquorate, counts: []int{2, 0, 0}, cast: 2, ballots: 2},
		{name: "quorate exactly", in: quorum(motion(Majority, many(10, 2, "for")), 3, 3),
			outcome: OutcomeCarried, counts: []int{2, 0, 0}, cast: 2, ballots: 2},
		{name: "casting vote in an inquorate poll", in: quorum(motion(Majority, join(many(10, 1, "for"), many(20, 1, "against"), votes(-chair, "for"))), 2, 2),
			wantErr: ErrNoTie},

		// Two thirds of the votes cast.
		{name: "two thirds exactly", in: motion(TwoThirds, join(many(10, 6, "for"), many(20, 3, "against"))),
			outcome: OutcomeCarried, counts: []int{6, 3, 0}, cast: 9, ballots: 9},
		{name: "short of two thirds", in: motion(TwoThirds, join(many(10, 5, "for"), many(20, 3, "against"))),
			outcome: OutcomeLost, counts: []int{5, 3, 0}, cast: 8, ballots: 8},
		{name: "two thirds ignores abstentions", in: motion(TwoThirds, join(many(10, 2, "for"), many(20, 1, "against"), many(30, 6, "abstain"))),
			outcome: OutcomeCarried, counts: []int{2, 1, 6}, cast: 3, ballots: 9},
		{name: "two thirds of no votes", in: motion(TwoThirds, many(30, 2, "abstain")),
			outcome: OutcomeLost, counts: []int{0, 0, 2}, ballots: 2},
		{name: "two thirds: an equality is lost, no casting vote asked", in: motion(TwoThirds, join(many(10, 3, "for"), many(20, 3, "against"))),
			outcome: OutcomeLost, counts: []int{3, 3, 0}, cast: 6, ballots: 6},
		{name: "two thirds: casting vote refused", in: motion(TwoThirds, join(many(10, 3, "for"), many(20, 3, "against"), votes(-chair, "for"))),
			wantErr: ErrNoTie},

		// Absolute majority of the whole membership (12: seven needed).
		{name: "absolute majority carried", in: motion(Absolute, join(many(10, 7, "for"), many(20, 2, "against"))),
			outcome: OutcomeCarried, counts: []int{7, 2, 0}, cast: 9, ballots: 9},
		{name: "most present but not half the membership", in: motion(Absolute, join(many(10, 6, "for"), many(30, 3, "abstain"))),
			outcome: OutcomeLost, counts: []int{6, 0, 3}, cast: 6, ballots: 9},
		{name: "absolute: equality one short", in: motion(Absolute, join(many(10, 6, "for"), many(20, 6, "against"))),
			outcome: OutcomeTied, counts: []int{6, 6, 0}, cast: 12, ballots: 12},
		{name: "absolute: casting vote carries", in: motion(Absolute, join(many(10, 6, "for"), many(20, 6, "against"), votes(-chair, "for"))),
			outcome: OutcomeCarried, counts: []int{6, 6, 0}, cast: 12, ballots: 12, castingVote: "for"},
		{name: "absolute: equality a casting vote cannot carry", in: motion(Absolute, join(many(10, 5, "for"), many(20, 5, "against"))),
			outcome: OutcomeLost, counts: []int{5, 5, 0}, cast: 10, ballots: 10},
		{name: "absolute: casting vote refused when it cannot carry", in: motion(Absolute, join(many(10, 5, "for"), many(20, 5, "against"), votes(-chair, "for"))),
			wantErr: ErrNoTie},
		{name: "absolute, odd membership", in: membership(motion(Absolute, join(many(10, 6, "for"), many(20, 5, "against"))), 11),
			outcome: OutcomeCarried, counts: []int{6, 5, 0}, cast: 11, ballots: 11},
		{name: "absolute without casting vote", in: noCasting(motion(Absolute, join(many(10, 6, "for"), many(20, 6, "against")))),
			outcome: OutcomeLost, counts: []int{6, 6, 0}, cast: 12, ballots: 12},

		// Plurality among several options.
		{name: "plurality decided", in: plural(join(many(10, 3, "alpha"), many(20, 2, "beta"), many(30, 4, "abstain"))),
			outcome: OutcomeDecided, counts: []int{3, 2, 0, 4}, cast: 5, ballots: 9, winner: "alpha"},
		{name: "plurality equality", in: plural(join(many(10, 2, "alpha"), many(20, 2, "beta"), many(30, 1, "gamma"))),
			outcome: OutcomeTied, counts: []int{2, 2, 1, 0}, cast: 5, ballots: 5},
		{name: "plurality casting vote", in: plural(join(many(10, 2, "alpha"), many(20, 2, "beta"), many(30, 1, "gamma"), votes(-chair, "beta"))),
			outcome: OutcomeDecided, counts: []int{2, 2, 1, 0}, cast: 5, ballots: 5, winner: "beta", castingVote: "beta"},
		{name: "plurality casting vote for an option not in the equality", in: plural(join(many(10, 2, "alpha"), many(20, 2, "beta"), many(30, 1, "gamma"), votes(-chair, "gamma"))),
			wantErr: ErrNoTie},
		{name: "plurality equality without a casting vote", in: noCasting(plural(join(many(10, 2, "alpha"), many(20, 2, "beta")))),
			outcome: OutcomeUndecided, counts: []int{2, 2, 0, 0}, cast: 4, ballots: 4},
		{name: "plurality with only abstentions", in: plural(many(30, 3, "abstain")),
			outcome: OutcomeUndecided, counts: []int{0, 0, 0, 3}, ballots: 3},

		// A preponderant vote: the presiding member's own last vote decides an equality.
		{name: "preponderant: the chair for", in: preponderant(motion(Majority, join(votes(chair, "for"), many(10, 3, "for"), many(20, 4, "against")))),
			outcome: OutcomeCarried, counts: []int{4, 4, 0}, cast: 8, ballots: 8, preponder: "for"},
		{name: "preponderant: the chair changed to against", in: preponderant(motion(Majority, join(votes(chair, "for"), many(10, 3, "for"), many(20, 4, "against"), votes(chair, "against", 20, "for")))),
			outcome: OutcomeLost, counts: []int{4, 4, 0}, cast: 8, ballots: 10, preponder: "against"},
		{name: "preponderant: the chair abstains", in: preponderant(motion(Majority, join(votes(chair, "abstain"), many(10, 3, "for"), many(20, 3, "against")))),
			outcome: OutcomeLost, counts: []int{3, 3, 1}, cast: 6, ballots: 7},
		{name: "preponderant: the chair did not vote", in: preponderant(motion(Majority, join(many(10, 3, "for"), many(20, 3, "against")))),
			outcome: OutcomeLost, counts: []int{3, 3, 0}, cast: 6, ballots: 6},
		{name: "preponderant: no equality", in: preponderant(motion(Majority, join(votes(chair, "against"), many(10, 4, "for"), many(20, 2, "against")))),
			outcome: OutcomeCarried, counts: []int{4, 3, 0}, cast: 7, ballots: 7},
		{name: "preponderant: no casting vote as well", in: preponderant(motion(Majority, join(many(10, 1, "for"), many(20, 1, "against"), votes(-chair, "for")))),
			wantErr: ErrNoCastingVote},
		{name: "preponderant: an absolute majority gains no vote", in: preponderant(motion(Absolute, join(votes(chair, "for"), many(10, 5, "for"), many(20, 6, "against")))),
			outcome: OutcomeLost, counts: []int{6, 6, 0}, cast: 12, ballots: 12},
		{name: "preponderant: plurality", in: preponderant(plural(join(votes(chair, "beta"), many(10, 2, "alpha"), many(20, 1, "beta"), many(30, 1, "gamma")))),
			outcome: OutcomeDecided, counts: []int{2, 2, 1, 0}, cast: 5, ballots: 5, winner: "beta", preponder: "beta"},
		{name: "preponderant: plurality, the chair outside the equality", in: preponderant(plural(join(votes(chair, "gamma"), many(10, 2, "alpha"), many(20, 2, "beta")))),
			outcome: OutcomeUndecided, counts: []int{2, 2, 1, 0}, cast: 5, ballots: 5},

		{name: "unknown method", in: motion("acclaim", nil), wantErr: ErrInvalidPoll},
		{name: "motion without against", in: TallyInput{Method: Majority, Options: []string{"for", "abstain"}}, wantErr: ErrInvalidPoll},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Tally(tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Tally: got %v, %+v, want error %v", err, got, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Tally: %v", err)
			}
			if got.Outcome != tc.outcome {
				t.Errorf("outcome: got %q, want %q", got.Outcome, tc.outcome)
			}
			var counts []int
			for i, c := range got.Counts {
				if c.Option != tc.in.Options[i] {
					t.Errorf("count %d is for %q, want %q", i, c.Option, tc.in.Options[i])
				}
				counts = append(counts, c.Count)
			}
			if !slices.Equal(counts, tc.counts) {
				t.Errorf("counts: got %v, want %v", counts, tc.counts)
			}
			if got.VotesCast != tc.cast || got.Ballots != tc.ballots {
				t.Errorf("votes cast, ballots: got %d, %d, want %d, %d", got.VotesCast, got.Ballots, tc.cast, tc.ballots)
			}
			if got.Abstentions+got.VotesCast != len(got.Votes) {
				t.Errorf("abstentions %d + votes cast %d != %d voters", got.Abstentions, got.VotesCast, len(got.Votes))
			}
			if got.Winner != tc.winner || got.CastingVote != tc.castingVote || got.PreponderantVote != tc.preponder {
				t.Errorf("winner, casting vote, preponderant vote: got %q, %q, %q, want %q, %q, %q",
					got.Winner, got.CastingVote, got.PreponderantVote, tc.winner, tc.castingVote, tc.preponder)
			}
			if !slices.IsSortedFunc(got.Votes, func(a, b Vote) int { return int(a.Voter - b.Voter) }) {
				t.Errorf("votes not sorted by voter: %v", got.Votes)
			}
		})
	}
}

func TestTallyNotVoting(t *testing.T) {
	in := TallyInput{Method: Majority, Options: DefaultOptions(), Votes: votes(10, "for", 11, "abstain", 10, "against"),
		Eligible: []int64{10, 11, 12, 13, 14}}
	got, err := Tally(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.NotVoting != 3 {
		t.Errorf("not voting: got %d, want 3", got.NotVoting)
	}
	want := []Vote{{Voter: 10, Choice: "against"}, {Voter: 11, Choice: "abstain"}}
	if !slices.Equal(got.Votes, want) {
		t.Errorf("votes: got %v, want %v", got.Votes, want)
	}
}

func TestAdmit(t *testing.T) {
	open := Poll{PollOpening: testOpening()}
	closed := Poll{PollOpening: testOpening(), Closing: &PollClosing{ClosedAt: t0.Add(time.Minute)}}
	good := vectors[0].ballot // meeting 7, item 31, poll 3, challenge 3, "for"
	with := func(edit func(*Ballot)) Ballot { b := good; edit(&b); return b }
	tests := []struct {
		name string
		poll Poll
		b    Ballot
		now  time.Time
		want error
	}{
		{"open poll", open, good, t0.Add(time.Second), nil},
		{"at the opening", open, good, t0, nil},
		{"another meeting", open, with(func(b *Ballot) { b.Meeting = 8 }), t0.Add(time.Second), ErrWrongPoll},
		{"another item", open, with(func(b *Ballot) { b.Item = 32 }), t0.Add(time.Second), ErrWrongPoll},
		{"another poll", open, with(func(b *Ballot) { b.Poll = 4 }), t0.Add(time.Second), ErrWrongPoll},
		{"another poll's challenge", open, with(func(b *Ballot) { b.Challenge = fill("challenge 4") }), t0.Add(time.Second), ErrWrongPoll},
		{"not an option", open, with(func(b *Ballot) { b.Choice = "maybe" }), t0.Add(time.Second), ErrInvalidChoice},
		{"before the opening", open, good, t0.Add(-time.Second), ErrPollClosed},
		{"at the closing time", open, good, t0.Add(5 * time.Minute), ErrPollClosed},
		{"closed", closed, good, t0.Add(time.Second), ErrPollClosed},
		{"casting vote while open", open, with(func(b *Ballot) { b.Casting = true }), t0.Add(time.Second), ErrPollOpen},
		{"casting vote after the close", closed, with(func(b *Ballot) { b.Casting = true }), t0.Add(time.Hour), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.poll.Admit(&tc.b, tc.now)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("Admit: got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestClose(t *testing.T) {
	op := testOpening() // 5 eligible, quorum 3, casting vote to 40
	vs := votes(41, "for", 42, "against", 43, "for", 41, "against", 44, "abstain")
	got, err := op.Close(t0.Add(time.Minute), 40, 9, vs)
	if err != nil {
		t.Fatal(err)
	}
	want := PollClosing{Meeting: 7, Item: 31, Poll: 3, ClosedAt: t0.Add(time.Minute), ClosedBy: 40, PresentAtClose: 9,
		Ballots: 5, Counts: []OptionCount{{"for", 1}, {"against", 2}, {"abstain", 1}}, Outcome: OutcomeLost}
	if got.Outcome != want.Outcome || got.Ballots != want.Ballots || !slices.Equal(got.Counts, want.Counts) ||
		got.PresentAtClose != 9 || got.ClosedBy != 40 || got.Poll != 3 {
		t.Errorf("Close:\ngot  %+v\nwant %+v", got, want)
	}
	if c, err := op.Close(t0, 40, 2, vs); err != nil || c.Outcome != OutcomeInquorate {
		t.Errorf("Close with 2 present: got %q, %v, want inquorate", c.Outcome, err)
	}
}

// TestTallyCastingDeclined tallies polls in which the member presiding gave no casting
// vote, under every preset's rules: where they give a casting vote the equality stands
// (a motion lost, a choice not made); where they do not, the declaration is refused.
func TestTallyCastingDeclined(t *testing.T) {
	const chair = 1
	plural := []string{"alpha", "beta", "gamma", OptionAbstain}
	tests := []struct {
		name    string
		method  Method
		options []string
		votes   []Vote
		edit    func(*TallyInput)
		// What a declaration gives under rules with a casting vote.
		wantErr    error
		outcome    Outcome
		equalities []string
	}{
		{name: "majority tied", method: Majority, votes: join(many(10, 3, "for"), many(20, 3, "against"), many(30, 1, "abstain")),
			outcome: OutcomeLost, equalities: []string{OptionFor, OptionAgainst}},
		{name: "the chair voted, then gave no casting vote", method: Majority, votes: join(votes(chair, "for"), many(10, 1, "for"), many(20, 2, "against")),
			outcome: OutcomeLost, equalities: []string{OptionFor, OptionAgainst}},
		{name: "absolute majority one short", method: Absolute, votes: join(many(10, 6, "for"), many(20, 6, "against")),
			outcome: OutcomeLost, equalities: []string{OptionFor, OptionAgainst}},
		{name: "plurality tied", method: Plurality, options: plural, votes: join(many(10, 2, "alpha"), many(20, 2, "beta"), many(30, 1, "gamma")),
			outcome: OutcomeUndecided, equalities: []string{"alpha", "beta"}},
		{name: "no equality", method: Majority, votes: join(many(10, 3, "for"), many(20, 2, "against")), wantErr: ErrNoTie},
		{name: "no votes", method: Majority, wantErr: ErrNoTie},
		{name: "two thirds, which needs no casting vote", method: TwoThirds, votes: join(many(10, 3, "for"), many(20, 3, "against")), wantErr: ErrNoTie},
		{name: "absolute majority out of reach", method: Absolute, votes: join(many(10, 5, "for"), many(20, 5, "against")), wantErr: ErrNoTie},
		{name: "inquorate", method: Majority, votes: join(many(10, 1, "for"), many(20, 1, "against")),
			edit: func(in *TallyInput) { in.PresentAtClose = 2 }, wantErr: ErrNoTie},
		{name: "beside a casting vote", method: Majority, votes: join(many(10, 2, "for"), many(20, 2, "against"), votes(-chair, "for")),
			wantErr: ErrPollClosed},
		{name: "nobody presiding", method: Majority, votes: join(many(10, 2, "for"), many(20, 2, "against")),
			edit: func(in *TallyInput) { in.Presiding = 0 }, wantErr: ErrNotPresiding},
	}
	for _, profile := range agenda.Presets() {
		rules := RulesOf(profile)
		for _, tc := range tests {
			t.Run(profile.Name+"/"+tc.name, func(t *testing.T) {
				options := tc.options
				if options == nil {
					options = DefaultOptions()
				}
				in := TallyInput{Method: tc.method, Options: options, Votes: tc.votes, Membership: 12,
					QuorumRequired: 3, PresentAtOpen: 10, PresentAtClose: 10, CastingVote: rules.CastingVote,
					PreponderantVote: rules.PreponderantVote, Presiding: chair}
				if tc.edit != nil {
					tc.edit(&in)
				}
				without, errWithout := Tally(in)
				in.CastingDeclined = true
				got, err := Tally(in)
				if !rules.CastingVote {
					if !errors.Is(err, ErrNoCastingVote) {
						t.Fatalf("Tally under rules without a casting vote: got %+v, %v, want ErrNoCastingVote", got, err)
					}
					return
				}
				if tc.wantErr != nil {
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("Tally: got %+v, %v, want %v", got, err, tc.wantErr)
					}
					return
				}
				if err != nil || errWithout != nil {
					t.Fatalf("Tally: %v (without the declaration: %v)", err, errWithout)
				}
				if without.Outcome != OutcomeTied {
					t.Fatalf("without the declaration: outcome %q, want it tied", without.Outcome)
				}
				if got.Outcome != tc.outcome || got.Winner != "" || got.CastingVote != "" || got.PreponderantVote != "" {
					t.Errorf("outcome: got %q (winner %q, casting %q, preponderant %q), want %q and nothing chosen",
						got.Outcome, got.Winner, got.CastingVote, got.PreponderantVote, tc.outcome)
				}
				want := &Equality{Options: tc.equalities, Resolution: CastingVoteNotGiven}
				if got.Equality == nil || !slices.Equal(got.Equality.Options, want.Options) || got.Equality.Resolution != want.Resolution {
					t.Errorf("equality: got %s, want %s", equalityText(got.Equality), equalityText(want))
				}
				if !slices.Equal(got.Counts, without.Counts) || got.VotesCast != without.VotesCast || got.Ballots != without.Ballots ||
					!slices.Equal(got.Votes, without.Votes) {
					t.Errorf("the declaration changed the counts: got %+v, want %+v", got, without)
				}
			})
		}
	}
	if got, want := CastingVoteNotGiven.Text(), "the member presiding gave no casting vote, so the equality stands"; got != want {
		t.Errorf("Text: got %q, want %q", got, want)
	}
}

// TestEqualityStood checks which resolutions leave an equality standing.
func TestEqualityStood(t *testing.T) {
	for r, want := range map[Resolution]bool{
		ResolvedByCastingVote:      false,
		ResolvedByPreponderantVote: false,
		AwaitingCastingVote:        false,
		CastingVoteNotGiven:        true,
		NoCastingVoteInRules:       true,
		NoPresidingMember:          true,
		PresidingVoteNotInEquality: true,
		PreponderantVoteAddsNone:   true,
	} {
		if got := (&Equality{Resolution: r}).Stood(); got != want {
			t.Errorf("%s: Stood() = %v, want %v", r, got, want)
		}
	}
}
