package voting

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
)

// RollReader reads the roll a vote needs: the meeting, committee and rules, item,
// members, substitutions, apologies, attendance and declarations, in one snapshot.
// agenda.Service satisfies it.
type RollReader interface {
	Roll(ctx context.Context, meetingID, itemID int64) (agenda.Roll, error)
}

// People says who a user is to councils and committees, for decisions about their
// keys. agenda.Service satisfies it.
type People interface {
	Actor(ctx context.Context, userID int64) (agenda.Actor, error)
}

// Motions lists a meeting's motions as actor may see them, so that a poll on a motion
// is checked to be on a motion of its item. agenda.Service satisfies it.
type Motions interface {
	ListMotions(ctx context.Context, actor agenda.Actor, meetingID int64) ([]agenda.Motion, error)
}

// MotionDecider records the outcome of a poll on a motion: carried or lost.
type MotionDecider interface {
	DecideMotion(ctx context.Context, actor agenda.Actor, meetingID, motionID int64, carried bool) error
}

// Options configures a Service. Zero values get defaults.
type Options struct {
	// Publisher tells the live room what happened, after it has committed.
	Publisher Publisher
	Logger    *slog.Logger
	Now       func() time.Time
	// Random is where poll challenges come from; crypto/rand by default.
	Random io.Reader
	// LogKey is the server's key that signs checkpoints. Without one the Service makes
	// a key that lasts as long as the process, and says so in the log: receipts it
	// signs cannot be checked once the process has gone.
	LogKey *LogKey
	// Origin is the deployment's public URL, such as https://chamber.example.gov.uk;
	// a meeting's log is named by its host and path (MeetingOrigin) when the log is
	// created, and keeps that name for good (the store holds it), so that receipts and
	// records stay valid if the deployment moves to another URL or port.
	Origin string
	// People and Motions default to the RollReader when it implements them.
	People  People
	Motions Motions
	// MotionDecider, if set, is told the outcome of each poll on a motion.
	MotionDecider MotionDecider
	// ProgressEvery is the least time between two progress events of one poll
	// (default 250ms); a negative value publishes one after every ballot.
	ProgressEvery time.Duration
	// AfterFunc runs f once d has passed on the clock Now reads: time.AfterFunc by
	// default. Tests that move their clock by hand fire what it was given themselves.
	AfterFunc func(d time.Duration, f func())
	// RunEvery is how often Run looks for polls past their closing time (default 1s).
	RunEvery time.Duration
}

// Service runs polls: keys, opening, ballots, closing and results, receipts and the
// meeting's verifiable record. Its methods take the actor who asks and return errors
// from this package (errors.Is), which the web layer maps to HTTP statuses.
type Service struct {
	store    Store
	roll     RollReader
	people   People
	motions  Motions
	decider  MotionDecider
	pub      Publisher
	log      *slog.Logger
	now      func() time.Time
	random   io.Reader
	key      *LogKey
	origin   string
	progress time.Duration
	after    func(time.Duration, func())
	runEvery time.Duration

	mu      sync.Mutex           // guards pending, origins
	pending map[int64]*throttled // progress events waiting to be published, by poll
	origins map[int64]string     // each meeting's log name as stored, which never changes

	rolls *rollCache // what ballots are checked against, by journal sequence number

	heads signedHeads // the signed checkpoints of receipts, by log and size
}

// throttled is a poll's progress events: when the last went out, and whether one is
// scheduled.
type throttled struct {
	last      time.Time
	scheduled bool
}

// NewService returns a Service over store, reading rolls from roll.
func NewService(store Store, roll RollReader, opts Options) *Service {
	s := &Service{
		store: store, roll: roll, people: opts.People, motions: opts.Motions, decider: opts.MotionDecider,
		pub: opts.Publisher, log: opts.Logger, now: opts.Now, random: opts.Random, key: opts.LogKey,
		origin: originBase(opts.Origin), progress: opts.ProgressEvery, after: opts.AfterFunc, runEvery: opts.RunEvery,
		pending: map[int64]*throttled{}, origins: map[int64]string{}, rolls: newRollCache(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	if s.people == nil {
		s.people, _ = roll.(People)
	}
	if s.motions == nil {
		s.motions, _ = roll.(Motions)
	}
	if s.after == nil {
		s.after = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	if s.progress == 0 {
		s.progress = 250 * time.Millisecond
	}
	if s.runEvery <= 0 {
		s.runEvery = time.Second
	}
	if s.key == nil {
		_, priv, err := ed25519.GenerateKey(s.random)
		if err != nil {
			panic(fmt.Sprintf("voting: no log key and no randomness to make one: %v", err))
		}
		s.key, _ = NewLogKey(priv)
		s.log.Warn("no log key configured: checkpoints are signed with a key that lasts only as long as this process",
			"public_key", EncodePublicKey(s.key.Public()))
	}
	return s
}

// originBase turns the public URL into the base of log names: its host and path,
// without the scheme or a trailing slash.
func originBase(public string) string {
	base := strings.TrimRight(public, "/")
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		base = strings.TrimRight(u.Host+u.Path, "/")
	}
	if !ValidOrigin(base) {
		return "chamber.localhost"
	}
	return base
}

// clock is the current time in UTC to the millisecond, the precision that ballots and
// log entries carry.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Origin returns the name of a meeting's log: the name it was created with, or, for
// a meeting that has no log yet, the name it will get here.
func (s *Service) Origin(ctx context.Context, meetingID int64) (string, error) {
	s.mu.Lock()
	origin, ok := s.origins[meetingID]
	s.mu.Unlock()
	if ok {
		return origin, nil
	}
	origin, err := s.store.LogOrigin(ctx, meetingID)
	if errors.Is(err, ErrNotFound) {
		return s.newOrigin(meetingID), nil
	}
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.origins[meetingID] = origin
	s.mu.Unlock()
	return origin, nil
}

// newOrigin is the name a meeting's log gets when it is created on this deployment.
func (s *Service) newOrigin(meetingID int64) string { return MeetingOrigin(s.origin, meetingID) }

// meetingLog returns a meeting's log under its stored name, for reading.
func (s *Service) meetingLog(ctx context.Context, meetingID int64) (*Log, error) {
	origin, err := s.Origin(ctx, meetingID)
	if err != nil {
		return nil, err
	}
	return NewLog(origin, s.store.Log(meetingID)), nil
}

// forbid is ErrUnauthenticated for the public and ErrForbidden for a signed-in user.
func forbid(actor agenda.Actor, format string, args ...any) error {
	if actor.Anonymous() {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrUnauthenticated)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrForbidden)
}

// fromAgenda gives an agenda error this package's identity where it has one.
func fromAgenda(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, agenda.ErrNotFound):
		return fmt.Errorf("%v: %w", err, ErrNotFound)
	case errors.Is(err, agenda.ErrForbidden):
		return fmt.Errorf("%v: %w", err, ErrForbidden)
	case errors.Is(err, agenda.ErrUnauthenticated):
		return fmt.Errorf("%v: %w", err, ErrUnauthenticated)
	}
	return err
}

// visible reports whether actor may see the meeting at all.
func visible(actor agenda.Actor, m agenda.Meeting) bool {
	return m.Published || actor.CanReadPrivate(m.CouncilID, m.CommitteeID)
}

// private reports whether the roll's item is exempt business, whose polls the public
// does not see.
func private(r agenda.Roll) bool { return r.Item.Kind == agenda.Exempt }

// mayRead reports whether actor may see polls on the roll's item.
func mayRead(actor agenda.Actor, r agenda.Roll) bool {
	m := r.Meeting
	return visible(actor, m) && (!private(r) || actor.CanReadPrivate(m.CouncilID, m.CommitteeID))
}

// readRoll reads the roll of a poll's item for actor, as not found if actor may not
// see polls on it.
func (s *Service) readRoll(ctx context.Context, actor agenda.Actor, meetingID, itemID int64) (agenda.Roll, error) {
	r, err := s.roll.Roll(ctx, meetingID, itemID)
	if err != nil {
		return agenda.Roll{}, fromAgenda(err)
	}
	if !mayRead(actor, r) {
		return agenda.Roll{}, fmt.Errorf("meeting %d: %w", meetingID, ErrNotFound)
	}
	return r, nil
}

// event returns a VoteEvent of typ about meeting with data.
func (s *Service) event(typ string, meeting int64, at time.Time, actor int64, private bool, data any) (VoteEvent, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return VoteEvent{}, fmt.Errorf("encode %s event: %w", typ, err)
	}
	return VoteEvent{Meeting: meeting, Type: typ, At: at, Actor: actor, Private: private, Data: b}, nil
}

// publish tells the live room about events that have committed.
func (s *Service) publish(ctx context.Context, events ...VoteEvent) {
	if s.pub == nil {
		return
	}
	for _, e := range events {
		s.pub.PublishVote(ctx, e)
	}
}
