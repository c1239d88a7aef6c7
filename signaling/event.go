package signaling

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Meeting event types the room acts on. Every other type is passed on to participants.
const (
	EventSessionPrivate = "session.private" // the public is excluded (an exempt item)
	EventSessionPublic  = "session.public"  // the public is readmitted
	EventMeetingClosed  = "meeting.closed"  // the meeting is over: the room ends
)

// MeetingEvent is one entry of a meeting's journal as the room sees it. Seq is the
// journal's sequence number (0 for an event that is not journalled). Private events
// are withheld from members of the public.
type MeetingEvent struct {
	MeetingID int64           `json:"meeting_id"`
	Seq       int64           `json:"seq"`
	Type      string          `json:"type"`
	At        time.Time       `json:"at"`
	Private   bool            `json:"private"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Presence learns when identified participants (UserID != 0) join and finally leave a
// meeting's room. A participant whose connection drops and who resumes within the
// resume window has not left. Calls come from one goroutine, in order, with a deadline
// on ctx.
type Presence interface {
	OnJoin(ctx context.Context, meetingID, userID int64, at time.Time)
	OnLeave(ctx context.Context, meetingID, userID int64, at time.Time)
}

// Journal reads a meeting's event journal. The room reads it when it starts (to learn
// the current sequence number and whether the meeting is in private session), to fill
// gaps in the events it is sent, and to replay events a reconnecting participant missed.
type Journal interface {
	// EventsAfter returns the meeting's events with Seq > afterSeq, in order.
	EventsAfter(ctx context.Context, meetingID, afterSeq int64) ([]MeetingEvent, error)
}

// Bus carries meeting events to every node, so an event published anywhere reaches the
// meeting's room wherever it runs. Delivery is at most once; the room fills gaps from
// the Journal.
type Bus interface {
	PublishMeetingEvent(ctx context.Context, ev MeetingEvent) error
	// SubscribeMeetingEvents calls fn for every event published from now on, from one
	// goroutine, until unsubscribe is called. fn must not block.
	SubscribeMeetingEvents(ctx context.Context, fn func(MeetingEvent)) (unsubscribe func() error, err error)
}

// LocalBus is the Bus of a single node: Publish calls every subscriber in turn.
type LocalBus struct {
	mu   sync.Mutex // guards subs, next; held while delivering, which keeps events in order
	subs map[int]func(MeetingEvent)
	next int
}

var _ Bus = (*LocalBus)(nil)

// NewLocalBus returns an in-process bus.
func NewLocalBus() *LocalBus {
	return &LocalBus{subs: make(map[int]func(MeetingEvent))}
}

// PublishMeetingEvent delivers ev to every subscriber before it returns.
func (b *LocalBus) PublishMeetingEvent(ctx context.Context, ev MeetingEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fn := range b.subs {
		fn(ev)
	}
	return nil
}

// SubscribeMeetingEvents registers fn.
func (b *LocalBus) SubscribeMeetingEvents(ctx context.Context, fn func(MeetingEvent)) (func() error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[id] = fn
	return func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
		return nil
	}, nil
}
