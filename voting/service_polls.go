package voting

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/chamber/chamber/agenda"
)

// PollInput opens a poll on the meeting's current item, or on a motion of it.
type PollInput struct {
	MeetingID int64 `json:"meeting_id"`
	ItemID    int64 `json:"item_id"`
	MotionID  int64 `json:"motion_id,omitempty"`
	// Question is what is put to the vote; by default the motion's text, or with no
	// motion the item's number and title.
	Question string `json:"question,omitempty"`
	// Options are the option keys; for, against and abstain by default (a plurality
	// vote must name its own).
	Options []string `json:"options,omitempty"`
	// Method is how the poll is decided; a simple majority by default.
	Method Method `json:"method,omitempty"`
	// Recorded makes it a recorded (named) vote: the names go into the minutes.
	Recorded bool `json:"recorded"`
	// ShowLiveTally shows running counts per option to everyone while the poll is open.
	ShowLiveTally bool `json:"show_live_tally"`
	// ClosesAt, if set, closes the poll at that time; otherwise it is closed by hand.
	ClosesAt time.Time `json:"closes_at,omitzero"`
	// Presiding names the member presiding, where neither the chair nor a vice-chair
	// may vote on the item (absent, or barred by an interest). By default the chair,
	// else a vice-chair.
	Presiding int64 `json:"presiding,omitempty"`
	// Overrides are the chair's decisions to let members vote who were not present for
	// the whole item where the item requires it, each with its reason, which the log
	// and the minutes record. They apply to no other rule.
	Overrides []OverrideInput `json:"overrides,omitempty"`
}

// OverrideInput is one of the chair's overrides.
type OverrideInput struct {
	Voter  int64  `json:"voter"`
	Reason string `json:"reason"`
}

// Limits on a poll's text, in characters.
const (
	MaxQuestion = 4000
	MaxReason   = 1000
)

// PollStatus is where a poll stands.
type PollStatus string

// Poll statuses.
const (
	PollOpen = PollStatus("open")
	// PollAwaitingCastingVote: the poll closed on an equality, and the presiding
	// member's casting vote will decide it.
	PollAwaitingCastingVote = PollStatus("awaiting_casting_vote")
	PollClosed              = PollStatus("closed")
)

// PollView is a poll as the API shows it: how it opened (with the challenge ballots
// carry), how it closed and its result, where it stands, and whether it is exempt
// business, which the public does not see.
type PollView struct {
	Poll
	Status  PollStatus `json:"status"`
	Private bool       `json:"private"`
	// EqualityStood says in words why an equality of votes in the result stood, when
	// nothing broke it (Resolution.Text), for pages to show beside the outcome.
	EqualityStood string `json:"equality_stood,omitempty"`
}

func viewOf(p Poll, private bool) PollView {
	v := PollView{Poll: p, Status: PollOpen, Private: private}
	switch {
	case p.Closing == nil:
	case p.Result == nil && p.Closing.Outcome == OutcomeTied:
		v.Status = PollAwaitingCastingVote
	default:
		v.Status = PollClosed
	}
	if r := p.Result; r != nil && r.Equality != nil && r.Equality.Stood() {
		v.EqualityStood = r.Equality.Resolution.Text()
	}
	return v
}

// OpenPoll opens a poll: the chair or the clerk, while the meeting is in progress, on
// its current item. The roll is taken at this instant under the committee's rules:
// who may vote, who counts towards the quorum (an inquorate poll does not open:
// ErrInquorate) and who presides. The opening is logged and journaled in one
// transaction, then published.
func (s *Service) OpenPoll(ctx context.Context, actor agenda.Actor, in PollInput) (PollView, error) {
	if actor.Anonymous() {
		return PollView{}, forbid(actor, "open a poll")
	}
	now := s.clock()
	readAt := time.Now()
	r, err := s.roll.Roll(ctx, in.MeetingID, in.ItemID)
	if err != nil {
		return PollView{}, fromAgenda(err)
	}
	m := r.Meeting
	switch {
	case !visible(actor, m):
		return PollView{}, fmt.Errorf("meeting %d: %w", m.ID, ErrNotFound)
	case !actor.CanRun(m.CouncilID, m.CommitteeID):
		return PollView{}, forbid(actor, "open a poll: only the chair or the clerk")
	case m.Status != agenda.InProgress:
		return PollView{}, fmt.Errorf("open a poll: meeting %d is %s, not in progress: %w", m.ID, m.Status, ErrConflict)
	case m.CurrentItemID != in.ItemID:
		return PollView{}, fmt.Errorf("open a poll: item %d is not the current item: %w", in.ItemID, ErrConflict)
	}
	p, err := s.define(ctx, actor, in, r, now)
	if err != nil {
		return PollView{}, err
	}
	rules := RulesOf(r.Committee.Profile)
	overrides := map[int64]Override{}
	for _, o := range in.Overrides {
		overrides[o.Voter] = Override{Voter: o.Voter, By: actor.UserID, Reason: strings.TrimSpace(o.Reason)}
	}
	rc := Roll(rules, ItemOf(r.Item), MembersAt(r, now, overrides))
	if !rc.Quorate() {
		return PollView{}, fmt.Errorf("open a poll: %d present of the %d needed: %w", rc.Present, rc.QuorumRequired, ErrInquorate)
	}
	p.ApplyRoll(rc, rules)
	if p.Presiding, err = presiding(r, rc, in.Presiding); err != nil {
		return PollView{}, err
	}
	if p.Presiding == 0 && (p.CastingVote || p.PreponderantVote) {
		return PollView{}, fmt.Errorf("open a poll: %w: neither the chair nor a vice-chair may vote on this item; name the member presiding", ErrInvalidPoll)
	}
	if _, err := io.ReadFull(s.random, p.Challenge[:]); err != nil {
		return PollView{}, fmt.Errorf("open a poll: challenge: %w", err)
	}
	priv := private(r)
	_, ev, err := s.store.OpenPoll(ctx, s.newOrigin(m.ID), &p, func(op *PollOpening) (VoteEvent, error) {
		return s.event(EventPollOpened, m.ID, now, actor.UserID, priv, viewOf(Poll{PollOpening: *op}, priv))
	})
	if err != nil {
		return PollView{}, err
	}
	s.log.Info("poll opened", "meeting", m.ID, "item", p.Item, "poll", p.ID, "by", actor.UserID,
		"eligible", len(p.Eligible), "present", p.PresentAtOpen, "quorum", p.QuorumRequired)
	// Every ballot will be checked against the roll at the opening's journal number.
	// If the opening is the first journal entry since the roll was read, nothing the
	// roll holds has changed since (each change is journaled as it commits), so the
	// ballots need not all wait for it to be read again as they arrive.
	if ev.Seq == m.LastSeq+1 {
		r.Meeting.LastSeq = ev.Seq
		s.rolls.keep(rollKey{m.ID, p.Item}, ev.Seq, readAt, r)
	}
	// The poll itself is read once now, for the chair, rather than by the first voters
	// all at once. Read after the opening's number, it is the poll as of then or
	// later, as a ballot's own read would be.
	readAt = time.Now()
	if opened, err := s.store.Poll(ctx, p.ID); err == nil {
		s.rolls.keepPoll(opened, ev.Seq, readAt)
	}
	s.publish(ctx, ev)
	return viewOf(Poll{PollOpening: p}, priv), nil
}

// define checks the input and returns the poll it defines, without its roll call.
func (s *Service) define(ctx context.Context, actor agenda.Actor, in PollInput, r agenda.Roll, now time.Time) (PollOpening, error) {
	p := PollOpening{
		ID: 1, Meeting: r.Meeting.ID, Item: r.Item.ID, Motion: in.MotionID, Question: strings.TrimSpace(in.Question),
		Options: in.Options, Method: in.Method, Named: in.Recorded, LiveTally: in.ShowLiveTally,
		OpenedAt: now, ClosesAt: in.ClosesAt.UTC().Truncate(time.Millisecond), OpenedBy: actor.UserID,
	}
	if p.Motion != 0 {
		text, err := s.checkMotion(ctx, actor, r, p.Motion)
		if err != nil {
			return PollOpening{}, err
		}
		if p.Question == "" {
			p.Question = strings.TrimSpace(text)
		}
	}
	if p.Question == "" {
		p.Question = strings.TrimSpace(r.Item.Number + " " + r.Item.Title)
	}
	if p.Method == "" {
		p.Method = Majority
	}
	if p.Options == nil && p.Method != Plurality {
		p.Options = DefaultOptions()
	}
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("open a poll: %w: %s", ErrInvalidPoll, fmt.Sprintf(format, args...))
	}
	switch {
	case !utf8.ValidString(p.Question) || utf8.RuneCountInString(p.Question) > MaxQuestion:
		return PollOpening{}, invalid("the question is longer than %d characters or not UTF-8", MaxQuestion)
	case !in.ClosesAt.IsZero() && !p.ClosesAt.After(now):
		return PollOpening{}, invalid("it would close at %s, which has passed", p.ClosesAt.Format(time.RFC3339))
	}
	if err := p.Validate(); err != nil {
		return PollOpening{}, fmt.Errorf("open a poll: %w", err)
	}
	p.ID = 0
	people := map[int64]bool{}
	for _, m := range MembersAt(r, now, nil) {
		people[m.User] = true
	}
	seen := map[int64]bool{}
	for _, o := range in.Overrides {
		reason := strings.TrimSpace(o.Reason)
		switch {
		case !people[o.Voter]:
			return PollOpening{}, invalid("override for user %d, who is neither on the committee nor attending", o.Voter)
		case seen[o.Voter]:
			return PollOpening{}, invalid("two overrides for user %d", o.Voter)
		case reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxReason:
			return PollOpening{}, invalid("the override for user %d needs a reason of at most %d characters", o.Voter, MaxReason)
		}
		seen[o.Voter] = true
	}
	return p, nil
}

// checkMotion checks that a poll's motion is an undecided motion on its item, and
// returns its text ("" when the motions cannot be read here).
func (s *Service) checkMotion(ctx context.Context, actor agenda.Actor, r agenda.Roll, id int64) (string, error) {
	if s.motions == nil {
		return "", nil // the database refuses a motion that does not exist
	}
	motions, err := s.motions.ListMotions(ctx, actor, r.Meeting.ID)
	if err != nil {
		return "", fromAgenda(err)
	}
	for _, mo := range motions {
		switch {
		case mo.ID != id:
		case mo.ItemID != r.Item.ID:
			return "", fmt.Errorf("open a poll: %w: motion %d is on another item", ErrInvalidPoll, id)
		case mo.Status.Final():
			return "", fmt.Errorf("open a poll: motion %d is already %s: %w", id, mo.Status, ErrConflict)
		default:
			return mo.Text, nil
		}
	}
	return "", fmt.Errorf("open a poll: %w: motion %d is not a motion of this meeting", ErrInvalidPoll, id)
}

// presiding returns who presides over a poll: the member requested, who must be
// eligible to vote on it; else the chair if eligible; else the first eligible
// vice-chair; else 0.
func presiding(r agenda.Roll, rc RollCall, requested int64) (int64, error) {
	eligible := rc.Eligible()
	may := func(user int64) bool { _, ok := slices.BinarySearch(eligible, user); return ok }
	if requested != 0 {
		if !may(requested) {
			return 0, fmt.Errorf("open a poll: %w: member %d may not preside: not eligible to vote on this item", ErrInvalidPoll, requested)
		}
		return requested, nil
	}
	members := slices.Clone(r.Members)
	slices.SortFunc(members, func(a, b agenda.Membership) int { return cmp.Compare(a.UserID, b.UserID) })
	for _, role := range []agenda.CommitteeRole{agenda.Chair, agenda.ViceChair} {
		for _, m := range members {
			if m.Role == role && may(m.UserID) {
				return m.UserID, nil
			}
		}
	}
	return 0, nil
}

// pollFor reads a poll and the roll of its item, as actor may see them. A poll on
// business actor may not see is not found, as a poll that does not exist is.
func (s *Service) pollFor(ctx context.Context, actor agenda.Actor, pollID int64) (Poll, agenda.Roll, error) {
	p, err := s.store.Poll(ctx, pollID)
	if err != nil {
		return Poll{}, agenda.Roll{}, err
	}
	r, err := s.readRoll(ctx, actor, p.Meeting, p.Item)
	if errors.Is(err, ErrNotFound) {
		return Poll{}, agenda.Roll{}, fmt.Errorf("poll %d: %w", pollID, ErrNotFound)
	}
	if err != nil {
		return Poll{}, agenda.Roll{}, err
	}
	return p, r, nil
}

// Close closes a poll by hand: the chair or the clerk. The quorum is checked again
// and the poll decided; on an equality where the rules give a casting vote, it awaits
// the presiding member's (CastCasting).
func (s *Service) Close(ctx context.Context, actor agenda.Actor, pollID int64) (PollView, error) {
	if actor.Anonymous() {
		return PollView{}, forbid(actor, "close a poll")
	}
	p, r, err := s.pollFor(ctx, actor, pollID)
	if err != nil {
		return PollView{}, err
	}
	if !actor.CanRun(r.Meeting.CouncilID, r.Meeting.CommitteeID) {
		return PollView{}, forbid(actor, "close poll %d: only the chair or the clerk", pollID)
	}
	if p.Closing != nil {
		return PollView{}, fmt.Errorf("close poll %d: %w", pollID, ErrPollClosed)
	}
	return s.close(ctx, actor, p, s.clock(), actor.UserID)
}

// serverActor decides motions for polls that close at their time.
var serverActor = agenda.Actor{Admin: true, Name: "Chamber"}

// CloseDue closes every poll whose closing time has come, and returns how many it
// closed. Run calls it; several servers may, as only one closing of a poll succeeds.
func (s *Service) CloseDue(ctx context.Context) (int, error) {
	polls, err := s.store.OpenPolls(ctx)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	n := 0
	var errs []error
	for _, p := range polls {
		if p.ClosesAt.IsZero() || now.Before(p.ClosesAt) {
			continue
		}
		_, err := s.close(ctx, serverActor, p, p.ClosesAt, 0)
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrPollClosed):
		default:
			errs = append(errs, fmt.Errorf("close poll %d at its time: %w", p.ID, err))
		}
	}
	return n, errors.Join(errs...)
}

// Run closes polls at their closing time until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.runEvery)
	defer t.Stop()
	for {
		if _, err := s.CloseDue(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("closing polls at their time", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// close closes p at time at by user by (0: at its closing time), tallying its ballots
// against the roll at that instant, with the log locked so that the tally is of every
// ballot the poll will ever hold.
func (s *Service) close(ctx context.Context, actor agenda.Actor, p Poll, at time.Time, by int64) (PollView, error) {
	r, err := s.roll.Roll(ctx, p.Meeting, p.Item)
	if err != nil {
		return PollView{}, fromAgenda(err)
	}
	rc := Roll(RulesOf(r.Committee.Profile), ItemOf(r.Item), MembersAt(r, at, overridesOf(p.Overrides)))
	priv := private(r)
	now := s.clock()
	var view PollView
	_, events, err := s.store.ClosePoll(ctx, p.ID, func(p Poll, ballots []StoredBallot) (PollClosing, *Result, []VoteEvent, error) {
		var votes []Vote
		for _, b := range ballots {
			if !b.Ballot.Casting {
				votes = append(votes, VoteOf(&b.Ballot))
			}
		}
		closing, err := p.CloseCounted(at, by, rc.Present, votes, p.RoomCount)
		if err != nil {
			return PollClosing{}, nil, nil, err
		}
		closed := Poll{PollOpening: p.PollOpening, Closing: &closing, RoomCount: p.RoomCount}
		ev, err := s.event(EventPollClosed, p.Meeting, now, actor.UserID, priv, viewOf(closed, priv))
		if err != nil {
			return PollClosing{}, nil, nil, err
		}
		events := []VoteEvent{ev}
		if closing.Outcome == OutcomeTied {
			ev, err = s.event(EventPollCasting, p.Meeting, now, actor.UserID, priv,
				CastingAwaited{Poll: p.ID, Item: p.Item, Presiding: p.Presiding, Options: tiedOptions(&p.PollOpening, closing.Counts)})
		} else {
			var res Result
			if res, err = TallyPoll(&closed, votes); err != nil {
				return PollClosing{}, nil, nil, err
			}
			closed.Result = &res
			ev, err = s.event(EventPollResult, p.Meeting, now, actor.UserID, priv, viewOf(closed, priv))
		}
		if err != nil {
			return PollClosing{}, nil, nil, err
		}
		view = viewOf(closed, priv)
		return closing, closed.Result, append(events, ev), nil
	})
	if err != nil {
		return PollView{}, err
	}
	s.log.Info("poll closed", "meeting", p.Meeting, "poll", p.ID, "by", by, "ballots", view.Closing.Ballots, "outcome", view.Closing.Outcome)
	s.publish(ctx, events...)
	s.saveCheckpoint(ctx, p.Meeting)
	if view.Result != nil {
		s.decide(ctx, actor, &p.PollOpening, view.Result)
	}
	return view, nil
}

func overridesOf(os []Override) map[int64]Override {
	m := make(map[int64]Override, len(os))
	for _, o := range os {
		m[o.Voter] = o
	}
	return m
}

// tiedOptions returns the options in an equality that a casting vote may resolve.
func tiedOptions(p *PollOpening, counts []OptionCount) []string {
	if p.Method != Plurality {
		return []string{OptionFor, OptionAgainst}
	}
	top := 0
	var tied []string
	for _, c := range counts {
		switch {
		case c.Option == OptionAbstain:
		case c.Count > top:
			top, tied = c.Count, []string{c.Option}
		case c.Count == top:
			tied = append(tied, c.Option)
		}
	}
	return tied
}

// decide tells the agenda the outcome of a poll on a motion. The poll's result stands
// whatever the agenda answers; a failure is logged for the clerk to set by hand. The
// outcome follows from the votes, not from the authority of whoever closed the poll or
// gave the casting vote (the presiding member casts with their identity alone), so it
// is recorded with the server's authority in that person's name.
func (s *Service) decide(ctx context.Context, actor agenda.Actor, p *PollOpening, res *Result) {
	if s.decider == nil || p.Motion == 0 || (res.Outcome != OutcomeCarried && res.Outcome != OutcomeLost) {
		return
	}
	recorder := agenda.Actor{UserID: actor.UserID, Name: actor.Name, Admin: true}
	if err := s.decider.DecideMotion(ctx, recorder, p.Meeting, p.Motion, res.Outcome == OutcomeCarried); err != nil {
		s.log.Error("recording a motion's outcome", "meeting", p.Meeting, "motion", p.Motion, "poll", p.ID, "err", err)
	}
}

// saveCheckpoint signs and keeps the meeting's checkpoint as the log is now, so that
// the latest is published; a failure is logged, as the log itself is whole.
func (s *Service) saveCheckpoint(ctx context.Context, meetingID int64) {
	if _, err := s.Checkpoint(ctx, meetingID); err != nil {
		s.log.Error("saving a checkpoint", "meeting", meetingID, "err", err)
	}
}

// Poll returns a poll as actor may see it: the public sees no poll on exempt business.
func (s *Service) Poll(ctx context.Context, actor agenda.Actor, pollID int64) (PollView, error) {
	p, r, err := s.pollFor(ctx, actor, pollID)
	if err != nil {
		return PollView{}, err
	}
	return viewOf(p, private(r)), nil
}

// MeetingPolls returns a meeting's polls that actor may see, in the order they opened.
func (s *Service) MeetingPolls(ctx context.Context, actor agenda.Actor, meetingID int64) ([]PollView, error) {
	polls, err := s.store.MeetingPolls(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	out := []PollView{}
	rolls := map[int64]agenda.Roll{}
	for _, p := range polls {
		r, ok := rolls[p.Item]
		if !ok {
			if r, err = s.roll.Roll(ctx, meetingID, p.Item); err != nil {
				return nil, fromAgenda(err)
			}
			rolls[p.Item] = r
		}
		if !visible(actor, r.Meeting) {
			return nil, fmt.Errorf("meeting %d: %w", meetingID, ErrNotFound)
		}
		if mayRead(actor, r) {
			out = append(out, viewOf(p, private(r)))
		}
	}
	return out, nil
}

// Progress is how far a poll has got. Everyone who may see the poll sees the counts;
// the chair and the clerk also see who has not voted yet; counts per option are shown
// while the poll is open only if it shows a live tally, and to all once it has closed.
type Progress struct {
	Poll    int64      `json:"poll"`
	Meeting int64      `json:"meeting"`
	Item    int64      `json:"item"`
	Status  PollStatus `json:"status"`
	// Eligible is how many may vote; Voted how many of them have, NotVoted how many
	// have not.
	Eligible int `json:"eligible"`
	Voted    int `json:"voted"`
	NotVoted int `json:"not_voted"`
	// Ballots counts every ballot accepted, changed votes included.
	Ballots int `json:"ballots"`
	// CountedInRoom is the number of hands in the clerk's last count in the room; the
	// counts include them, and NotVoted leaves them out.
	CountedInRoom int `json:"counted_in_room,omitempty"`
	// Waiting names those who have not voted yet, for the chair and the clerk.
	Waiting []RecordMember `json:"waiting,omitempty"`
	// Counts are the running counts per option, where they may be shown.
	Counts []OptionCount `json:"counts,omitempty"`
}

// Progress returns how far a poll has got, as actor may see it.
func (s *Service) Progress(ctx context.Context, actor agenda.Actor, pollID int64) (Progress, error) {
	p, r, err := s.pollFor(ctx, actor, pollID)
	if err != nil {
		return Progress{}, err
	}
	votes, err := s.store.Votes(ctx, pollID)
	if err != nil {
		return Progress{}, err
	}
	staff := actor.CanRun(r.Meeting.CouncilID, r.Meeting.CommitteeID)
	return progressOf(p, votes, r, staff), nil
}

// progressOf computes a poll's progress from its votes in log order; staff adds the
// names of those waiting.
func progressOf(p Poll, all []Vote, r agenda.Roll, staff bool) Progress {
	pr := Progress{Poll: p.ID, Meeting: p.Meeting, Item: p.Item, Status: viewOf(p, false).Status, Eligible: len(p.Eligible)}
	var votes []Vote
	voted := map[int64]bool{}
	for _, v := range all {
		if v.Casting {
			continue
		}
		votes = append(votes, v)
		voted[v.Voter] = true
		pr.Ballots++
	}
	var roles map[int64]agenda.CommitteeRole
	if staff {
		roles = make(map[int64]agenda.CommitteeRole, len(r.Members))
		for _, m := range r.Members {
			roles[m.UserID] = m.Role
		}
	}
	for _, id := range p.Eligible {
		if voted[id] {
			pr.Voted++
			continue
		}
		pr.NotVoted++
		if staff {
			pr.Waiting = append(pr.Waiting, RecordMember{User: id, Name: r.People[id], Role: string(roles[id])})
		}
	}
	if p.RoomCount != nil {
		pr.CountedInRoom = p.RoomCount.Total()
		pr.NotVoted = max(pr.NotVoted-pr.CountedInRoom, 0)
	}
	if p.LiveTally || p.Closing != nil {
		if res, err := TallyPoll(&Poll{PollOpening: p.PollOpening, RoomCount: p.RoomCount}, votes); err == nil {
			pr.Counts = res.Counts
		}
	}
	return pr
}
