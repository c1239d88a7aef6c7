package voting

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
)

// DeclineCasting records that no casting vote will come in a poll that closed on an
// equality and awaits one: the member presiding has left the meeting, or declines to
// use it. Nothing else breaks an equality (LGA 1972 Sch. 12 para 39), so it stands: a
// motion is lost, a choice is not made, and the result says why
// (CastingVoteNotGiven). The member presiding, the chair or a clerk records it, with a
// reason that the log and the minutes keep. The declaration is logged and the result
// stored and journaled in one transaction, then published, and the outcome of a poll
// on a motion passed on.
//
// It is refused from anyone else (ErrForbidden), without a reason (an
// *agenda.ValidationError that also matches ErrMalformed), where the rules give no
// casting vote (ErrNoCastingVote), while the poll is open (ErrPollOpen), where it did
// not close on an equality (ErrNoTie), and once its result is declared
// (ErrPollClosed): after the casting vote, or after a first declaration. A casting
// vote that comes after it is refused (ErrPollClosed).
func (s *Service) DeclineCasting(ctx context.Context, actor agenda.Actor, pollID int64, reason string) (PollView, error) {
	if actor.Anonymous() || actor.UserID == 0 {
		return PollView{}, forbid(actor, "declare that no casting vote will come")
	}
	p, r, err := s.pollFor(ctx, actor, pollID)
	if err != nil {
		return PollView{}, err
	}
	presiding := p.Presiding != 0 && actor.UserID == p.Presiding
	if !presiding && !actor.CanRun(r.Meeting.CouncilID, r.Meeting.CommitteeID) {
		return PollView{}, forbid(actor, "declare that no casting vote will come in poll %d: only the member presiding, the chair or a clerk", pollID)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxDeclineReason {
		invalid := &agenda.ValidationError{Fields: []agenda.FieldError{{Field: "reason",
			Message: fmt.Sprintf("must say why no casting vote will come, in at most %d characters", MaxDeclineReason)}}}
		return PollView{}, fmt.Errorf("poll %d: %w: %w", pollID, invalid, ErrMalformed)
	}
	if err := awaitsCasting(&p); err != nil {
		return PollView{}, err
	}
	now := s.clock()
	priv := private(r)
	var view PollView
	_, events, err := s.store.DeclineCasting(ctx, pollID, func(p Poll, ballots []StoredBallot) (CastingDeclined, Result, []VoteEvent, error) {
		if err := awaitsCasting(&p); err != nil {
			return CastingDeclined{}, Result{}, nil, err
		}
		votes := make([]Vote, 0, len(ballots))
		for _, b := range ballots {
			if b.Ballot.Casting {
				return CastingDeclined{}, Result{}, nil, fmt.Errorf("poll %d has its casting vote: %w", p.ID, ErrPollClosed)
			}
			votes = append(votes, VoteOf(&b.Ballot))
		}
		d := CastingDeclined{Meeting: p.Meeting, Item: p.Item, Poll: p.ID, DeclaredAt: now, DeclaredBy: actor.UserID,
			Presiding: p.Presiding, Reason: reason}
		decided := p
		decided.Declined = &d
		res, err := TallyPoll(&decided, votes)
		if err != nil {
			return CastingDeclined{}, Result{}, nil, err
		}
		decided.Result = &res
		view = viewOf(decided, priv)
		ev, err := s.event(EventPollResult, p.Meeting, now, actor.UserID, priv, view)
		if err != nil {
			return CastingDeclined{}, Result{}, nil, err
		}
		return d, res, []VoteEvent{ev}, nil
	})
	if err != nil {
		return PollView{}, err
	}
	s.log.Info("no casting vote", "meeting", p.Meeting, "poll", p.ID, "by", actor.UserID, "presiding", p.Presiding,
		"outcome", view.Result.Outcome)
	s.publish(ctx, events...)
	s.saveCheckpoint(ctx, p.Meeting)
	s.decide(ctx, actor, &p.PollOpening, view.Result)
	return view, nil
}

// awaitsCasting checks that p awaits its casting vote: the rules give one, and the
// poll closed on an equality and has no result yet.
func awaitsCasting(p *Poll) error {
	switch {
	case !p.CastingVote:
		return fmt.Errorf("poll %d: %w", p.ID, ErrNoCastingVote)
	case p.Closing == nil:
		return fmt.Errorf("poll %d awaits no casting vote: %w", p.ID, ErrPollOpen)
	case p.Closing.Outcome != OutcomeTied:
		return fmt.Errorf("poll %d closed %s: %w", p.ID, p.Closing.Outcome, ErrNoTie)
	case p.Result != nil:
		return fmt.Errorf("poll %d: the result is declared: %w", p.ID, ErrPollClosed)
	}
	return nil
}
