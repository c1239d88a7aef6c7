package agenda

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// Publisher tells the live room about journal events once they have committed. It must
// not block for long; the web package wires it to the signalling bus.
type Publisher interface {
	Publish(ctx context.Context, events ...Event)
}

// Polls tells the agenda about the votes on a meeting, so that it does not pull the
// ground from under one: a meeting does not close or move on while a vote is open, and
// an item that has been voted on stays on the record.
type Polls interface {
	// PollsOn counts the polls on an item (itemID 0: on the whole meeting): those not yet
	// decided (open, or awaiting a casting vote), and all of them.
	PollsOn(ctx context.Context, meetingID, itemID int64) (open, all int, err error)
}

// Options configures a Service. Zero values get sensible defaults.
type Options struct {
	Publisher Publisher
	Polls     Polls
	Logger    *slog.Logger
	Now       func() time.Time
	// Password sets the cost of password hashing; tests lower it.
	Password PasswordParams
	// MaxHashing bounds the passwords hashed at once (hashTurn); 0, the processors
	// there are, and at least two.
	MaxHashing int
}

// Service is the agenda's rules, over a Store.
type Service struct {
	store Store
	pub   Publisher
	polls Polls // may be nil: no votes to protect
	log   *slog.Logger
	now   func() time.Time
	pw    PasswordParams
	// dummyHash is checked against when an email is unknown, so that Login takes as long
	// as for a wrong password.
	dummyHash func() string
	// hashing holds a token for each password being hashed (hashTurn).
	hashing chan struct{}
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, pub: opts.Publisher, polls: opts.Polls, log: opts.Logger, now: opts.Now, pw: opts.Password}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.pw == (PasswordParams{}) {
		s.pw = DefaultPasswordParams
	}
	s.dummyHash = sync.OnceValue(func() string { return HashPassword("no one's password", s.pw) })
	n := opts.MaxHashing
	if n <= 0 {
		n = max(2, runtime.GOMAXPROCS(0))
	}
	s.hashing = make(chan struct{}, n)
	return s
}

// clock returns the current time in UTC, truncated to microseconds so that what is
// stored equals what is read back on both databases.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// op is one write transaction: the Tx, the moment it happens and who does it, and the
// events it appends, published after commit.
type op struct {
	Tx
	ctx    context.Context
	now    time.Time
	actor  Actor
	events []Event
}

// write runs fn in one transaction and publishes its events after commit.
func (s *Service) write(ctx context.Context, actor Actor, fn func(o *op) error) error {
	var events []Event
	err := s.store.Update(ctx, func(tx Tx) error {
		o := &op{Tx: tx, ctx: ctx, now: s.clock(), actor: actor}
		if err := fn(o); err != nil {
			return err
		}
		events = o.events
		return nil
	})
	if err != nil {
		return err
	}
	if s.pub != nil && len(events) > 0 {
		s.pub.Publish(ctx, events...)
	}
	return nil
}

// read runs fn in a read-only transaction.
func (s *Service) read(ctx context.Context, fn func(tx Tx) error) error {
	return s.store.View(ctx, fn)
}

// emit appends an event to the meeting's journal in the current transaction.
func (o *op) emit(meetingID int64, typ string, private bool, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	e := Event{MeetingID: meetingID, Type: typ, At: o.now, ActorID: o.actor.UserID, Private: private, Data: b}
	if err := o.AppendEvent(o.ctx, &e); err != nil {
		return fmt.Errorf("append %s event: %w", typ, err)
	}
	o.events = append(o.events, e)
	return nil
}

// noOpenVote refuses to go on while a vote on the meeting is undecided.
func (s *Service) noOpenVote(o *op, meetingID int64, doing string) error {
	if s.polls == nil {
		return nil
	}
	open, _, err := s.polls.PollsOn(o.ctx, meetingID, 0)
	if err != nil {
		return err
	}
	if open > 0 {
		return conflict("a vote is open; close it (or give the casting vote) before %s", doing)
	}
	return nil
}

// notVotedOn refuses to undo an item that has been voted on: its votes stay on the record.
func (s *Service) notVotedOn(o *op, it Item, doing string) error {
	if s.polls == nil {
		return nil
	}
	_, all, err := s.polls.PollsOn(o.ctx, it.MeetingID, it.ID)
	if err != nil {
		return err
	}
	if all > 0 {
		return conflict("item %s has been voted on; it cannot be %s", it.Number, doing)
	}
	return nil
}

// meeting loads a meeting with its committee, for checks that need both.
func (o *op) meeting(id int64) (Meeting, error) {
	return o.GetMeeting(o.ctx, id)
}

// lastSeq returns the sequence number of the last event this operation appended to the
// meeting's journal, or fallback if it appended none.
func (o *op) lastSeq(meetingID, fallback int64) int64 {
	for i := len(o.events) - 1; i >= 0; i-- {
		if o.events[i].MeetingID == meetingID {
			return o.events[i].Seq
		}
	}
	return fallback
}
