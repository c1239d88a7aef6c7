package voting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/chamber/chamber/agenda"
)

// castKind says which ballots an entry point takes.
type castKind int

const (
	castAny      castKind = iota
	castCasting           // only a casting vote
	castRecorded          // only a vote the actor recorded as clerk
)

// Cast takes a signed ballot and, once it is committed with its log entry, answers
// with its receipt. The ballot's signer must be the actor: the voter on their own
// device; a clerk recording a vote in the room or a proxy vote; or a proxy holder
// casting the vote they hold (recorder and proxy both the holder). The checks, each
// refused with its error: the encoding and signature (ErrMalformed, ErrBadSignature);
// the key is the signer's, approved and not revoked (ErrWrongKey, ErrKeyNotApproved,
// ErrKeyRevoked); the ballot names this meeting, item, poll and challenge
// (ErrWrongPoll) and one of its options (ErrInvalidChoice); the poll is open
// (ErrPollClosed); the voter was eligible when it opened and is still present now
// (ErrNotEligible, wrapping an *IneligibleError with the reason); the nonce is fresh
// (ErrReplay). A refusal is logged, without the choice, and kept for the clerk.
//
// The same ballot again gets the same receipt, whatever has happened since. A member
// changes their vote with a new ballot; the last one counts and all are kept.
// Casting votes are taken too (see CastCasting).
func (s *Service) Cast(ctx context.Context, actor agenda.Actor, sb SignedBallot) (Receipt, error) {
	r, _, err := s.cast(ctx, actor, Credential{}, sb, castAny)
	return r, err
}

// Credential is how the sender of a ballot signed in, when the ballot is to be stored
// only if that still stands as it commits: a server that keeps the credentials it has
// read, rather than reading them again for every ballot, passes the one it used, and
// a ballot whose credential has been revoked or ended since, on any node, is refused
// with ErrUnauthenticated. The zero Credential asks for no such check: the sender's was
// read afresh for this ballot.
type Credential struct {
	Token   int64  // an API token, by id
	Session string // a browser session, by id (the hash of its cookie)
}

// Submit is Cast for callers that answer a first submission differently from a
// repeated one: fresh is false when the very same ballot had been taken before and the
// receipt is the one it got then. The ballot is stored only if cred still stands.
func (s *Service) Submit(ctx context.Context, actor agenda.Actor, cred Credential, sb SignedBallot) (r Receipt, fresh bool, err error) {
	return s.cast(ctx, actor, cred, sb, castAny)
}

// CastCasting takes the presiding member's casting vote on a poll that closed on an
// equality: a ballot marked casting, for one of the options in the equality, signed
// by the presiding member (or recorded by the clerk). The poll's final result is
// stored and journaled with it. It is refused where the rules give no casting vote
// (ErrNoCastingVote), from anyone else (ErrNotPresiding), where there is no equality
// (ErrNoTie), and once the result is declared (ErrPollClosed).
func (s *Service) CastCasting(ctx context.Context, actor agenda.Actor, sb SignedBallot) (Receipt, error) {
	r, _, err := s.cast(ctx, actor, Credential{}, sb, castCasting)
	return r, err
}

// SubmitCasting is CastCasting, reporting as Submit does whether the ballot was new,
// and storing it only if cred still stands.
func (s *Service) SubmitCasting(ctx context.Context, actor agenda.Actor, cred Credential, sb SignedBallot) (r Receipt, fresh bool, err error) {
	return s.cast(ctx, actor, cred, sb, castCasting)
}

// RecordInRoom takes votes the clerk records, a show of hands by name in the room
// or proxy votes, each a ballot naming its voter and signed with the clerk's own key
// (recorder: the clerk). They are taken in order, each as Cast takes a ballot, and
// the receipts of those taken are returned; the first refusal stops it, with its
// place in the list. Submitting the same list again is safe: ballots already taken
// get their first receipts.
func (s *Service) RecordInRoom(ctx context.Context, actor agenda.Actor, ballots []SignedBallot) ([]Receipt, error) {
	receipts := make([]Receipt, 0, len(ballots))
	for i, sb := range ballots {
		r, _, err := s.cast(ctx, actor, Credential{}, sb, castRecorded)
		if err != nil {
			return receipts, fmt.Errorf("ballot %d of %d: %w", i+1, len(ballots), err)
		}
		receipts = append(receipts, r)
	}
	return receipts, nil
}

func (s *Service) cast(ctx context.Context, actor agenda.Actor, cred Credential, sb SignedBallot, kind castKind) (Receipt, bool, error) {
	now := s.clock()
	if actor.UserID == 0 {
		return Receipt{}, false, forbid(actor, "cast a ballot")
	}
	b, err := sb.Open()
	if err != nil {
		return Receipt{}, false, s.refused(ctx, actor, sb, nil, nil, now, err)
	}
	switch {
	case b.Signer() != actor.UserID:
		err = forbid(actor, "a ballot signed for user %d, submitted by user %d", b.Signer(), actor.UserID)
	case kind == castCasting && !b.Casting:
		err = fmt.Errorf("not a casting vote: %w", ErrMalformed)
	case kind == castRecorded && b.Recorder != actor.UserID:
		err = fmt.Errorf("a vote recorded in the room must be signed by the clerk recording it: %w", ErrWrongKey)
	}
	if err != nil {
		return Receipt{}, false, s.refused(ctx, actor, sb, &b, nil, now, err)
	}
	// An ordinary ballot is checked against the meeting's journal number as the store
	// recalls it, if it can, and is then stored only if that is still the number as it
	// commits. A ballot refused on a recalled number, or one whose meeting has moved on
	// by then, is checked again, once, against the number read afresh.
	var p Poll
	var r agenda.Roll
	var sub BallotSubmission
	var stored StoredBallot
	var dup bool
	for recall := !b.Casting; ; recall = false {
		seq, key, recalled, err := s.refsOf(ctx, &b, sb, recall)
		if err != nil {
			return Receipt{}, false, err
		}
		p, err = s.pollOf(ctx, &b, seq)
		if errors.Is(err, ErrNotFound) {
			err = fmt.Errorf("ballot for poll %d, which does not exist: %w", b.Poll, ErrWrongPoll)
			if r, ok, derr := s.sentBefore(ctx, sb); ok || derr != nil {
				return r, false, derr
			}
			return Receipt{}, false, s.refused(ctx, actor, sb, &b, nil, now, err)
		}
		if err != nil {
			return Receipt{}, false, err
		}
		r, sub, err = s.check(ctx, actor, sb, &b, &p, seq, key, now)
		if err != nil && recalled {
			continue
		}
		if err != nil {
			// The very same ballot again, after what it was checked against has changed
			// (the poll has closed, say): its first receipt.
			if r, ok, derr := s.sentBefore(ctx, sb); ok || derr != nil {
				return r, false, derr
			}
			return Receipt{}, false, s.refused(ctx, actor, sb, &b, &p, now, err)
		}
		sub.Credential = cred
		if recalled {
			sub.Seq = seq
		}
		stored, dup, err = s.store.SubmitBallot(ctx, sub)
		if errors.Is(err, ErrStale) {
			continue
		}
		if err != nil {
			return Receipt{}, false, s.refused(ctx, actor, sb, &b, &p, now, err)
		}
		break
	}
	receipt, err := s.receipt(ctx, p.Meeting, stored.Index, stored.ReceiptSize)
	if err != nil {
		return Receipt{}, false, err
	}
	if dup {
		return receipt, false, nil // taken meanwhile by a concurrent submission
	}
	s.log.Info("ballot accepted", "ballot", sb, "meeting", p.Meeting, "poll", p.ID, "voter", b.Voter,
		"recorder", b.Recorder, "proxy", b.Proxy, "casting", b.Casting, "index", stored.Index)
	if b.Casting {
		s.publish(ctx, stored.Events...)
		s.saveCheckpoint(ctx, p.Meeting)
		if sub.Result != nil {
			s.decide(ctx, actor, &p.PollOpening, sub.Result)
		}
	} else {
		s.progressSoon(ctx, p.ID, private(r))
	}
	return receipt, true, nil
}

// sentBefore returns the receipt of a ballot stored before, if it was.
func (s *Service) sentBefore(ctx context.Context, sb SignedBallot) (Receipt, bool, error) {
	stored, err := s.store.BallotByHash(ctx, sb.Hash())
	if errors.Is(err, ErrNotFound) {
		return Receipt{}, false, nil
	}
	if err != nil {
		return Receipt{}, false, err
	}
	r, err := s.receipt(ctx, stored.Ballot.Meeting, stored.Index, stored.ReceiptSize)
	return r, err == nil, err
}

// refsOf returns the sequence number of the journal of the meeting a ballot names (-1
// if there is no such meeting) and the key that signed it (nil if it is not enrolled):
// as the store recalls them if recall is true and it can (recalled is then true), else
// read together.
func (s *Service) refsOf(ctx context.Context, b *Ballot, sb SignedBallot, recall bool) (seq int64, k *Key, recalled bool, err error) {
	id := KeyIDOf(sb.PublicKey)
	if recall {
		if seq, k, ok := s.store.RecalledSeqAndKey(b.Meeting, id); ok {
			return seq, &k, true, nil
		}
	}
	seq, key, ok, err := s.store.JournalSeqAndKey(ctx, b.Meeting, id)
	if errors.Is(err, ErrNotFound) {
		seq = -1
		key, err = s.store.Key(ctx, id)
		ok = err == nil
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return 0, nil, false, err
	}
	if !ok {
		return seq, nil, false, nil
	}
	return seq, &key, false, nil
}

// pollOf returns the poll a ballot names, as it is at journal sequence number seq of
// the ballot's meeting (-1: no such meeting). The poll is read again only when the
// journal has moved on since it was last read; a casting vote always reads it.
func (s *Service) pollOf(ctx context.Context, b *Ballot, seq int64) (Poll, error) {
	if seq >= 0 && !b.Casting {
		if p, ok := s.rolls.poll(b.Poll, seq); ok && p.Meeting == b.Meeting {
			return p, nil
		}
	}
	readAt := time.Now()
	p, err := s.store.Poll(ctx, b.Poll)
	if err != nil {
		return Poll{}, err
	}
	if seq >= 0 && p.Meeting == b.Meeting {
		s.rolls.keepPoll(p, seq, readAt)
	}
	return p, nil
}

// check checks a signed and opened ballot against its key (nil: not enrolled), the
// poll and the roll (as it stands at journal sequence number seq), and returns the
// roll and the ballot's submission to the store.
func (s *Service) check(ctx context.Context, actor agenda.Actor, sb SignedBallot, b *Ballot, p *Poll, seq int64, k *Key, now time.Time) (agenda.Roll, BallotSubmission, error) {
	if k == nil {
		return agenda.Roll{}, BallotSubmission{}, fmt.Errorf("key %s is not enrolled: %w", KeyIDOf(sb.PublicKey), ErrKeyNotApproved)
	}
	if err := k.CheckOpened(sb, b, now); err != nil {
		return agenda.Roll{}, BallotSubmission{}, err
	}
	if err := p.Admit(b, now); err != nil {
		return agenda.Roll{}, BallotSubmission{}, err
	}
	// Admitted, the ballot is for p's meeting, whose journal seq is.
	snap, err := s.rolls.roll(ctx, s.roll, p.Meeting, p.Item, seq)
	if err != nil {
		return agenda.Roll{}, BallotSubmission{}, err
	}
	r := snap.roll
	if b.Recorder != 0 && !(b.Proxy != 0 && b.Recorder == b.Proxy) && !actor.IsClerk(r.Meeting.CouncilID) {
		return agenda.Roll{}, BallotSubmission{}, forbid(actor, "only a clerk records another member's vote")
	}
	sub := BallotSubmission{Signed: sb, Ballot: *b, Key: k.ID, ReceivedAt: now}
	if b.Casting {
		if err := s.checkCasting(ctx, actor, b, p, r, now, &sub); err != nil {
			return agenda.Roll{}, BallotSubmission{}, err
		}
		return r, sub, nil
	}
	if err := mayVote(p, b, snap.votersAt(p, now)); err != nil {
		return agenda.Roll{}, BallotSubmission{}, err
	}
	return r, sub, nil
}

// mayVote checks that b's voter may vote in p now: eligible when it opened, and still,
// by the roll as it is now (present, in a mode that votes, with no interest declared
// since that bars them); a proxy vote comes from the holder of the voter's proxy.
func mayVote(p *Poll, b *Ballot, v *voterRoll) error {
	m, ok := v.members[b.Voter]
	if !ok {
		return (&Decision{Voter: b.Voter, Reason: ReasonNotMember}).Err()
	}
	if d := v.decisions[b.Voter]; !d.Eligible() {
		return d.Err()
	}
	if !p.IsEligible(b.Voter) {
		return (&Decision{Voter: b.Voter, Reason: ReasonNotAtOpening}).Err()
	}
	if m.Mode == ModeProxy && b.Proxy != m.ProxyHolder || m.Mode != ModeProxy && b.Proxy != 0 {
		return (&Decision{Voter: b.Voter, Reason: ReasonNotProxyHolder}).Err()
	}
	return nil
}

// checkCasting checks a casting vote and completes its submission with the poll's
// final result and the event that reports it.
func (s *Service) checkCasting(ctx context.Context, actor agenda.Actor, b *Ballot, p *Poll, r agenda.Roll, now time.Time, sub *BallotSubmission) error {
	if p.CastingVote && (p.Presiding == 0 || b.Voter != p.Presiding) {
		return fmt.Errorf("casting vote of user %d in poll %d, presided by %d: %w", b.Voter, p.ID, p.Presiding, ErrNotPresiding)
	}
	if err := awaitsCasting(p); err != nil {
		return fmt.Errorf("casting vote: %w", err)
	}
	if !slices.Contains(tiedOptions(&p.PollOpening, p.Closing.Counts), b.Choice) {
		return fmt.Errorf("casting vote in poll %d for an option not in the equality: %w", p.ID, ErrNoTie)
	}
	ballots, err := s.store.Ballots(ctx, p.ID)
	if err != nil {
		return err
	}
	votes := make([]Vote, 0, len(ballots)+1)
	for _, sb := range ballots {
		votes = append(votes, VoteOf(&sb.Ballot))
	}
	votes = append(votes, VoteOf(b))
	res, err := TallyPoll(p, votes)
	if err != nil {
		return err
	}
	decided := *p
	decided.Result = &res
	priv := private(r)
	ev, err := s.event(EventPollResult, p.Meeting, now, actor.UserID, priv, viewOf(decided, priv))
	if err != nil {
		return err
	}
	sub.Result, sub.Events = &res, []VoteEvent{ev}
	return nil
}

// receipt returns the receipt of the entry at index in a meeting's log: the proof
// that it is in the log at size, and that tree's signed checkpoint. size is the log's
// size when the entry's transaction committed (StoredBallot.ReceiptSize), so the
// receipt is the same whenever it is asked for; the entries committed together share
// one signed checkpoint, signed once and kept.
func (s *Service) receipt(ctx context.Context, meetingID, index, size int64) (Receipt, error) {
	log, err := s.meetingLog(ctx, meetingID)
	if err != nil {
		return Receipt{}, err
	}
	proof, err := log.proveCommitted(ctx, index, size)
	if err != nil {
		return Receipt{}, err
	}
	signed, err := s.heads.get(ctx, log.Origin(), size, func() ([]byte, error) {
		head, err := log.committedHead(ctx, size)
		if err != nil {
			return nil, err
		}
		return s.key.Sign(head)
	})
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{Index: index, Proof: proof, Checkpoint: string(signed)}, nil
}

// refused logs a refused ballot and keeps it for the clerk, with the reason and never
// the choice, and returns err. Failures that are not refusals (the database is down)
// are only returned.
func (s *Service) refused(ctx context.Context, actor agenda.Actor, sb SignedBallot, b *Ballot, p *Poll, now time.Time, err error) error {
	reason := refusalReason(err)
	if reason == "" {
		return err
	}
	attrs := []slog.Attr{slog.Any("ballot", sb), slog.String("reason", reason), slog.Int64("by", actor.UserID)}
	var voter int64
	if b != nil {
		voter = b.Voter
		attrs = append(attrs, slog.Int64("poll", b.Poll), slog.Int64("voter", b.Voter), slog.Int64("recorder", b.Recorder))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "ballot refused", attrs...)
	s.keepRefusal(ctx, actor, p, voter, reason, sb.Hash(), now)
	return err
}

// keepRefusal keeps a refused attempt for the clerk against the poll p it was checked
// against. An attempt refused before its poll is read (it does not parse or verify,
// or its signer is not who sends it) is only logged: it is no one's vote.
func (s *Service) keepRefusal(ctx context.Context, actor agenda.Actor, p *Poll, voter int64, reason string, hash [32]byte, now time.Time) {
	if p == nil {
		return
	}
	ref := Refusal{Meeting: p.Meeting, Poll: p.ID, Voter: voter, By: actor.UserID, Reason: reason, Hash: hash, At: now}
	if rerr := s.store.RecordRefusal(ctx, ref); rerr != nil {
		// The voter may name no user at all; keep the attempt without them.
		ref.Voter = 0
		if rerr := s.store.RecordRefusal(ctx, ref); rerr != nil {
			s.log.Warn("keeping a refused ballot", "poll", p.ID, "err", rerr)
		}
	}
}

// refusalReason names why a ballot was refused, or "" for a failure that is not a
// refusal.
func refusalReason(err error) string {
	var ie *IneligibleError
	if errors.As(err, &ie) {
		return "not_eligible: " + string(ie.Reason)
	}
	for _, r := range []struct {
		err    error
		reason string
	}{
		{ErrMalformed, "malformed"}, {ErrBadSignature, "bad_signature"}, {ErrWrongKey, "wrong_key"},
		{ErrKeyRevoked, "key_revoked"}, {ErrKeyNotApproved, "key_not_approved"}, {ErrWrongPoll, "wrong_poll"},
		{ErrInvalidChoice, "invalid_choice"}, {ErrPollClosed, "poll_closed"}, {ErrPollOpen, "poll_open"},
		{ErrReplay, "replay"}, {ErrNoTie, "no_tie"}, {ErrNoCastingVote, "no_casting_vote"},
		{ErrNotPresiding, "not_presiding"}, {ErrNamedVote, "named_vote"}, {ErrOverCount, "over_count"},
		{ErrForbidden, "forbidden"}, {ErrUnauthenticated, "unauthenticated"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ""
}

// progressSoon publishes a poll's progress, in the background: at once if the last
// went out long enough ago, else once that time has passed, so that a burst of ballots
// makes a few events, not one each.
func (s *Service) progressSoon(ctx context.Context, pollID int64, private bool) {
	if s.pub == nil {
		return
	}
	if s.progress < 0 {
		s.publishProgress(ctx, pollID, private)
		return
	}
	s.mu.Lock()
	t := s.pending[pollID]
	if t == nil {
		t = &throttled{}
		s.pending[pollID] = t
	}
	if t.scheduled {
		s.mu.Unlock()
		return
	}
	wait := s.progress - s.clock().Sub(t.last)
	t.scheduled = true
	s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	s.after(max(wait, 0), func() {
		s.mu.Lock()
		t.scheduled, t.last = false, s.clock()
		s.mu.Unlock()
		s.publishProgress(ctx, pollID, private)
	})
}

// publishProgress publishes a poll's progress in the form everyone may see.
func (s *Service) publishProgress(ctx context.Context, pollID int64, private bool) {
	p, err := s.store.Poll(ctx, pollID)
	if err != nil {
		s.log.Warn("poll progress", "poll", pollID, "err", err)
		return
	}
	votes, err := s.store.Votes(ctx, pollID)
	if err != nil {
		s.log.Warn("poll progress", "poll", pollID, "err", err)
		return
	}
	ev, err := s.event(EventPollProgress, p.Meeting, s.clock(), 0, private, progressOf(p, votes, agenda.Roll{}, false))
	if err != nil {
		s.log.Warn("poll progress", "poll", pollID, "err", err)
		return
	}
	s.publish(ctx, ev)
}
