package voting_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/voting"
)

// TestServiceDeclineCasting follows a tie on a motion whose casting vote does not
// come, under the profiles that give one: the member presiding (the chair, or a
// member named to preside), the vice-chair or a clerk records why; the motion is lost, the equality
// standing; the result is journaled and published, the motion decided through the
// agenda, and the meeting may move on. Nothing can be given or declared afterwards,
// and the record proves it all.
func TestServiceDeclineCasting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile string
		// presiding names the member presiding (0: the chair).
		presiding func(w *world) agenda.Actor
		// by declares that no casting vote will come.
		by func(w *world) agenda.Actor
	}{
		{profile: "england", presiding: func(w *world) agenda.Actor { return w.chair }, by: func(w *world) agenda.Actor { return w.chair }},
		{profile: "england", presiding: func(w *world) agenda.Actor { return w.chair }, by: func(w *world) agenda.Actor { return w.clerk }},
		{profile: "wales", presiding: func(w *world) agenda.Actor { return w.m1 }, by: func(w *world) agenda.Actor { return w.m1 }},
		{profile: "wales", presiding: func(w *world) agenda.Actor { return w.chair }, by: func(w *world) agenda.Actor { return w.vice }},
	}
	eachWorld(t, func(t *testing.T, w *world) {
		svc := voting.NewService(w.store, w.agenda, voting.Options{Publisher: w.pub, Now: w.clock.Now, LogKey: w.logKey,
			Origin: "chamber.example.gov.uk", ProgressEvery: -1, MotionDecider: w.agenda})
		for _, tc := range tests {
			presiding, by := tc.presiding(w), tc.by(w)
			t.Run(tc.profile+" declared by "+by.Name, func(t *testing.T) {
				w.t = t
				f := w.meeting(tc.profile)
				f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3, w.m4)
				f.take(standardItem)
				mo, err := w.agenda.ProposeMotion(w.ctx, w.clerk, f.meeting.ID, agenda.MotionInput{ItemID: f.items[standardItem].ID,
					Text: "That the licence be granted", ProposerID: w.m1.UserID, SeconderID: w.m2.UserID})
				w.must(err)
				in := f.input(standardItem)
				in.MotionID, in.Recorded, in.Presiding = mo.ID, true, presiding.UserID
				p, err := svc.OpenPoll(w.ctx, w.clerk, in)
				w.must(err)
				if p.Presiding != presiding.UserID {
					t.Fatalf("presiding: got %d, want %d", p.Presiding, presiding.UserID)
				}
				if _, err := svc.DeclineCasting(w.ctx, w.clerk, p.ID, "The chair has left."); !errors.Is(err, voting.ErrPollOpen) {
					t.Errorf("declared while the poll is open: got %v, want ErrPollOpen", err)
				}
				for i, a := range []agenda.Actor{w.chair, w.vice, w.m1, w.m2} {
					w.clock.Advance(time.Second)
					w.vote(p, a, []string{"for", "against"}[i%2])
				}
				w.vote(p, w.m3, "abstain")
				closed, err := svc.Close(w.ctx, w.clerk, p.ID)
				w.must(err)
				if closed.Status != voting.PollAwaitingCastingVote {
					t.Fatalf("closed: status %q, want awaiting the casting vote", closed.Status)
				}
				if _, err := w.agenda.NextItem(w.ctx, w.clerk, f.meeting.ID); !errors.Is(err, agenda.ErrConflict) {
					t.Errorf("next item while the casting vote is awaited: got %v, want ErrConflict", err)
				}

				// Refusals: nothing is written.
				other := w.m2
				if presiding.UserID == w.m2.UserID {
					other = w.m3
				}
				for name, tc := range map[string]struct {
					actor  agenda.Actor
					reason string
					want   error
				}{
					"a member not presiding":       {other, "The chair has left.", voting.ErrForbidden},
					"a councillor on no committee": {w.outsider, "The chair has left.", voting.ErrForbidden},
					"another council's clerk":      {w.otherClerk, "The chair has left.", voting.ErrForbidden},
					"the public":                   {agenda.Anyone, "The chair has left.", voting.ErrUnauthenticated},
					"no reason":                    {by, "  ", agenda.ErrInvalid},
					"a reason too long":            {by, strings.Repeat("ŵ", voting.MaxDeclineReason+1), voting.ErrMalformed},
				} {
					if _, err := svc.DeclineCasting(w.ctx, tc.actor, p.ID, tc.reason); !errors.Is(err, tc.want) {
						t.Errorf("%s: got %v, want %v", name, err, tc.want)
					}
				}
				if got := w.poll(p.ID); got.Status != voting.PollAwaitingCastingVote || got.Declined != nil {
					t.Fatalf("after the refusals: status %q, declared %+v", got.Status, got.Declined)
				}

				before := f.lastSeq()
				w.pub.take()
				w.clock.Advance(time.Minute)
				declared, err := svc.DeclineCasting(w.ctx, by, p.ID, "  The chair left the meeting after the vote.  ")
				if err != nil {
					t.Fatalf("DeclineCasting: %v", err)
				}
				wantEq := voting.Equality{Options: []string{voting.OptionFor, voting.OptionAgainst}, Resolution: voting.CastingVoteNotGiven}
				res := declared.Result
				if declared.Status != voting.PollClosed || res == nil || res.Outcome != voting.OutcomeLost || res.Equality == nil ||
					!slices.Equal(res.Equality.Options, wantEq.Options) || res.Equality.Resolution != wantEq.Resolution || res.CastingVote != "" {
					t.Fatalf("declared: status %q result %+v, want closed and lost, the equality standing", declared.Status, res)
				}
				d := declared.Declined
				if d == nil || d.DeclaredBy != by.UserID || d.Presiding != presiding.UserID || d.Reason != "The chair left the meeting after the vote." ||
					!d.DeclaredAt.Equal(w.clock.Now()) {
					t.Errorf("declaration: got %+v", d)
				}
				if got := w.poll(p.ID); got.Status != voting.PollClosed || got.Declined == nil || got.Result == nil || got.Result.Outcome != voting.OutcomeLost {
					t.Errorf("the poll as stored: status %q declared %+v result %+v", got.Status, got.Declined, got.Result)
				}

				// Journaled and published, once.
				published := w.pub.take()
				if got := eventTypes(published); !slices.Equal(got, []string{voting.EventPollResult}) {
					t.Fatalf("published: got %v, want one %s", got, voting.EventPollResult)
				}
				journal, err := w.agenda.JournalAfter(w.ctx, f.meeting.ID, before)
				w.must(err)
				var types []string
				for _, e := range journal {
					types = append(types, e.Type)
				}
				if !slices.Contains(types, voting.EventPollResult) || published[0].Seq <= before || published[0].Actor != by.UserID {
					t.Errorf("journal after the declaration: %v; published seq %d by %d", types, published[0].Seq, published[0].Actor)
				}
				var view voting.PollView
				w.must(json.Unmarshal(published[0].Data, &view))
				if view.Result == nil || view.Result.Equality == nil || view.Result.Equality.Resolution != voting.CastingVoteNotGiven || view.Declined == nil {
					t.Errorf("poll.result data: %+v", view)
				}

				// The motion is lost, and the meeting moves on.
				motions, err := w.agenda.ListMotions(w.ctx, w.clerk, f.meeting.ID)
				w.must(err)
				if len(motions) != 1 || motions[0].Status != agenda.Lost {
					t.Errorf("motion: got %+v, want lost", motions)
				}
				if _, err := w.agenda.NextItem(w.ctx, w.clerk, f.meeting.ID); err != nil {
					t.Errorf("next item once the poll is decided: %v", err)
				}

				// Nothing more: no casting vote, no second declaration.
				if _, err := svc.CastCasting(w.ctx, presiding, w.ballot(p, presiding, "for", casting)); !errors.Is(err, voting.ErrPollClosed) {
					t.Errorf("a casting vote afterwards: got %v, want ErrPollClosed", err)
				}
				if _, err := svc.DeclineCasting(w.ctx, by, p.ID, "Again."); !errors.Is(err, voting.ErrPollClosed) {
					t.Errorf("a second declaration: got %v, want ErrPollClosed", err)
				}

				// The record proves it, and what is not so does not verify.
				vkey, err := svc.VerifierKey(w.ctx, f.meeting.ID)
				w.must(err)
				rec, err := svc.Record(w.ctx, w.clerk, f.meeting.ID)
				w.must(err)
				rp := rec.Polls[0]
				if rp.Declined == nil || rp.DeclinedLog == nil || rp.Result == nil || rp.Result.Equality.Resolution != voting.CastingVoteNotGiven {
					t.Fatalf("record: declared %+v at %+v, result %+v", rp.Declined, rp.DeclinedLog, rp.Result)
				}
				if problems := voting.VerifyRecord(rec, vkey); len(problems) != 0 {
					t.Errorf("the record does not verify: %v", problems)
				}
				names := map[int64]bool{}
				for _, m := range rec.Members {
					names[m.User] = m.Name != ""
				}
				if !names[by.UserID] {
					t.Errorf("the record does not name who declared it (user %d): %+v", by.UserID, rec.Members)
				}
				for name, edit := range map[string]func(r *voting.Record){
					"resolution changed to the casting vote": func(r *voting.Record) {
						r.Polls[0].Result.Equality.Resolution = voting.ResolvedByCastingVote
					},
					"outcome changed to carried":      func(r *voting.Record) { r.Polls[0].Result.Outcome = voting.OutcomeCarried },
					"the declaration's entry removed": func(r *voting.Record) { r.Polls[0].Declined, r.Polls[0].DeclinedLog = nil, nil },
				} {
					tampered, err := voting.ParseRecord(mustJSON(t, rec))
					w.must(err)
					edit(tampered)
					if problems := voting.VerifyRecord(tampered, vkey); len(problems) == 0 {
						t.Errorf("%s: the record verifies", name)
					}
				}
			})
		}
	})
}

// TestServiceDeclineCastingRefused checks declarations where no casting vote is
// awaited: rules that give none, a poll decided at its close, and a plurality
// decided by the casting vote.
func TestServiceDeclineCastingRefused(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		// France: the president's own vote prevails; there is no casting vote to decline.
		_, p := w.pollIn("france", w.chair, w.vice, w.m1, w.m2)
		w.vote(p, w.m1, "for")
		w.vote(p, w.m2, "against")
		_, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		if _, err := w.svc.DeclineCasting(w.ctx, w.clerk, p.ID, "The president has left."); !errors.Is(err, voting.ErrNoCastingVote) {
			t.Errorf("under the rules of France: got %v, want ErrNoCastingVote", err)
		}

		// England: a poll carried at its close has no equality.
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2)
		f.take(standardItem)
		p = f.open(f.input(standardItem))
		w.vote(p, w.m1, "for")
		_, err = w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		if _, err := w.svc.DeclineCasting(w.ctx, w.clerk, p.ID, "The chair has left."); !errors.Is(err, voting.ErrNoTie) {
			t.Errorf("a poll carried at its close: got %v, want ErrNoTie", err)
		}

		// A plurality tied, then decided by the casting vote.
		f.take(planningItem)
		in := f.input(planningItem)
		in.Method, in.Options = voting.Plurality, []string{"alpha", "beta", voting.OptionAbstain}
		p = f.open(in)
		w.vote(p, w.m1, "alpha")
		w.vote(p, w.m2, "beta")
		_, err = w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		_, err = w.svc.CastCasting(w.ctx, w.chair, w.ballot(p, w.chair, "beta", casting))
		w.must(err)
		if _, err := w.svc.DeclineCasting(w.ctx, w.chair, p.ID, "Changed my mind."); !errors.Is(err, voting.ErrPollClosed) {
			t.Errorf("after the casting vote: got %v, want ErrPollClosed", err)
		}
		if _, err := w.svc.DeclineCasting(w.ctx, w.clerk, 99999, "No such poll."); !errors.Is(err, voting.ErrNotFound) {
			t.Errorf("no such poll: got %v, want ErrNotFound", err)
		}
	})
}

// TestServiceDeclineCastingPlurality: a plurality tied whose casting vote does not
// come chooses nothing.
func TestServiceDeclineCastingPlurality(t *testing.T) {
	t.Parallel()
	eachWorld(t, func(t *testing.T, w *world) {
		f := w.meeting("england")
		f.arrive(agenda.InRoom, w.chair, w.vice, w.m1, w.m2, w.m3)
		f.take(standardItem)
		in := f.input(standardItem)
		in.Method, in.Options = voting.Plurality, []string{"alpha", "beta", "gamma"}
		p := f.open(in)
		w.vote(p, w.m1, "alpha")
		w.vote(p, w.m2, "beta")
		w.vote(p, w.m3, "gamma")
		_, err := w.svc.Close(w.ctx, w.clerk, p.ID)
		w.must(err)
		got, err := w.svc.DeclineCasting(w.ctx, w.clerk, p.ID, "The chair declines to choose.")
		w.must(err)
		if r := got.Result; r == nil || r.Outcome != voting.OutcomeUndecided || r.Winner != "" || r.Equality == nil ||
			len(r.Equality.Options) != 3 || r.Equality.Resolution != voting.CastingVoteNotGiven {
			t.Errorf("result: %+v, want undecided, the three-way equality standing", r)
		}
		rec, err := w.svc.Record(w.ctx, w.clerk, f.meeting.ID)
		w.must(err)
		if problems := voting.VerifyRecord(rec); len(problems) != 0 {
			t.Errorf("the record does not verify: %v", problems)
		}
	})
}
