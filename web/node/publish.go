package node

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/signaling/bridge"
	"github.com/chamber/chamber/voting"
)

// draftTimeout bounds drafting the minutes of a meeting that has just closed.
const draftTimeout = time.Minute

// drafter is the actor the node drafts minutes as when a meeting closes; the minutes
// say they were drafted by Chamber until a clerk redrafts them.
var drafter = agenda.Actor{Admin: true, Name: "Chamber"}

// afterCommit is the Publisher of the agenda, the votes and the minutes: each event,
// once committed, goes to the meeting's live room, wakes the webhook outbox (which
// reads the journal itself, so nothing is lost if this node stops), and a meeting's
// closing starts the draft of its minutes.
type afterCommit struct {
	room  bridge.Publisher
	hooks *webhooks.Service // nil: no webhooks
	log   *slog.Logger

	// minutes is set once the minutes service exists, before any request is served.
	minutes *minutes.Service

	stop   context.Context // cancelled by close: drafting stops
	cancel context.CancelFunc

	mu      sync.Mutex // guards stopped, and drafts.Add against drafts.Wait
	stopped bool
	drafts  sync.WaitGroup
}

var (
	_ agenda.Publisher  = (*afterCommit)(nil)
	_ voting.Publisher  = (*afterCommit)(nil)
	_ minutes.Publisher = (*afterCommit)(nil)
)

func newAfterCommit(room bridge.Publisher, hooks *webhooks.Service, log *slog.Logger) *afterCommit {
	stop, cancel := context.WithCancel(context.Background())
	return &afterCommit{room: room, hooks: hooks, log: log, stop: stop, cancel: cancel}
}

func (p *afterCommit) Publish(ctx context.Context, events ...agenda.Event) {
	p.room.Publish(ctx, events...)
	if p.hooks != nil {
		p.hooks.Kick()
	}
	for _, e := range events {
		if e.Type == agenda.EvMeetingClosed && p.minutes != nil {
			p.startDraft(e.MeetingID)
		}
	}
}

// PublishVote sends a vote event to the room, and wakes the webhook outbox only for
// an event in the journal: a poll's progress, sent every quarter of a second while
// everyone votes, is not one.
func (p *afterCommit) PublishVote(ctx context.Context, e voting.VoteEvent) {
	p.room.Publish(ctx, e.AgendaEvent())
	if p.hooks != nil {
		p.hooks.PublishVote(ctx, e)
	}
}

// startDraft drafts the minutes of meetingID in the background, unless the node is
// shutting down.
func (p *afterCommit) startDraft(meetingID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		p.log.Warn("minutes not drafted on closing: shutting down", "meeting", meetingID)
		return
	}
	p.drafts.Add(1)
	go p.draft(meetingID)
}

// draft drafts the minutes of a meeting that has closed. A clerk who drafted first
// (or a meeting reopened meanwhile) is not an error worth more than a note.
func (p *afterCommit) draft(meetingID int64) {
	defer p.drafts.Done()
	ctx, cancel := context.WithTimeout(p.stop, draftTimeout)
	defer cancel()
	m, err := p.minutes.Draft(ctx, drafter, meetingID)
	if err != nil {
		p.log.Warn("draft the minutes of a closed meeting", "meeting", meetingID, "err", err)
		return
	}
	p.log.Info("minutes drafted on closing", "meeting", meetingID, "version", m.Version)
}

// close stops the drafts under way and waits for them; no draft starts after it.
func (p *afterCommit) close() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.cancel()
	p.drafts.Wait()
}
