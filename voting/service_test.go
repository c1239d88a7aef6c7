package voting_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// TestServiceEligibility runs each eligibility rule end to end under the rules profile it
// belongs to: a meeting in progress with the chair, the vice-chair and two members in
// the room before the item starts, a poll opened by the clerk, and one ballot.
func TestServiceEligibility(t *testing.T) {
	t.Parallel()
	type env struct {
		f *fixture
		w *world
	}
	self := func(who func(w *world) agenda.Actor) func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
		return func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
			a := who(e.w)
			return a, e.w.ballot(p, a, "for")
		}
	}
	m3 := self(func(w *world) agenda.Actor { return w.m3 })
	tests := []struct {
		name    string
		profile string
		item    int
		// before runs before the item is taken; setup after, before the poll opens;
		// after once it has opened, before the ballot.
		before, setup, after func(e env)
		input                func(e env, in *voting.PollInput)
		ballot               func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot)
		want                 voting.Reason // "" for a ballot accepted
		wantOpen             error
	}{
		{name: "england: in the room", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) }, ballot: m3},
		{name: "england: remote, refused", profile: "england", setup: func(e env) { e.f.arrive(agenda.RemoteNonVoting, e.w.m3) },
			ballot: m3, want: voting.ReasonNonVotingMode},
		{name: "wales: remote with a vote", profile: "wales", setup: func(e env) { e.f.arrive(agenda.RemoteVoting, e.w.m3) }, ballot: m3},
		{name: "wales: remote without a vote", profile: "wales", setup: func(e env) { e.f.arrive(agenda.RemoteNonVoting, e.w.m3) },
			ballot: m3, want: voting.ReasonNonVotingMode},
		{name: "france: remote", profile: "france", setup: func(e env) { e.f.arrive(agenda.RemoteVoting, e.w.m3) }, ballot: m3},
		{name: "absent", profile: "england", ballot: m3, want: voting.ReasonAbsent},
		{name: "arrived after the poll opened", profile: "england", after: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) },
			ballot: m3, want: voting.ReasonNotAtOpening},
		{name: "left after the poll opened", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) },
			after: func(e env) { e.f.leave(e.w.m3) }, ballot: m3, want: voting.ReasonAbsent},
		{name: "not on the committee", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.outsider) },
			ballot: self(func(w *world) agenda.Actor { return w.outsider }), want: voting.ReasonNotMember},
		{name: "disqualifying interest", profile: "england", setup: func(e env) {
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Pecuniary, false, "")
		}, ballot: m3, want: voting.ReasonInterest},
		{name: "pecuniary interest with a dispensation", profile: "england", setup: func(e env) {
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Pecuniary, false, "granted by the standards committee on 2 March")
		}, ballot: m3},
		{name: "other interest, withdrawing", profile: "england", setup: func(e env) {
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Registrable, true, "")
		}, ballot: m3, want: voting.ReasonInterest},
		{name: "other interest, staying", profile: "england", setup: func(e env) {
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Registrable, false, "")
		}, ballot: m3},
		{name: "pecuniary interest with a dispensation, withdrawing", profile: "england", setup: func(e env) {
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Pecuniary, true, "granted by the standards committee on 2 March")
		}, ballot: m3, want: voting.ReasonInterest},
		{name: "wales: prejudicial interest", profile: "wales", setup: func(e env) {
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Prejudicial, false, "")
		}, ballot: m3, want: voting.ReasonInterest},
		{name: "wales: prejudicial interest with a dispensation", profile: "wales", setup: func(e env) {
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Prejudicial, false, "granted by the standards committee: may speak and vote")
		}, ballot: m3},
		{name: "wales: personal interest, staying", profile: "wales", setup: func(e env) {
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
			e.f.declare(e.w.m3, standardItem, agenda.Personal, false, "")
		}, ballot: m3},
		{name: "interest declared after the poll opened", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) },
			after: func(e env) { e.f.declare(e.w.m3, standardItem, agenda.Pecuniary, false, "") }, ballot: m3, want: voting.ReasonInterest},
		{name: "substitute for a member who sent apologies", profile: "england", before: func(e env) {
			_, err := e.w.agenda.RecordApology(e.w.ctx, e.w.clerk, e.f.meeting.ID, e.w.m4.UserID, "ill")
			e.w.must(err)
			_, err = e.w.agenda.RecordSubstitution(e.w.ctx, e.w.clerk, e.f.meeting.ID, e.w.sub.UserID, e.w.m4.UserID)
			e.w.must(err)
			e.f.arrive(agenda.InRoom, e.w.sub)
		}, ballot: self(func(w *world) agenda.Actor { return w.sub })},
		{name: "member whose substitute sits", profile: "england", before: func(e env) {
			_, err := e.w.agenda.RecordSubstitution(e.w.ctx, e.w.clerk, e.f.meeting.ID, e.w.sub.UserID, e.w.m4.UserID)
			e.w.must(err)
			e.f.arrive(agenda.InRoom, e.w.sub, e.w.m4)
		}, ballot: self(func(w *world) agenda.Actor { return w.m4 }), want: voting.ReasonSubstituted},
		{name: "substitute sitting for no one", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.sub) },
			ballot: self(func(w *world) agenda.Actor { return w.sub }), want: voting.ReasonNotSubstituting},
		{name: "planning: present for the whole item", profile: "england", item: planningItem,
			before: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) }, ballot: m3},
		{name: "planning: arrived during the item", profile: "england", item: planningItem, setup: func(e env) {
			e.w.clock.Advance(time.Minute)
			e.f.arrive(agenda.InRoom, e.w.m3)
		}, ballot: m3, want: voting.ReasonNotThroughout},
		{name: "planning: arrived during the item, the chair overrides", profile: "england", item: planningItem, setup: func(e env) {
			e.w.clock.Advance(time.Minute)
			e.f.arrive(agenda.InRoom, e.w.m3)
		}, input: func(e env, in *voting.PollInput) {
			in.Overrides = []voting.OverrideInput{{Voter: e.w.m3.UserID, Reason: "arrived during the officer's introduction, heard the debate in full"}}
		}, ballot: m3},
		{name: "planning: override without a reason", profile: "england", item: planningItem, input: func(e env, in *voting.PollInput) {
			in.Overrides = []voting.OverrideInput{{Voter: e.w.m3.UserID, Reason: " "}}
		}, wantOpen: voting.ErrInvalidPoll},
		{name: "wales planning: an override's reason as long as allowed, in Welsh", profile: "wales", item: planningItem, setup: func(e env) {
			e.w.clock.Advance(time.Minute)
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
		}, input: func(e env, in *voting.PollInput) {
			in.Overrides = []voting.OverrideInput{{Voter: e.w.m3.UserID, Reason: strings.Repeat("ŵ", voting.MaxReason)}}
		}, ballot: m3},
		{name: "wales planning: an override's reason too long", profile: "wales", item: planningItem, input: func(e env, in *voting.PollInput) {
			in.Overrides = []voting.OverrideInput{{Voter: e.w.m3.UserID, Reason: strings.Repeat("ŵ", voting.MaxReason+1)}}
		}, wantOpen: voting.ErrInvalidPoll},
		{name: "planning: an override does not excuse an interest", profile: "england", item: planningItem, setup: func(e env) {
			e.w.clock.Advance(time.Minute)
			e.f.arrive(agenda.InRoom, e.w.m3)
			e.f.declare(e.w.m3, planningItem, agenda.Pecuniary, false, "")
		}, input: func(e env, in *voting.PollInput) {
			in.Overrides = []voting.OverrideInput{{Voter: e.w.m3.UserID, Reason: "heard the debate"}}
		}, ballot: m3, want: voting.ReasonInterest},
		{name: "wales planning: left and came back", profile: "wales", item: planningItem, before: func(e env) {
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
		}, setup: func(e env) {
			e.w.clock.Advance(time.Minute)
			e.f.leave(e.w.m3)
			e.w.clock.Advance(time.Minute)
			e.f.arrive(agenda.RemoteVoting, e.w.m3)
		}, ballot: m3, want: voting.ReasonNotThroughout},
		{name: "france: proxy vote recorded by the clerk", profile: "france", setup: func(e env) { e.f.proxy(e.w.m3, e.w.m1) },
			ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
				return e.w.clerk, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.clerk), func(b *voting.Ballot) { b.Proxy = e.w.m1.UserID })
			}},
		{name: "france: proxy vote cast by its holder", profile: "france", setup: func(e env) { e.f.proxy(e.w.m3, e.w.m1) },
			ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
				return e.w.m1, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.m1), func(b *voting.Ballot) { b.Proxy = e.w.m1.UserID })
			}},
		{name: "france: proxy vote by another member", profile: "france", setup: func(e env) { e.f.proxy(e.w.m3, e.w.m1) },
			ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
				return e.w.m2, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.m2), func(b *voting.Ballot) { b.Proxy = e.w.m2.UserID })
			}, want: voting.ReasonNotProxyHolder},
		{name: "france: a represented member's own ballot", profile: "france", setup: func(e env) { e.f.proxy(e.w.m3, e.w.m1) },
			ballot: m3, want: voting.ReasonNotProxyHolder},
		{name: "france: a proxy past the holder's limit", profile: "france", setup: func(e env) {
			e.f.proxy(e.w.m4, e.w.m1)
			e.w.clock.Advance(time.Second)
			e.f.proxy(e.w.m3, e.w.m1)
			one := 1
			_, err := e.w.agenda.UpdateCommittee(e.w.ctx, e.w.clerk, e.f.committee.ID, agenda.CommitteePatch{Overrides: &agenda.ProfileOverrides{MaxProxiesPerHolder: &one}})
			e.w.must(err)
			e.w.t.Cleanup(func() {
				_, err := e.w.agenda.UpdateCommittee(e.w.ctx, e.w.clerk, e.f.committee.ID, agenda.CommitteePatch{Overrides: &agenda.ProfileOverrides{}})
				e.w.must(err)
			})
		}, ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
			return e.w.clerk, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.clerk), func(b *voting.Ballot) { b.Proxy = e.w.m1.UserID })
		}, want: voting.ReasonTooManyProxies},
		{name: "england: no proxies", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) },
			ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
				return e.w.clerk, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.clerk), func(b *voting.Ballot) { b.Proxy = e.w.m1.UserID })
			}, want: voting.ReasonNotProxyHolder},
		{name: "show of hands recorded by the clerk", profile: "england", setup: func(e env) { e.f.arrive(agenda.InRoom, e.w.m3) },
			ballot: func(e env, p voting.PollView) (agenda.Actor, voting.SignedBallot) {
				return e.w.clerk, e.w.ballot(p, e.w.m3, "for", recordedBy(e.w.clerk))
			}},
	}
	eachWorld(t, func(t *testing.T, w *world) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				w.t = t
				f := w.meeting(tc.profile)
				e := env{f: f, w: w}
				f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
				if tc.before != nil {
					tc.before(e)
				}
				f.take(tc.item)
				if tc.setup != nil {
					tc.setup(e)
				}
				w.clock.Advance(time.Second)
				in := f.input(tc.item)
				if tc.input != nil {
					tc.input(e, &in)
				}
				p, err := w.svc.OpenPoll(w.ctx, w.clerk, in)
				if !is(err, tc.wantOpen) {
					t.Fatalf("OpenPoll: got %v, want %v", err, tc.wantOpen)
				}
				if err != nil {
					return
				}
				if tc.after != nil {
					w.clock.Advance(time.Second)
					tc.after(e)
				}
				w.clock.Advance(time.Second)
				who, sb := tc.ballot(e, p)
				r, err := w.svc.Cast(w.ctx, who, sb)
				if got := reason(err); got != string(tc.want) {
					t.Fatalf("Cast: got %q, want %q", got, tc.want)
				}
				if tc.want != "" {
					if !errors.Is(err, voting.ErrNotEligible) {
						t.Errorf("Cast: %v does not match ErrNotEligible", err)
					}
					if got := w.refusals(p.ID); !slices.Equal(got, []string{"not_eligible: " + string(tc.want)}) {
						t.Errorf("refusals kept: got %q, want the one", got)
					}
					return
				}
				vkey, _ := w.svc.VerifierKey(w.ctx, p.Meeting)
				leaf, _ := voting.EncodeBallotEntry(sb)
				if _, err := voting.VerifyReceipt(r, leaf, vkey); err != nil {
					t.Errorf("receipt: %v", err)
				}
				if tc.input != nil {
					if got := w.poll(p.ID).Overrides; len(got) != len(in.Overrides) {
						t.Errorf("overrides recorded: got %+v, want %d", got, len(in.Overrides))
					}
				}
			})
		}
	})
}

// TestServiceTally decides polls end to end under each method, with ties, casting votes and
// preponderant votes: six members in the room vote, the clerk closes the poll and,
// on an equality, the chair gives the casting vote.
func TestServiceTally(t *testing.T) {
	t.Parallel()
	type vote struct {
		who    func(w *world) agenda.Actor
		choice string
	}
	chair := func(w *world) agenda.Actor { return w.chair }
	vice := func(w *world) agenda.Actor { return w.vice }
	m1 := func(w *world) agenda.Actor { return w.m1 }
	m2 := func(w *world) agenda.Actor { return w.m2 }
	m3 := func(w *world) agenda.Actor { return w.m3 }
	m4 := func(w *world) agenda.Actor { return w.m4 }
	six := func(choices ...string) []vote {
		who := []func(w *world) agenda.Actor{chair, vice, m1, m2, m3, m4}
		var out []vote
		for i, c := range choices {
			if c != "" {
				out = append(out, vote{who[i], c})
			}
		}
		return out
	}
	plural := []string{"alpha", "beta", "gamma", voting.OptionAbstain}
	tests := []struct {
		name          string
		profile       string
		method        voting.Method
		options       []string
		votes         []vote
		casting       string
		wantClosing   voting.Outcome
		wantOutcome   voting.Outcome
		wantCounts    []int
		wantWinner    string
		wantCasting   string
		wantPreponder string
	}{
		{name: "majority carried", profile: "england", votes: six("for", "for", "for", "against", "against", "abstain"),
			wantClosing: voting.OutcomeCarried, wantOutcome: voting.OutcomeCarried, wantCounts: []int{3, 2, 1}},
		{name: "majority lost", profile: "england", votes: six("against", "for", "against", "against", "abstain", ""),
			wantClosing: voting.OutcomeLost, wantOutcome: voting.OutcomeLost, wantCounts: []int{1, 3, 1}},
		{name: "abstentions are not votes cast", profile: "england", votes: six("for", "abstain", "abstain", "abstain", "abstain", "abstain"),
			wantClosing: voting.OutcomeCarried, wantOutcome: voting.OutcomeCarried, wantCounts: []int{1, 0, 5}},
		{name: "tie, the casting vote for", profile: "england", votes: six("for", "for", "for", "against", "against", "against"), casting: "for",
			wantClosing: voting.OutcomeTied, wantOutcome: voting.OutcomeCarried, wantCounts: []int{3, 3, 0}, wantCasting: "for"},
		{name: "tie, the casting vote against", profile: "england", votes: six("for", "against", "abstain", "", "", ""), casting: "against",
			wantClosing: voting.OutcomeTied, wantOutcome: voting.OutcomeLost, wantCounts: []int{1, 1, 1}, wantCasting: "against"},
		{name: "two thirds carried", profile: "england", method: voting.TwoThirds, votes: six("for", "for", "for", "for", "against", "against"),
			wantClosing: voting.OutcomeCarried, wantOutcome: voting.OutcomeCarried, wantCounts: []int{4, 2, 0}},
		{name: "two thirds lost", profile: "england", method: voting.TwoThirds, votes: six("for", "for", "for", "against", "against", "abstain"),
			wantClosing: voting.OutcomeLost, wantOutcome: voting.OutcomeLost, wantCounts: []int{3, 2, 1}},
		{name: "absolute majority lost", profile: "england", method: voting.Absolute, votes: six("for", "for", "for", "against", "abstain", "abstain"),
			wantClosing: voting.OutcomeLost, wantOutcome: voting.OutcomeLost, wantCounts: []int{3, 1, 2}},
		{name: "absolute majority carried", profile: "england", method: voting.Absolute, votes: six("for", "for", "for", "for", "against", "against"),
			wantClosing: voting.OutcomeCarried, wantOutcome: voting.OutcomeCarried, wantCounts: []int{4, 2, 0}},
		{name: "absolute majority tied, the casting vote for", profile: "england", method: voting.Absolute, votes: six("for", "for", "for", "against", "against", "against"),
			casting: "for", wantClosing: voting.OutcomeTied, wantOutcome: voting.OutcomeCarried, wantCounts: []int{3, 3, 0}, wantCasting: "for"},
		{name: "plurality decided", profile: "england", method: voting.Plurality, options: plural, votes: six("alpha", "alpha", "beta", "alpha", "gamma", "abstain"),
			wantClosing: voting.OutcomeDecided, wantOutcome: voting.OutcomeDecided, wantCounts: []int{3, 1, 1, 1}, wantWinner: "alpha"},
		{name: "plurality tied, the casting vote", profile: "england", method: voting.Plurality, options: plural, votes: six("alpha", "alpha", "beta", "beta", "gamma", ""),
			casting: "beta", wantClosing: voting.OutcomeTied, wantOutcome: voting.OutcomeDecided, wantCounts: []int{2, 2, 1, 0}, wantWinner: "beta", wantCasting: "beta"},
		{name: "france: tie, the president's vote prevails", profile: "france", votes: six("for", "for", "for", "against", "against", "against"),
			wantClosing: voting.OutcomeCarried, wantOutcome: voting.OutcomeCarried, wantCounts: []int{3, 3, 0}, wantPreponder: "for"},
		{name: "france: tie, the president against", profile: "france", votes: six("against", "for", "for", "for", "against", "against"),
			wantClosing: voting.OutcomeLost, wantOutcome: voting.OutcomeLost, wantCounts: []int{3, 3, 0}, wantPreponder: "against"},
		{name: "france: tie, the president abstaining", profile: "france", votes: six("abstain", "for", "for", "against", "against", ""),
			wantClosing: voting.OutcomeLost, wantOutcome: voting.OutcomeLost, wantCounts: []int{2, 2, 1}},
		{name: "france: plurality tie, the president's choice", profile: "france", method: voting.Plurality, options: plural,
			votes: six("gamma", "alpha", "gamma", "alpha", "beta", ""), wantClosing: voting.OutcomeDecided, wantOutcome: voting.OutcomeDecided,
			wantCounts: []int{2, 1, 2, 0}, wantWinner: "gamma", wantPreponder: "gamma"},
	}
	eachWorld(t, func(t *testing.T, w *world) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				w.t = t
				f := w.meeting(tc.profile)
				f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3, w.m4)
				f.take(standardItem)
				in := f.input(standardItem)
				in.Method, in.Options, in.Recorded = tc.method, tc.options, true
				p := f.open(in)
				if p.Presiding != w.chair.UserID {
					t.Errorf("presiding: got %d, want the chair %d", p.Presiding, w.chair.UserID)
				}
				for _, v := range tc.votes {
					w.clock.Advance(time.Second)
					w.vote(p, v.who(w), v.choice)
				}
				w.clock.Advance(time.Second)
				closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
				w.must(err)
				if closed.Closing.Outcome != tc.wantClosing {
					t.Fatalf("closing: got %q, want %q", closed.Closing.Outcome, tc.wantClosing)
				}
				if tc.casting != "" {
					if closed.Status != voting.PollAwaitingCastingVote || closed.Result != nil {
						t.Fatalf("closed on a tie: status %q result %+v, want the casting vote awaited", closed.Status, closed.Result)
					}
					if _, err := w.svc.CastCasting(w.ctx, w.vice, w.ballot(p, w.vice, tc.casting, casting)); !errors.Is(err, voting.ErrNotPresiding) {
						t.Errorf("casting vote by the vice-chair: got %v, want ErrNotPresiding", err)
					}
					if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, voting.OptionAbstain, casting)); !errors.Is(err, voting.ErrNoTie) {
						t.Errorf("casting vote to abstain: got %v, want ErrNoTie", err)
					}
					w.clock.Advance(time.Second)
					if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, tc.casting, casting)); err != nil {
						t.Fatalf("casting vote: %v", err)
					}
					if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, tc.casting, casting)); !errors.Is(err, voting.ErrPollClosed) {
						t.Errorf("a second casting vote: got %v, want ErrPollClosed", err)
					}
				}
				got := w.poll(p.ID)
				if got.Status != voting.PollClosed || got.Result == nil {
					t.Fatalf("after: status %q result %+v", got.Status, got.Result)
				}
				res := got.Result
				var counts []int
				for _, c := range res.Counts {
					counts = append(counts, c.Count)
				}
				if res.Outcome != tc.wantOutcome || !slices.Equal(counts, tc.wantCounts) || res.Winner != tc.wantWinner ||
					res.CastingVote != tc.wantCasting || res.PreponderantVote != tc.wantPreponder {
					t.Errorf("result: got %s %v winner %q casting %q preponderant %q, want %s %v %q %q %q", res.Outcome, counts, res.Winner,
						res.CastingVote, res.PreponderantVote, tc.wantOutcome, tc.wantCounts, tc.wantWinner, tc.wantCasting, tc.wantPreponder)
				}
				rec, err := w.svc.Record(w.ctx, w.clerk, f.meeting.ID)
				w.must(err)
				if problems := voting.VerifyRecord(rec); len(problems) != 0 {
					t.Errorf("the record does not verify: %v", problems)
				}
			})
		}
	})
}

// TestServiceCastingVoteRefused checks casting votes given where they may not be.
func TestServiceCastingVoteRefused(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		_, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2)
		if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting)); !errors.Is(err, voting.ErrPollOpen) {
			t.Errorf("casting vote while open: got %v, want ErrPollOpen", err)
		}
		if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for")); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("an ordinary ballot as a casting vote: got %v, want ErrMalformed", err)
		}
		w.vote(p, w.m1, "for")
		if _, err := w.svc.Close(w.ctx, w.clerk, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting)); !errors.Is(err, voting.ErrNoTie) {
			t.Errorf("casting vote without a tie: got %v, want ErrNoTie", err)
		}

		fr := w.meeting("france")
		fr.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
		fr.take(standardItem)
		p = fr.open(fr.input(standardItem))
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "against")
		if _, err := w.svc.Close(w.ctx, w.clerk, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting)); !errors.Is(err, voting.ErrNoCastingVote) {
			t.Errorf("casting vote under the rules of France: got %v, want ErrNoCastingVote", err)
		}
		if got := w.poll(p.ID).Result; got == nil || got.Outcome != voting.OutcomeLost {
			t.Errorf("france, a tie the president did not vote in: got %+v, want lost", got)
		}
	})
}

// TestServiceCastRefusals checks that every kind of bad ballot is refused with its error, and
// kept for the clerk when it names a poll.
func TestServiceCastRefusals(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		_, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2, w.m3)
		first := w.ballot(p, w.m1, "for")
		if _, err := w.svc.Cast(w.ctx, w.m1, first); err != nil {
			t.Fatal(err)
		}
		revoked, err := w.svc.ListKeys(w.ctx, w.m2, w.m2.UserID)
		w.must(err)
		if _, err := w.svc.RevokeKey(w.ctx, w.m2, revoked[0].ID); err != nil {
			t.Fatal(err)
		}
		pending := key("pending")
		if _, err := w.svc.EnrolKey(w.ctx, w.m3, pending.Public().(ed25519.PublicKey), "phone"); err != nil {
			t.Fatal(err)
		}
		signWith := func(sb voting.SignedBallot, priv ed25519.PrivateKey) voting.SignedBallot {
			sb.Signature, sb.PublicKey = ed25519.Sign(priv, sb.Bytes), priv.Public().(ed25519.PublicKey)
			return sb
		}
		badSig := w.ballot(p, w.m3, "for")
		badSig.Signature = append([]byte(nil), badSig.Signature...)
		badSig.Signature[0] ^= 1
		malformed := w.ballot(p, w.m3, "for")
		malformed.Bytes = append(append([]byte(nil), malformed.Bytes...), 0)
		malformed = signWith(malformed, w.privs[w.m3.UserID])
		_, q := w.pollIn("england", w.chair, w.vice, w.m1)
		_, c := w.pollIn("england", w.chair, w.vice, w.m1, w.m3)
		_, err = w.svc.Close(w.ctx, w.clerk, c.ID)
		w.must(err)

		tests := []struct {
			name   string
			actor  agenda.Actor
			ballot voting.SignedBallot
			want   error
			kept   string // the reason kept against the poll, if any
		}{
			{"bad signature", w.m3, badSig, voting.ErrBadSignature, ""},
			{"malformed", w.m3, malformed, voting.ErrMalformed, ""},
			{"replay: a nonce used again", w.m1, w.ballot(p, w.m1, "against", func(b *voting.Ballot) {
				copy(b.Nonce[:], first.Bytes[104:136])
			}), voting.ErrReplay, "replay"},
			{"another poll's challenge", w.m3, w.ballot(p, w.m3, "for", func(b *voting.Ballot) { b.Challenge = q.Challenge }), voting.ErrWrongPoll, "wrong_poll"},
			{"another meeting's poll", w.m3, w.ballot(p, w.m3, "for", func(b *voting.Ballot) { b.Poll = q.ID }), voting.ErrWrongPoll, "wrong_poll"},
			{"no such poll", w.m3, w.ballot(p, w.m3, "for", func(b *voting.Ballot) { b.Poll = 99999 }), voting.ErrWrongPoll, ""},
			{"closed poll", w.m3, w.ballot(c, w.m3, "for"), voting.ErrPollClosed, "poll_closed"},
			{"not an option", w.m3, w.ballot(p, w.m3, "maybe"), voting.ErrInvalidChoice, "invalid_choice"},
			{"revoked key", w.m2, w.ballot(p, w.m2, "for"), voting.ErrKeyRevoked, "key_revoked"},
			{"key not approved", w.m3, signWith(w.ballot(p, w.m3, "for"), pending), voting.ErrKeyNotApproved, "key_not_approved"},
			{"another member's key", w.m3, signWith(w.ballot(p, w.m3, "for"), w.privs[w.m1.UserID]), voting.ErrWrongKey, "wrong_key"},
			{"someone else's ballot", w.m1, w.ballot(p, w.m3, "for"), voting.ErrForbidden, ""},
			{"the public", agenda.Anyone, w.ballot(p, w.m3, "for"), voting.ErrUnauthenticated, ""},
			{"recorded by a member", w.m1, w.ballot(p, w.m3, "for", recordedBy(w.m1)), voting.ErrForbidden, "forbidden"},
			{"recorded by another council's clerk", w.otherClerk, w.ballot(p, w.m3, "for", recordedBy(w.otherClerk)), voting.ErrForbidden, "forbidden"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				w.t = t
				before := map[int64]int{p.ID: len(w.refusals(p.ID)), c.ID: len(w.refusals(c.ID)), q.ID: len(w.refusals(q.ID))}
				_, err := w.svc.Cast(w.ctx, tc.actor, tc.ballot)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Cast: got %v, want %v", err, tc.want)
				}
				var kept []string
				for _, id := range []int64{p.ID, c.ID, q.ID} {
					kept = append(kept, w.refusals(id)[before[id]:]...)
				}
				if want := []string{tc.kept}; tc.kept == "" && len(kept) != 0 || tc.kept != "" && !slices.Equal(kept, want) {
					t.Errorf("kept: got %q, want %q", kept, tc.kept)
				}
			})
		}
		w.t = t
		if got := w.poll(p.ID); got.Status != voting.PollOpen {
			t.Errorf("poll after the refusals: %q", got.Status)
		}
		ballots, err := w.store.Ballots(w.ctx, p.ID)
		w.must(err)
		if len(ballots) != 1 {
			t.Errorf("ballots stored: got %d, want only the first", len(ballots))
		}
	})
}

// TestServiceCastIdempotentAndChangedVotes checks that the same ballot twice gets the same
// receipt, even after the poll has closed, and that a changed vote is a new ballot
// whose last counts.
func TestServiceCastIdempotentAndChangedVotes(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		_, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2)
		sb := w.ballot(p, w.m1, "for")
		r1, err := w.svc.Cast(w.ctx, w.m1, sb)
		w.must(err)
		w.clock.Advance(time.Second)
		r2, err := w.svc.Cast(w.ctx, w.m1, sb)
		w.must(err)
		if !reflect.DeepEqual(r1, r2) {
			t.Errorf("the same ballot twice: receipts differ:\n%+v\n%+v", r1, r2)
		}
		w.clock.Advance(time.Second)
		changed, err := w.svc.Cast(w.ctx, w.m1, w.ballot(p, w.m1, "against"))
		w.must(err)
		if changed.Index != r1.Index+1 {
			t.Errorf("changed vote at index %d, want %d", changed.Index, r1.Index+1)
		}
		w.vote(p, w.m2, "against")
		pr, err := w.svc.Progress(w.ctx, w.clerk, p.ID)
		w.must(err)
		if pr.Voted != 2 || pr.Ballots != 3 || pr.NotVoted != 2 {
			t.Errorf("progress: got %+v, want 2 voted with 3 ballots, 2 not voted", pr)
		}
		closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		if closed.Result.Outcome != voting.OutcomeLost || closed.Result.Ballots != 3 || closed.Closing.Ballots != 3 {
			t.Errorf("result: got %+v, want lost 0–2 counting 3 ballots", closed.Result)
		}
		r3, err := w.svc.Cast(w.ctx, w.m1, sb)
		if err != nil || !reflect.DeepEqual(r1, r3) {
			t.Errorf("the same ballot after the close: got %+v, %v, want the first receipt", r3, err)
		}
		if _, err := w.svc.Close(w.ctx, w.clerk, p.ID); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("closing again: got %v, want ErrPollClosed", err)
		}
	})
}

// TestServiceOpenPollRefused checks who may open a poll and when.
func TestServiceOpenPollRefused(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1)
		f.take(standardItem)
		tests := []struct {
			name  string
			actor agenda.Actor
			in    func(in *voting.PollInput)
			want  error
		}{
			{"a member", w.m1, nil, voting.ErrForbidden},
			{"the public", agenda.Anyone, nil, voting.ErrUnauthenticated},
			{"another council's clerk", w.otherClerk, nil, voting.ErrForbidden},
			{"not the current item", w.clerk, func(in *voting.PollInput) { in.ItemID = f.items[planningItem].ID }, voting.ErrConflict},
			{"no such item", w.clerk, func(in *voting.PollInput) { in.ItemID = 99999 }, voting.ErrNotFound},
			{"closing in the past", w.clerk, func(in *voting.PollInput) { in.ClosesAt = w.clock.Now().Add(-time.Second) }, voting.ErrInvalidPoll},
			{"unknown method", w.clerk, func(in *voting.PollInput) { in.Method = "acclamation" }, voting.ErrInvalidPoll},
			{"plurality without options", w.clerk, func(in *voting.PollInput) { in.Method = voting.Plurality }, voting.ErrInvalidPoll},
			{"bad option", w.clerk, func(in *voting.PollInput) { in.Options = []string{"for", "against", "Maybe"} }, voting.ErrInvalidPoll},
			{"presiding member who may not vote", w.clerk, func(in *voting.PollInput) { in.Presiding = w.m4.UserID }, voting.ErrInvalidPoll},
			{"the chair", w.chair, nil, nil},
			{"a second poll while one is open", w.clerk, nil, voting.ErrConflict},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				in := f.input(standardItem)
				if tc.in != nil {
					tc.in(&in)
				}
				if _, err := w.svc.OpenPoll(w.ctx, tc.actor, in); !is(err, tc.want) {
					t.Errorf("OpenPoll: got %v, want %v", err, tc.want)
				}
			})
		}

		inquorate := w.meeting("england")
		inquorate.arrive(agenda.InRoom, w.chair, w.m1)
		inquorate.take(standardItem)
		if _, err := w.svc.OpenPoll(w.ctx, w.clerk, inquorate.input(standardItem)); !errors.Is(err, voting.ErrInquorate) {
			t.Errorf("OpenPoll inquorate: got %v, want ErrInquorate", err)
		}
		notStarted, err := w.agenda.CreateMeeting(w.ctx, w.clerk, agenda.MeetingInput{CommitteeID: f.committee.ID, Title: "Later", StartsAt: start.Add(48 * time.Hour)})
		w.must(err)
		it, err := w.agenda.AddItem(w.ctx, w.clerk, notStarted.ID, agenda.ItemInput{Title: "Minutes"})
		w.must(err)
		if _, err := w.svc.OpenPoll(w.ctx, w.clerk, voting.PollInput{MeetingID: notStarted.ID, ItemID: it.ID}); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("OpenPoll before the meeting starts: got %v, want ErrConflict", err)
		}

		// With the chair absent the vice-chair presides; with neither, a member must be named.
		_, p := w.pollIn("england", w.vice, w.m1, w.m2)
		if p.Presiding != w.vice.UserID {
			t.Errorf("presiding without the chair: got %d, want the vice-chair %d", p.Presiding, w.vice.UserID)
		}
		neither := w.meeting("england")
		neither.arrive(agenda.InRoom, w.m1, w.m2, w.m3)
		neither.take(standardItem)
		if _, err := w.svc.OpenPoll(w.ctx, w.clerk, neither.input(standardItem)); !errors.Is(err, voting.ErrInvalidPoll) {
			t.Errorf("OpenPoll with no one presiding: got %v, want ErrInvalidPoll", err)
		}
		in := neither.input(standardItem)
		in.Presiding = w.m2.UserID
		if p := neither.open(in); p.Presiding != w.m2.UserID {
			t.Errorf("presiding as named: got %d, want %d", p.Presiding, w.m2.UserID)
		}
	})
}

// TestServiceQuorumAtClose checks that a poll whose quorum left before the close is inquorate.
func TestServiceQuorumAtClose(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f, p := w.pollIn("england", w.chair, w.vice, w.m1)
		w.vote(p, w.m1, "for")
		w.clock.Advance(time.Second)
		f.leave(w.vice)
		closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		if closed.Closing.Outcome != voting.OutcomeInquorate || closed.Closing.PresentAtClose != 2 || closed.Result.Outcome != voting.OutcomeInquorate {
			t.Errorf("closing: got %+v, want inquorate with 2 present", closed.Closing)
		}
	})
}

// TestServiceRunClosesAtTime checks that Run closes a poll at its closing time, journals the
// closing with it, and publishes it.
func TestServiceRunClosesAtTime(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1)
		f.take(standardItem)
		in := f.input(standardItem)
		in.ClosesAt = w.clock.Now().Add(2 * time.Minute)
		p := f.open(in)
		w.vote(p, w.m1, "for")
		w.pub.take()
		if n, err := w.svc.CloseDue(w.ctx); err != nil || n != 0 {
			t.Fatalf("CloseDue before the time: got %d, %v", n, err)
		}
		w.clock.Advance(2 * time.Minute)
		if _, err := w.svc.Cast(w.ctx, w.vice, w.ballot(p, w.vice, "for")); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("a ballot at the closing time: got %v, want ErrPollClosed", err)
		}
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan error, 1)
		go func() { done <- w.svc.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for w.poll(p.ID).Status == voting.PollOpen && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		got := w.poll(p.ID)
		if got.Status != voting.PollClosed || got.Closing.ClosedBy != 0 || !got.Closing.ClosedAt.Equal(in.ClosesAt) || got.Result.Outcome != voting.OutcomeCarried {
			t.Fatalf("after Run: %+v", got)
		}
		if types := eventTypes(w.pub.take()); !slices.Equal(types, []string{voting.EventPollClosed, voting.EventPollResult}) {
			t.Errorf("published: got %v, want poll.closed and poll.result", types)
		}
		evs, err := w.agenda.JournalAfter(w.ctx, f.meeting.ID, 0)
		w.must(err)
		if last := evs[len(evs)-1]; last.Type != voting.EventPollResult || last.ActorID != 0 {
			t.Errorf("journal ends with %s by %d, want poll.result by the server", last.Type, last.ActorID)
		}
	})
}

// TestServiceEvents checks the events a poll publishes, that the journal holds those it
// should with the same seq, and that a poll on exempt business is private.
func TestServiceEvents(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
		f.take(exemptItem)
		before := f.lastSeq()
		w.pub.take()
		in := f.input(exemptItem)
		in.ShowLiveTally = true
		p := f.open(in)
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "against")
		_, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		_, err = w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "against", casting))
		w.must(err)
		published := w.pub.take()
		want := []string{voting.EventPollOpened, voting.EventPollProgress, voting.EventPollProgress, voting.EventPollClosed,
			voting.EventPollCasting, voting.EventPollResult}
		if got := eventTypes(published); !slices.Equal(got, want) {
			t.Fatalf("published: got %v, want %v", got, want)
		}
		journal, err := w.agenda.JournalAfter(w.ctx, f.meeting.ID, before)
		w.must(err)
		var journaled []voting.VoteEvent
		for _, e := range published {
			if !e.Private {
				t.Errorf("%s of a poll on exempt business is not private", e.Type)
			}
			if e.Type == voting.EventPollProgress {
				if e.Seq != 0 {
					t.Errorf("progress with seq %d", e.Seq)
				}
				continue
			}
			journaled = append(journaled, e)
		}
		if len(journal) != len(journaled) {
			t.Fatalf("journal: got %d events, want %d", len(journal), len(journaled))
		}
		for i, e := range journal {
			if e.Seq != journaled[i].Seq || e.Type != journaled[i].Type || !e.Private || e.ActorID == 0 {
				t.Errorf("journal event %d: got %s seq %d private %v by %d, published %s seq %d", i, e.Type, e.Seq, e.Private, e.ActorID,
					journaled[i].Type, journaled[i].Seq)
			}
		}
		var opened voting.PollView
		w.must(json.Unmarshal(journaled[0].Data, &opened))
		if opened.ID != p.ID || opened.Challenge != p.Challenge || opened.Status != voting.PollOpen {
			t.Errorf("poll.opened data: got %+v", opened)
		}
		var progress voting.Progress
		w.must(json.Unmarshal(published[2].Data, &progress))
		if progress.Voted != 2 || len(progress.Waiting) != 0 || len(progress.Counts) != 3 || progress.Counts[0].Count != 1 {
			t.Errorf("progress event (a live tally): got %+v", progress)
		}
		var result voting.PollView
		w.must(json.Unmarshal(journaled[3].Data, &result))
		if result.Result == nil || result.Result.Outcome != voting.OutcomeLost || result.Result.CastingVote != "against" {
			t.Errorf("poll.result data: got %+v", result.Result)
		}

		// The public sees no poll on exempt business.
		if _, err := w.svc.Poll(w.ctx, agenda.Anyone, p.ID); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("Poll for the public: got %v, want ErrNotFound", err)
		}
		if polls, err := w.svc.MeetingPolls(w.ctx, agenda.Anyone, f.meeting.ID); err != nil || len(polls) != 0 {
			t.Errorf("MeetingPolls for the public: got %d, %v", len(polls), err)
		}
		if polls, err := w.svc.MeetingPolls(w.ctx, w.m1, f.meeting.ID); err != nil || len(polls) != 1 || !polls[0].Private {
			t.Errorf("MeetingPolls for a member: got %+v, %v", polls, err)
		}
	})
}

func (f *fixture) lastSeq() int64 {
	f.w.t.Helper()
	evs, err := f.w.agenda.JournalAfter(f.w.ctx, f.meeting.ID, 0)
	f.w.must(err)
	if len(evs) == 0 {
		return 0
	}
	return evs[len(evs)-1].Seq
}

// TestServiceProgress checks what each sees of a poll under way.
func TestServiceProgress(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		_, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2)
		w.vote(p, w.m1, "for")
		for _, tc := range []struct {
			name        string
			actor       agenda.Actor
			wantWaiting []int64
		}{
			{"the clerk", w.clerk, []int64{w.chair.UserID, w.vice.UserID, w.m2.UserID}},
			{"the chair", w.chair, []int64{w.chair.UserID, w.vice.UserID, w.m2.UserID}},
			{"a member", w.m2, nil},
			{"the public", agenda.Anyone, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pr, err := w.svc.Progress(w.ctx, tc.actor, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				var waiting []int64
				for _, m := range pr.Waiting {
					waiting = append(waiting, m.User)
					if m.Name == "" {
						t.Errorf("waiting: user %d has no name", m.User)
					}
				}
				slices.Sort(waiting)
				if pr.Eligible != 4 || pr.Voted != 1 || pr.NotVoted != 3 || !slices.Equal(waiting, tc.wantWaiting) || pr.Counts != nil {
					t.Errorf("got %+v, want 1 of 4 voted, waiting %v, no counts", pr, tc.wantWaiting)
				}
			})
		}
	})
}

// TestServiceKeys checks who may enrol, approve, revoke and list keys.
func TestServiceKeys(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		pub := key("new laptop").Public().(ed25519.PublicKey)
		k, err := w.svc.EnrolKey(w.ctx, w.m1, pub, "new laptop")
		w.must(err)
		if k.User != w.m1.UserID || k.Status(w.clock.Now()) != voting.KeyPending {
			t.Errorf("enrolled: %+v", k)
		}
		if _, err := w.svc.EnrolKey(w.ctx, w.m2, pub, "mine"); !errors.Is(err, voting.ErrConflict) {
			t.Errorf("enrolling another's key: got %v, want ErrConflict", err)
		}
		if _, err := w.svc.EnrolKey(w.ctx, agenda.Anyone, key("x").Public().(ed25519.PublicKey), ""); !errors.Is(err, voting.ErrUnauthenticated) {
			t.Errorf("enrolling as the public: got %v, want ErrUnauthenticated", err)
		}
		if _, err := w.svc.EnrolKey(w.ctx, w.m1, make(ed25519.PublicKey, 32), ""); !errors.Is(err, voting.ErrMalformed) {
			t.Errorf("enrolling a small-order key: got %v, want ErrMalformed", err)
		}
		for _, tc := range []struct {
			name  string
			actor agenda.Actor
			want  error
		}{
			{"the owner", w.m1, voting.ErrForbidden},
			{"another member", w.m2, voting.ErrForbidden},
			{"another council's clerk", w.otherClerk, voting.ErrForbidden},
			{"the public", agenda.Anyone, voting.ErrUnauthenticated},
			{"the clerk", w.clerk, nil},
		} {
			if _, err := w.svc.ApproveKey(w.ctx, tc.actor, k.ID); !is(err, tc.want) {
				t.Errorf("ApproveKey by %s: got %v, want %v", tc.name, err, tc.want)
			}
		}
		own, err := w.svc.EnrolKey(w.ctx, w.clerk, key("clerk's phone").Public().(ed25519.PublicKey), "phone")
		w.must(err)
		if _, err := w.svc.ApproveKey(w.ctx, w.clerk, own.ID); !errors.Is(err, voting.ErrForbidden) {
			t.Errorf("a clerk approving their own key: got %v, want ErrForbidden", err)
		}
		if keys, err := w.svc.ListKeys(w.ctx, w.clerk, w.m1.UserID); err != nil || len(keys) != 2 {
			t.Errorf("ListKeys by the clerk: got %d, %v", len(keys), err)
		}
		if _, err := w.svc.ListKeys(w.ctx, w.m2, w.m1.UserID); !errors.Is(err, voting.ErrForbidden) {
			t.Errorf("ListKeys of another member: got %v, want ErrForbidden", err)
		}
		if _, err := w.svc.RevokeKey(w.ctx, w.m2, k.ID); !errors.Is(err, voting.ErrForbidden) {
			t.Errorf("RevokeKey of another member's key: got %v, want ErrForbidden", err)
		}
		w.clock.Advance(time.Second)
		if k, err := w.svc.RevokeKey(w.ctx, w.m1, k.ID); err != nil || k.Status(w.clock.Now()) != voting.KeyRevoked {
			t.Errorf("RevokeKey by the owner: got %+v, %v", k, err)
		}
		if _, err := w.svc.ApproveKey(w.ctx, w.clerk, k.ID); !errors.Is(err, voting.ErrKeyRevoked) {
			t.Errorf("approving a revoked key: got %v, want ErrKeyRevoked", err)
		}
	})
}

// TestServiceRecord runs a meeting with a public and a private poll, builds its
// record for the public and for a member, verifies both, and checks that a tampered
// copy does not verify.
func TestServiceRecord(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3)
		f.take(standardItem)
		in := f.input(standardItem)
		in.Recorded = true
		p := f.open(in)
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "against")
		w.vote(p, w.m1, "against") // changes their vote
		if _, err := w.svc.RecordInRoom(w.ctx, w.clerk, []voting.SignedBallot{
			w.ballot(p, w.m3, "for", recordedBy(w.clerk)), w.ballot(p, w.vice, "for", recordedBy(w.clerk)),
		}); err != nil {
			t.Fatalf("RecordInRoom: %v", err)
		}
		_, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		_, err = w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting))
		w.must(err)

		f.take(exemptItem)
		q := f.open(f.input(exemptItem))
		w.vote(q, w.m1, "for")
		w.vote(q, w.m2, "for")
		_, err = w.svc.Close(w.ctx, w.clerk, q.ID)
		w.must(err)

		full, err := w.svc.Record(w.ctx, w.m1, f.meeting.ID)
		w.must(err)
		public, err := w.svc.Record(w.ctx, agenda.Anyone, f.meeting.ID)
		w.must(err)
		vkey, _ := w.svc.VerifierKey(w.ctx, f.meeting.ID)
		for name, rec := range map[string]*voting.Record{"full": full, "public": public} {
			data, err := json.Marshal(rec)
			w.must(err)
			again, err := voting.ParseRecord(data)
			if err != nil {
				t.Fatalf("%s record: %v", name, err)
			}
			if problems := voting.VerifyRecord(again, vkey); len(problems) != 0 {
				t.Errorf("%s record: %v", name, problems)
			}
		}
		if len(full.Polls) != 2 || len(full.Withheld) != 0 || full.Polls[0].Result.Outcome != voting.OutcomeCarried {
			t.Errorf("full record: %d polls, %d withheld", len(full.Polls), len(full.Withheld))
		}
		if len(public.Polls) != 1 || len(public.Withheld) != 4 || public.Polls[0].Opening.ID != p.ID {
			t.Errorf("public record: %d polls, %d withheld, want the public poll and 4 entries withheld", len(public.Polls), len(public.Withheld))
		}
		for _, wh := range public.Withheld {
			if wh.Poll != q.ID || wh.Item != q.Item {
				t.Errorf("withheld: %+v, want entries of poll %d", wh, q.ID)
			}
		}
		names := map[int64]string{}
		for _, m := range full.Members {
			names[m.User] = m.Name
		}
		if names[w.clerk.UserID] != "Clara Clerk" || names[w.m3.UserID] != "Max Member" {
			t.Errorf("members named: %v", names)
		}

		// A changed vote: the clerk's record of Max Member's vote says against.
		tampered, _ := voting.ParseRecord(mustJSON(t, full))
		rb := &tampered.Polls[0].Ballots[3]
		b, _ := voting.ParseBallot(rb.Bytes)
		b.Choice = "against"
		rb.Bytes, _ = b.MarshalBinary()
		rb.Choice = "against"
		if problems := voting.VerifyRecord(tampered, vkey); len(problems) == 0 {
			t.Errorf("a changed vote verifies")
		}
		// A withheld entry changed.
		tampered, _ = voting.ParseRecord(mustJSON(t, public))
		tampered.Withheld[1].Hash[0] ^= 1
		if problems := voting.VerifyRecord(tampered, vkey); len(problems) == 0 {
			t.Errorf("a changed withheld entry verifies")
		}

		// Receipts check against the published checkpoint's log: the record extends them.
		cp, err := w.svc.Checkpoint(w.ctx, f.meeting.ID)
		w.must(err)
		head, err := voting.OpenCheckpoint(cp, vkey)
		w.must(err)
		proof, err := w.svc.ConsistencyProof(w.ctx, f.meeting.ID, 3, head.Size)
		w.must(err)
		origin, err := w.svc.Origin(w.ctx, f.meeting.ID)
		w.must(err)
		leaves, err := voting.NewLog(origin, w.store.Log(f.meeting.ID)).TreeHead(w.ctx, 3)
		w.must(err)
		if err := voting.VerifyConsistency(leaves, head, proof); err != nil {
			t.Errorf("consistency proof: %v", err)
		}
		if _, err := w.svc.Record(w.ctx, agenda.Anyone, 99999); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("record of a meeting without polls: got %v, want ErrNotFound", err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestServiceProgressThrottled casts ballots in a burst and checks that progress goes
// out throttled: the first ballot schedules one event at once, those that follow
// before it goes out schedule nothing more, and the event reports every ballot taken
// by then; a ballot soon after waits out the rest of the interval. The clock and the
// timer are the test's own, so nothing depends on how fast the machine is.
func TestServiceProgressThrottled(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		pub := &publisher{agenda: w.agenda, store: w.store}
		var mu sync.Mutex // guards timers
		type timer struct {
			after time.Duration
			fire  func()
		}
		var timers []timer
		scheduled := func() []timer {
			mu.Lock()
			defer mu.Unlock()
			out := timers
			timers = nil
			return out
		}
		const every = 200 * time.Millisecond
		svc := voting.NewService(w.store, w.agenda, voting.Options{Publisher: pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "chamber.example.gov.uk", ProgressEvery: every, AfterFunc: func(d time.Duration, f func()) {
				mu.Lock()
				defer mu.Unlock()
				timers = append(timers, timer{d, f})
			}})
		_, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2)
		cast := func(a agenda.Actor) {
			t.Helper()
			if _, err := svc.Cast(w.ctx, a, w.ballot(p, a, "for")); err != nil {
				t.Fatal(err)
			}
		}
		progress := func() []voting.Progress {
			t.Helper()
			var out []voting.Progress
			for _, e := range pub.take() {
				if e.Type != voting.EventPollProgress || e.Seq != 0 {
					t.Errorf("event %s with seq %d", e.Type, e.Seq)
					continue
				}
				var pr voting.Progress
				w.must(json.Unmarshal(e.Data, &pr))
				out = append(out, pr)
			}
			return out
		}

		for _, a := range []agenda.Actor{w.chair, w.vice, w.m1} {
			cast(a)
		}
		got := scheduled()
		if len(got) != 1 || got[0].after != 0 {
			t.Fatalf("after a burst of 3 ballots: %d timers (%v), want one, at once", len(got), got)
		}
		if evs := progress(); len(evs) != 0 {
			t.Fatalf("progress before its timer fired: %+v", evs)
		}
		got[0].fire()
		if evs := progress(); len(evs) != 1 || evs[0].Voted != 3 {
			t.Fatalf("progress when the timer fired: %+v, want one event counting 3", evs)
		}

		// A ballot 50ms later waits out the rest of the interval.
		w.clock.Advance(50 * time.Millisecond)
		cast(w.m2)
		got = scheduled()
		if len(got) != 1 || got[0].after != every-50*time.Millisecond {
			t.Fatalf("a ballot 50ms after the last event: timers %v, want one after %s", got, every-50*time.Millisecond)
		}
		w.clock.Advance(every)
		got[0].fire()
		if evs := progress(); len(evs) != 1 || evs[0].Voted != 4 {
			t.Fatalf("progress after the interval: %+v, want one event counting 4", evs)
		}
		if got := scheduled(); len(got) != 0 {
			t.Fatalf("timers with nothing new: %v", got)
		}
	})
}

// TestServiceCloseDuringBurst closes a poll while ballots arrive: every ballot
// acknowledged is counted at the close, every other is refused as too late, and the
// record verifies.
func TestServiceCloseDuringBurst(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		voters := []agenda.Actor{w.chair, w.vice, w.m1, w.m2, w.m3, w.m4}
		f, p := w.pollIn("england", voters...)
		const rounds = 5
		var ballots [][]voting.SignedBallot
		for r := range rounds {
			var round []voting.SignedBallot
			for _, v := range voters {
				round = append(round, w.ballot(p, v, voting.DefaultOptions()[r%3]))
			}
			ballots = append(ballots, round)
		}
		var mu sync.Mutex // guards acked, late
		acked, late := 0, 0
		var wg sync.WaitGroup
		for i, v := range voters {
			wg.Go(func() {
				for r := range rounds {
					_, err := w.svc.Cast(w.ctx, v, ballots[r][i])
					mu.Lock()
					switch {
					case err == nil:
						acked++
					case errors.Is(err, voting.ErrPollClosed):
						late++
					default:
						t.Errorf("ballot: %v", err)
					}
					mu.Unlock()
				}
			})
		}
		closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		wg.Wait()
		w.must(err)
		if closed.Closing.Ballots != acked || acked+late != rounds*len(voters) {
			t.Errorf("closing counts %d ballots; %d were acknowledged, %d refused as late", closed.Closing.Ballots, acked, late)
		}
		rec, err := w.svc.Record(w.ctx, w.clerk, f.meeting.ID)
		w.must(err)
		if problems := voting.VerifyRecord(rec); len(problems) != 0 {
			t.Errorf("record: %v", problems)
		}
	})
}

// TestServiceRemote checks that remote members count and vote where the rules say so:
// in Wales their votes are counted and they make the quorum; in England they do
// neither.
func TestServiceRemote(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		for _, tc := range []struct {
			profile     string
			mode        agenda.AttendanceMode
			wantPresent int
			wantErr     error
			wantOutcome voting.Outcome
		}{
			{"wales", agenda.RemoteVoting, 5, nil, voting.OutcomeCarried},
			{"england", agenda.RemoteNonVoting, 3, voting.ErrNotEligible, voting.OutcomeLost},
		} {
			t.Run(tc.profile, func(t *testing.T) {
				w.t = t
				f := w.meeting(tc.profile)
				f.arrive(agenda.InRoom, w.chair, w.vice, w.m1)
				f.arrive(tc.mode, w.m2, w.m3)
				f.take(standardItem)
				p := f.open(f.input(standardItem))
				if p.PresentAtOpen != tc.wantPresent {
					t.Errorf("present at the opening: got %d, want %d", p.PresentAtOpen, tc.wantPresent)
				}
				w.vote(p, w.chair, "against")
				for _, a := range []agenda.Actor{w.m2, w.m3} {
					if _, err := w.svc.Cast(w.ctx, a, w.ballot(p, a, "for")); !is(err, tc.wantErr) {
						t.Errorf("remote ballot: got %v, want %v", err, tc.wantErr)
					}
				}
				closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
				w.must(err)
				if closed.Result.Outcome != tc.wantOutcome {
					t.Errorf("outcome: got %s, want %s", closed.Result.Outcome, tc.wantOutcome)
				}
			})
		}
	})
}

// decider is a MotionDecider that remembers what it was told.
type decider struct {
	mu        sync.Mutex // guards decisions
	decisions []string
}

func (d *decider) DecideMotion(_ context.Context, actor agenda.Actor, meetingID, motionID int64, carried bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.decisions = append(d.decisions, fmt.Sprintf("meeting %d motion %d carried %v by %d", meetingID, motionID, carried, actor.UserID))
	return nil
}

// TestServiceMotion checks polls on motions: the motion must be one of the item's,
// and its outcome is passed on once decided.
func TestServiceMotion(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		d := &decider{}
		svc := voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "chamber.example.gov.uk", ProgressEvery: -1, MotionDecider: d})
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
		f.take(standardItem)
		motion := func(item int) agenda.Motion {
			mo, err := w.agenda.ProposeMotion(w.ctx, w.clerk, f.meeting.ID, agenda.MotionInput{ItemID: f.items[item].ID,
				Text: "That the minutes be approved", ProposerID: w.m1.UserID, SeconderID: w.m2.UserID})
			w.must(err)
			return mo
		}
		elsewhere := motion(planningItem)
		in := f.input(standardItem)
		in.MotionID = elsewhere.ID
		if _, err := svc.OpenPoll(w.ctx, w.clerk, in); !errors.Is(err, voting.ErrInvalidPoll) {
			t.Errorf("a poll on another item's motion: got %v, want ErrInvalidPoll", err)
		}
		in.MotionID = 99999
		if _, err := svc.OpenPoll(w.ctx, w.clerk, in); !errors.Is(err, voting.ErrInvalidPoll) {
			t.Errorf("a poll on no motion: got %v, want ErrInvalidPoll", err)
		}
		mo := motion(standardItem)
		in.MotionID = mo.ID
		p, err := svc.OpenPoll(w.ctx, w.clerk, in)
		w.must(err)
		if p.Question != mo.Text {
			t.Errorf("a poll on a motion, with no question given, asks %q; want the motion's text %q", p.Question, mo.Text)
		}
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "against")
		if _, err := svc.Close(w.ctx, w.chair, p.ID); err != nil {
			t.Fatal(err)
		}
		if len(d.decisions) != 0 {
			t.Errorf("decided on a tie: %v", d.decisions)
		}
		if _, err := svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting)); err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprintf("meeting %d motion %d carried true by %d", f.meeting.ID, mo.ID, w.chair.UserID)}
		if !slices.Equal(d.decisions, want) {
			t.Errorf("decisions: got %q, want %q", d.decisions, want)
		}
	})
}

// TestServiceAgendaGuards: the agenda does not pull the ground from under a vote. While a
// poll is undecided the meeting cannot move on, adjourn or close; an item voted on stays
// taken; and a poll on a motion decides it through the agenda itself.
func TestServiceAgendaGuards(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		svc := voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "chamber.example.gov.uk", ProgressEvery: -1, MotionDecider: w.agenda})
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
		f.take(planningItem)
		f.take(standardItem)
		id := f.meeting.ID
		mo, err := w.agenda.ProposeMotion(w.ctx, w.clerk, id, agenda.MotionInput{ItemID: f.items[standardItem].ID,
			Text: "That the report be noted", ProposerID: w.m1.UserID, SeconderID: w.m2.UserID})
		w.must(err)
		in := f.input(standardItem)
		in.MotionID = mo.ID
		p, err := svc.OpenPoll(w.ctx, w.clerk, in)
		w.must(err)

		refused := map[string]func() error{
			"next":     func() error { _, err := w.agenda.NextItem(w.ctx, w.clerk, id); return err },
			"previous": func() error { _, err := w.agenda.PreviousItem(w.ctx, w.clerk, id); return err },
			"current": func() error {
				_, err := w.agenda.SetCurrentItem(w.ctx, w.clerk, id, f.items[planningItem].ID)
				return err
			},
			"adjourn": func() error { _, err := w.agenda.AdjournMeeting(w.ctx, w.clerk, id); return err },
			"close":   func() error { _, err := w.agenda.CloseMeeting(w.ctx, w.clerk, id); return err },
		}
		for name, f := range refused {
			if err := f(); !errors.Is(err, agenda.ErrConflict) {
				t.Errorf("%s while a vote is open: got %v, want ErrConflict", name, err)
			}
		}
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "for")
		w.vote(p, w.chair, "against")
		if _, err := svc.Close(w.ctx, w.chair, p.ID); err != nil {
			t.Fatal(err)
		}
		motions, err := w.agenda.ListMotions(w.ctx, w.clerk, id)
		w.must(err)
		if len(motions) != 1 || motions[0].Status != agenda.Carried {
			t.Errorf("motion after the vote: got %+v, want carried", motions)
		}
		// The item voted on cannot go back to pending.
		if _, err := w.agenda.PreviousItem(w.ctx, w.clerk, id); !errors.Is(err, agenda.ErrConflict) || !strings.Contains(err.Error(), "voted on") {
			t.Errorf("undoing the item that was voted on: got %v, want a conflict saying it was voted on", err)
		}
		if _, err := w.agenda.CloseMeeting(w.ctx, w.clerk, id); err != nil {
			t.Errorf("close once the vote is decided: %v", err)
		}
	})
}

// TestServiceBallotsSeeTheRollChange checks that ballots, which are checked against a
// roll read once for many of them, see each change to it at once: a member who votes
// and then leaves, or declares an interest that bars them, is refused the next time,
// and one who arrived after the poll opened is still refused after others have voted.
func TestServiceBallotsSeeTheRollChange(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f, p := w.pollIn("england", w.chair, w.vice, w.m1, w.m2)
		for _, a := range []agenda.Actor{w.chair, w.vice, w.m1, w.m2} {
			w.vote(p, a, "for") // the roll is read, and kept
		}
		w.clock.Advance(time.Second)
		f.arrive(agenda.InRoom, w.m3)
		f.leave(w.m1)
		f.declare(w.m2, standardItem, agenda.Pecuniary, false, "")
		w.vote(p, w.vice, "against")
		for _, tc := range []struct {
			who  agenda.Actor
			want voting.Reason
		}{{w.m1, voting.ReasonAbsent}, {w.m2, voting.ReasonInterest}, {w.m3, voting.ReasonNotAtOpening}} {
			_, err := w.svc.Cast(w.ctx, tc.who, w.ballot(p, tc.who, "against"))
			var ie *voting.IneligibleError
			if !errors.As(err, &ie) || ie.Reason != tc.want {
				t.Errorf("user %d after the roll changed: got %v, want %s", tc.who.UserID, err, tc.want)
			}
		}
		w.vote(p, w.chair, "against")
	})
}
