package voting_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// count returns the clerk's signed count of hands in poll p: for, against, abstain.
func (w *world) count(p voting.PollView, by agenda.Actor, hands ...int) voting.SignedCount {
	w.t.Helper()
	w.nonces++
	c := voting.Count{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, Recorder: by.UserID, CountedAt: w.clock.Now(),
		Challenge: p.Challenge, Nonce: sha256.Sum256([]byte(fmt.Sprint("nonce ", w.nonces)))}
	for i, o := range p.Options {
		n := 0
		if i < len(hands) {
			n = hands[i]
		}
		c.Counts = append(c.Counts, voting.OptionCount{Option: o, Count: n})
	}
	sc, err := voting.SignCount(c, w.privs[by.UserID])
	w.must(err)
	return sc
}

// TestRoomCount follows a show of hands counted by the clerk beside ballots cast on
// devices: what is refused, how the count and the ballots add up, a recount, the
// record (which verifies, and does not once a count in it is changed) and the
// refusals kept for the clerk.
func TestRoomCount(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.m1, w.m2, w.m3, w.m4) // five eligible
		f.take(standardItem)
		p := f.open(f.input(standardItem))
		w.vote(p, w.m1, "for")

		refused := []struct {
			name string
			by   agenda.Actor
			sc   voting.SignedCount
			want error
		}{
			{"more hands than members who have not voted", w.clerk, w.count(p, w.clerk, 3, 1, 1), voting.ErrOverCount},
			{"by the chair", w.chair, w.count(p, w.chair, 1, 1, 0), voting.ErrForbidden},
			{"signed for another", w.clerk, w.count(p, w.otherClerk, 1, 1, 0), voting.ErrForbidden},
			{"another poll's challenge", w.clerk, func() voting.SignedCount {
				q := p
				q.Challenge[0] ^= 1
				return w.count(q, w.clerk, 1, 1, 0)
			}(), voting.ErrWrongPoll},
			{"options out of order", w.clerk, func() voting.SignedCount {
				q := p
				q.Options = []string{"against", "for", "abstain"}
				return w.count(q, w.clerk, 1, 1, 0)
			}(), voting.ErrInvalidChoice},
		}
		for _, tc := range refused {
			if _, _, err := w.svc.RecordCount(w.ctx, tc.by, tc.sc); !errors.Is(err, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
			}
		}

		first := w.count(p, w.clerk, 2, 1, 0)
		r1, fresh, err := w.svc.RecordCount(w.ctx, w.clerk, first)
		if err != nil || !fresh {
			t.Fatalf("RecordCount: %v (fresh %v)", err, fresh)
		}
		again, fresh, err := w.svc.RecordCount(w.ctx, w.clerk, first)
		if err != nil || fresh || again.Index != r1.Index || again.Checkpoint != r1.Checkpoint {
			t.Errorf("the same count again: %+v, fresh %v, %v; first %+v", again, fresh, err, r1)
		}
		vkey, err := w.svc.VerifierKey(w.ctx, f.meeting.ID)
		w.must(err)
		leaf, err := voting.EncodeCountEntry(first)
		w.must(err)
		if _, err := voting.VerifyReceipt(r1, leaf, vkey); err != nil {
			t.Errorf("the count's receipt: %v", err)
		}

		// One of five has voted on a device and three hands are counted: one more
		// member may vote on a device, not two.
		w.vote(p, w.m2, "against")
		if _, err := w.svc.Cast(w.ctx, w.m3, w.ballot(p, w.m3, "for")); !errors.Is(err, voting.ErrOverCount) {
			t.Errorf("a ballot beyond the count: got %v, want ErrOverCount", err)
		}
		w.vote(p, w.m1, "against") // a changed vote is taken as ever
		pr, err := w.svc.Progress(w.ctx, w.clerk, p.ID)
		w.must(err)
		if pr.CountedInRoom != 3 || pr.Voted != 2 || pr.NotVoted != 0 {
			t.Errorf("progress %+v", pr)
		}

		// A recount of the three who had not voted on a device replaces the first.
		w.clock.Advance(time.Second)
		if _, _, err := w.svc.RecordCount(w.ctx, w.clerk, w.count(p, w.clerk, 3, 1, 0)); !errors.Is(err, voting.ErrOverCount) {
			t.Errorf("a recount of more than remain: got %v, want ErrOverCount", err)
		}
		if _, _, err := w.svc.RecordCount(w.ctx, w.clerk, w.count(p, w.clerk, 2, 0, 1)); err != nil {
			t.Fatalf("recount: %v", err)
		}
		closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		// Ballots: m1 against (changed), m2 against; hands: 2 for, 1 abstain.
		want := []voting.OptionCount{{Option: "for", Count: 2}, {Option: "against", Count: 2}, {Option: "abstain", Count: 1}}
		if c := closed.Closing; c == nil || !slices.Equal(c.Counts, want) || c.Ballots != 3 || c.Outcome != voting.OutcomeTied ||
			closed.Status != voting.PollAwaitingCastingVote {
			t.Fatalf("closed %+v, status %s: want an equality awaiting the casting vote", closed.Closing, closed.Status)
		}
		if _, err := w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "for", casting)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.svc.RecordCount(w.ctx, w.clerk, w.count(p, w.clerk, 1, 0, 0)); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("a count after the close: got %v, want ErrPollClosed", err)
		}
		res := w.poll(p.ID).Result
		if res == nil || !slices.Equal(res.Counts, want) || res.VotesCast != 4 || res.Abstentions != 1 || res.NotVoting != 0 ||
			res.Ballots != 3 || !slices.Equal(res.Counted, []voting.OptionCount{{Option: "for", Count: 2}, {Option: "against", Count: 0}, {Option: "abstain", Count: 1}}) {
			t.Fatalf("result %+v", res)
		}
		if res.Outcome != voting.OutcomeCarried || res.Equality == nil || res.Equality.Resolution != voting.ResolvedByCastingVote {
			t.Errorf("decided %s, equality %+v", res.Outcome, res.Equality)
		}

		// A recorded vote takes no count.
		named := f.input(standardItem)
		named.Recorded = true
		q := f.open(named)
		if _, _, err := w.svc.RecordCount(w.ctx, w.clerk, w.count(q, w.clerk, 1, 0, 0)); !errors.Is(err, voting.ErrNamedVote) {
			t.Errorf("a count in a recorded vote: got %v, want ErrNamedVote", err)
		}

		rec, err := w.svc.Record(w.ctx, w.clerk, f.meeting.ID)
		w.must(err)
		if problems := voting.VerifyRecord(rec, vkey); len(problems) > 0 {
			t.Fatalf("record: %v", problems)
		}
		if n := len(rec.Polls[0].Counts); n != 2 || rec.Polls[0].Counts[1].Hands[0].Count != 2 {
			t.Errorf("the record's counts %+v", rec.Polls[0].Counts)
		}
		changed := *rec
		changed.Polls = slices.Clone(rec.Polls)
		rp := &changed.Polls[0]
		rp.Counts = slices.Clone(rp.Counts)
		rp.Counts[1].Hands = []voting.OptionCount{{Option: "for", Count: 3}, {Option: "against", Count: 0}, {Option: "abstain", Count: 0}}
		if problems := voting.VerifyRecord(&changed, vkey); len(problems) == 0 {
			t.Errorf("a record with a changed count verifies")
		}
		rp.Counts[1].Hands = rec.Polls[0].Counts[1].Hands
		bytes := slices.Clone(rp.Counts[1].Bytes)
		bytes[len(bytes)-13]++ // one more against, in the signed bytes
		rp.Counts[1].SignedCount.Bytes = bytes
		problems := voting.VerifyRecord(&changed, vkey)
		if !slices.ContainsFunc(problems, func(p voting.Problem) bool { return p.Kind == voting.ProblemSignature }) {
			t.Errorf("a record with a changed signed count: problems %v, want a signature problem", problems)
		}

		got := w.refusals(p.ID)
		for _, reason := range []string{"over_count", "forbidden", "wrong_poll", "invalid_choice", "poll_closed"} { // forbidden: the chair's count
			if !slices.Contains(got, reason) {
				t.Errorf("refusals kept %v lack %q", got, reason)
			}
		}
		if got := w.refusals(q.ID); !slices.Equal(got, []string{"named_vote"}) {
			t.Errorf("refusals in the recorded vote %v", got)
		}
	})
}

// TestRefusalsKept checks that every refused ballot naming a poll is kept with who
// sent it, the member it named, the reason and the time, and that the chair and the
// clerk, and nobody else, may read them.
func TestRefusalsKept(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		_, p := w.pollIn("england", w.chair, w.m1, w.m2, w.m3)
		w.clock.Advance(time.Second)
		tries := []struct {
			by   agenda.Actor
			sb   voting.SignedBallot
			want string
		}{
			{w.m4, w.ballot(p, w.m4, "for"), "not_eligible: absent"},
			{w.outsider, w.ballot(p, w.outsider, "for"), "not_eligible: not_member"},
			{w.m1, w.ballot(p, w.m1, "maybe"), "invalid_choice"},
		}
		for _, tc := range tries {
			if _, err := w.svc.Cast(w.ctx, tc.by, tc.sb); err == nil {
				t.Fatalf("%s: taken", tc.want)
			}
		}
		// Another's ballot sent by a member is refused before its poll is read: it is
		// no one's vote, and is only logged.
		if _, err := w.svc.Cast(w.ctx, w.m1, w.ballot(p, w.m2, "for")); !errors.Is(err, voting.ErrForbidden) {
			t.Fatalf("another's ballot: got %v, want ErrForbidden", err)
		}
		refs, err := w.svc.Refusals(w.ctx, w.clerk, p.ID)
		w.must(err)
		if len(refs) != len(tries) {
			t.Fatalf("refusals %+v, want %d", refs, len(tries))
		}
		for i, r := range refs {
			tc := tries[i]
			b, _ := voting.ParseBallot(tc.sb.Bytes)
			if r.Reason != tc.want || r.By != tc.by.UserID || r.Voter != b.Voter || r.Poll != p.ID || r.Meeting != p.Meeting ||
				!r.At.Equal(w.clock.Now()) || r.Hash != tc.sb.Hash() {
				t.Errorf("refusal %d: %+v, want reason %q by %d of voter %d", i, r, tc.want, tc.by.UserID, b.Voter)
			}
		}
		if _, err := w.svc.Refusals(w.ctx, w.chair, p.ID); err != nil {
			t.Errorf("the chair reads refusals: %v", err)
		}
		for _, a := range []agenda.Actor{w.m1, w.otherClerk} {
			if _, err := w.svc.Refusals(w.ctx, a, p.ID); !errors.Is(err, voting.ErrForbidden) && !errors.Is(err, voting.ErrNotFound) {
				t.Errorf("user %d reads refusals: got %v, want ErrForbidden", a.UserID, err)
			}
		}
	})
}

// TestEqualityWithoutCastingVote checks, profile by profile, what an equality comes to
// where no casting vote decides it, and that the result and the record say why: a
// motion is not carried (LGA 1972 Sch. 12 para 39 gives only the casting vote to
// break an equality).
func TestEqualityWithoutCastingVote(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		tests := []struct {
			name    string
			profile string
			// presiding votes for this (or not at all when empty)
			presiding string
			chairAway bool
			outcome   voting.Outcome
			status    voting.PollStatus
			res       voting.Resolution
		}{
			{name: "england: the chair gives the casting vote", profile: "england",
				outcome: voting.OutcomeTied, status: voting.PollAwaitingCastingVote, res: voting.AwaitingCastingVote},
			{name: "england, the chair absent: the vice-chair gives it", profile: "england", chairAway: true,
				outcome: voting.OutcomeTied, status: voting.PollAwaitingCastingVote, res: voting.AwaitingCastingVote},
			{name: "france: the president abstains", profile: "france", presiding: "abstain",
				outcome: voting.OutcomeLost, status: voting.PollClosed, res: voting.PresidingVoteNotInEquality},
			{name: "france: the president does not vote", profile: "france",
				outcome: voting.OutcomeLost, status: voting.PollClosed, res: voting.PresidingVoteNotInEquality},
			{name: "wales without a casting vote in its rules", profile: "wales-no-casting",
				outcome: voting.OutcomeLost, status: voting.PollClosed, res: voting.NoCastingVoteInRules},
		}
		committees := map[string]agenda.Committee{}
		for k, v := range w.committees {
			committees[k] = v
		}
		cm, err := w.agenda.CreateCommittee(w.ctx, w.clerk, w.council.ID, agenda.CommitteeInput{Name: "Licensing Committee",
			Profile: "wales", Overrides: agenda.ProfileOverrides{CastingVote: new(false)}})
		w.must(err)
		for a, role := range map[*agenda.Actor]agenda.CommitteeRole{&w.chair: agenda.Chair, &w.vice: agenda.ViceChair,
			&w.m1: agenda.Member, &w.m2: agenda.Member, &w.m3: agenda.Member, &w.m4: agenda.Member} {
			_, err := w.agenda.SetMember(w.ctx, w.clerk, cm.ID, a.UserID, role)
			w.must(err)
		}
		w.committees["wales-no-casting"] = cm
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				f := w.meeting(tc.profile)
				presiding := w.chair
				if tc.chairAway {
					f.arrive(agenda.InRoom, w.vice, w.m1, w.m2, w.m3, w.m4)
					presiding = w.vice
				} else {
					f.arrive(agenda.InRoom, w.chair, w.m1, w.m2, w.m3, w.m4)
				}
				f.take(standardItem)
				p := f.open(f.input(standardItem))
				if p.Presiding != presiding.UserID {
					t.Fatalf("presiding %d, want %d", p.Presiding, presiding.UserID)
				}
				w.vote(p, w.m1, "for")
				w.vote(p, w.m2, "for")
				w.vote(p, w.m3, "against")
				w.vote(p, w.m4, "against")
				if tc.presiding != "" {
					w.vote(p, presiding, tc.presiding)
				}
				closed, err := w.svc.Close(w.ctx, w.clerk, p.ID)
				w.must(err)
				var res voting.Result
				switch {
				case closed.Status != tc.status:
					t.Fatalf("status %s, want %s", closed.Status, tc.status)
				case closed.Result != nil:
					res = *closed.Result
				default:
					// Awaiting the casting vote: the closing says so; give it.
					if closed.Closing.Outcome != tc.outcome {
						t.Errorf("closing outcome %s, want %s", closed.Closing.Outcome, tc.outcome)
					}
					if _, err := w.svc.CastCasting(w.ctx, presiding, w.ballot(p, presiding, "against", casting)); err != nil {
						t.Fatalf("casting vote: %v", err)
					}
					res = *w.poll(p.ID).Result
					tc.outcome, tc.res = voting.OutcomeLost, voting.ResolvedByCastingVote
				}
				if res.Outcome != tc.outcome || res.Equality == nil || res.Equality.Resolution != tc.res ||
					!slices.Equal(res.Equality.Options, []string{"for", "against"}) {
					t.Errorf("result %s, equality %+v: want %s, %s", res.Outcome, res.Equality, tc.outcome, tc.res)
				}
				rec, err := w.svc.Record(w.ctx, w.clerk, f.meeting.ID)
				w.must(err)
				if problems := voting.VerifyRecord(rec); len(problems) > 0 {
					t.Errorf("record: %v", problems)
				}
				if got := rec.Polls[0].Result; got == nil || got.Equality == nil || got.Equality.Resolution != tc.res {
					t.Errorf("the record's result %+v does not say why", got)
				}
				tampered := *rec
				tampered.Polls = slices.Clone(rec.Polls)
				r := *tampered.Polls[0].Result
				r.Equality = &voting.Equality{Options: r.Equality.Options, Resolution: voting.ResolvedByCastingVote}
				if tc.res == voting.ResolvedByCastingVote {
					r.Equality.Resolution = voting.NoCastingVoteInRules
				}
				tampered.Polls[0].Result = &r
				if problems := voting.VerifyRecord(&tampered); len(problems) == 0 {
					t.Errorf("a record that misstates the equality verifies")
				}
			})
		}
	})
}
