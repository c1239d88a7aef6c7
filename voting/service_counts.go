package voting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/chamber/chamber/agenda"
)

// RecordCount takes a show of hands the clerk counted in the room: how many hands
// went up for each option, without names, signed with the clerk's own key (see
// Count). Once it is committed with its log entry it answers with its receipt;
// fresh is false when the very same count had been taken before.
//
// A count is for a poll that is not a recorded vote (else ErrNamedVote), while it is
// open, and counts members who vote in the room rather than on their own devices:
// its hands (abstentions included) may not outnumber the poll's eligible voters who
// are present now, in a mode that votes, and have not voted by ballot (ErrOverCount).
// Ballots and the count add up: the poll's counts are each voter's last ballot plus
// the hands. The clerk may count again (a recount, or after more members have voted):
// the last count replaces the one before, and every count stays in the log. Once a
// poll has a count, a ballot from a member who has not voted is refused
// (ErrOverCount) if the hands already account for every eligible member who had not,
// so that nobody is counted twice.
//
// The other checks are a ballot's: the encoding and signature (ErrMalformed,
// ErrBadSignature), the key is the recorder's, approved and not revoked
// (ErrWrongKey, ErrKeyNotApproved, ErrKeyRevoked), the recorder is the actor and a
// clerk of the council (ErrForbidden), the count names this poll and its challenge
// (ErrWrongPoll) and gives each of its options once, in order (ErrInvalidChoice), and
// its nonce is fresh (ErrReplay). A refusal is logged and kept for the clerk.
func (s *Service) RecordCount(ctx context.Context, actor agenda.Actor, sc SignedCount) (r Receipt, fresh bool, err error) {
	now := s.clock()
	if actor.UserID == 0 {
		return Receipt{}, false, forbid(actor, "record a count")
	}
	c, err := sc.Open()
	if err != nil {
		return Receipt{}, false, s.countRefused(ctx, actor, sc, nil, nil, now, err)
	}
	if c.Recorder != actor.UserID {
		err := forbid(actor, "a count signed for user %d, submitted by user %d", c.Recorder, actor.UserID)
		return Receipt{}, false, s.countRefused(ctx, actor, sc, &c, nil, now, err)
	}
	p, err := s.store.Poll(ctx, c.Poll)
	if errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("count for poll %d, which does not exist: %w", c.Poll, ErrWrongPoll)
		return Receipt{}, false, s.countRefused(ctx, actor, sc, &c, nil, now, err)
	}
	if err != nil {
		return Receipt{}, false, err
	}
	sub, err := s.checkCount(ctx, actor, sc, &c, &p, now)
	if err != nil {
		// The very same count again, after the poll has closed, say: its first receipt.
		if stored, derr := s.store.CountByHash(ctx, sc.Hash()); derr == nil {
			r, err := s.receipt(ctx, stored.Count.Meeting, stored.Index, stored.Index+1)
			return r, false, err
		}
		return Receipt{}, false, s.countRefused(ctx, actor, sc, &c, &p, now, err)
	}
	stored, dup, err := s.store.SubmitCount(ctx, sub)
	if err != nil {
		return Receipt{}, false, s.countRefused(ctx, actor, sc, &c, &p, now, err)
	}
	receipt, err := s.receipt(ctx, p.Meeting, stored.Index, stored.Index+1)
	if err != nil || dup {
		return receipt, false, err
	}
	s.log.Info("count of hands accepted", "count", sc, "meeting", p.Meeting, "poll", p.ID, "recorder", c.Recorder,
		"hands", c.Total(), "index", stored.Index)
	r2, err := s.roll.Roll(ctx, p.Meeting, p.Item)
	if err == nil {
		s.progressSoon(ctx, p.ID, private(r2))
	}
	return receipt, true, nil
}

// checkCount checks an opened count against its key, poll and roll, and returns its
// submission to the store.
func (s *Service) checkCount(ctx context.Context, actor agenda.Actor, sc SignedCount, c *Count, p *Poll, now time.Time) (CountSubmission, error) {
	id := KeyIDOf(sc.PublicKey)
	k, err := s.store.Key(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return CountSubmission{}, fmt.Errorf("key %s is not enrolled: %w", id, ErrKeyNotApproved)
	}
	if err != nil {
		return CountSubmission{}, err
	}
	if k.User != c.Recorder {
		return CountSubmission{}, fmt.Errorf("count signed with key %s of user %d, recorded by user %d: %w", id, k.User, c.Recorder, ErrWrongKey)
	}
	if err := k.CanSign(now); err != nil {
		return CountSubmission{}, fmt.Errorf("check count: %w", err)
	}
	r, err := s.roll.Roll(ctx, p.Meeting, p.Item)
	if err != nil {
		return CountSubmission{}, fromAgenda(err)
	}
	if !actor.IsClerk(r.Meeting.CouncilID) {
		return CountSubmission{}, forbid(actor, "only a clerk records a count of hands")
	}
	if err := p.AdmitCount(c, now); err != nil {
		return CountSubmission{}, err
	}
	// Who may vote now: eligible when the poll opened, and still.
	members := MembersAt(r, now, overridesOf(p.Overrides))
	rc := Roll(RulesOf(r.Committee.Profile), ItemOf(r.Item), members)
	var may []int64
	for _, d := range rc.Decisions {
		if d.Eligible() && p.IsEligible(d.Voter) {
			may = append(may, d.Voter)
		}
	}
	return CountSubmission{Signed: sc, Count: *c, Key: k.ID, ReceivedAt: now, MayVote: may}, nil
}

// countRefused logs a refused count and keeps it for the clerk, as refused does a
// ballot, and returns err.
func (s *Service) countRefused(ctx context.Context, actor agenda.Actor, sc SignedCount, c *Count, p *Poll, now time.Time, err error) error {
	reason := refusalReason(err)
	if reason == "" {
		return err
	}
	attrs := []slog.Attr{slog.Any("count", sc), slog.String("reason", reason), slog.Int64("by", actor.UserID)}
	if c != nil {
		attrs = append(attrs, slog.Int64("poll", c.Poll), slog.Int64("recorder", c.Recorder))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "count refused", attrs...)
	s.keepRefusal(ctx, actor, p, 0, reason, sc.Hash(), now)
	return err
}

// Refusals returns the ballots and counts refused in a poll, oldest first, with who
// submitted each, the member it named, the reason and when: for the chair and the
// clerk.
func (s *Service) Refusals(ctx context.Context, actor agenda.Actor, pollID int64) ([]Refusal, error) {
	if actor.Anonymous() {
		return nil, forbid(actor, "read refused ballots")
	}
	_, r, err := s.pollFor(ctx, actor, pollID)
	if err != nil {
		return nil, err
	}
	if !actor.CanRun(r.Meeting.CouncilID, r.Meeting.CommitteeID) {
		return nil, forbid(actor, "read the refused ballots of poll %d: only the chair or the clerk", pollID)
	}
	out, err := s.store.Refusals(ctx, pollID)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []Refusal{}
	}
	return out, nil
}
