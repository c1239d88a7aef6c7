package main

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

// drafter is the actor the server drafts minutes as when a meeting closes; the
// minutes say they were drafted by Chamber until a clerk redrafts them.
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
	drafts  sync.WaitGroup
	stop    context.Context // cancelled at shutdown: drafting stops
}

var (
	_ agenda.Publisher  = (*afterCommit)(nil)
	_ voting.Publisher  = (*afterCommit)(nil)
	_ minutes.Publisher = (*afterCommit)(nil)
)

func (p *afterCommit) Publish(ctx context.Context, events ...agenda.Event) {
	p.room.Publish(ctx, events...)
	if p.hooks != nil {
		p.hooks.Kick()
	}
	for _, e := range events {
		if e.Type == agenda.EvMeetingClosed && p.minutes != nil {
			p.drafts.Add(1)
			go p.draft(e.MeetingID)
		}
	}
}

func (p *afterCommit) PublishVote(ctx context.Context, e voting.VoteEvent) {
	p.Publish(ctx, e.AgendaEvent())
}

// draft drafts the minutes of a meeting that has closed. A clerk who drafted first
// (or a meeting reopened meanwhile) is not an error worth more than a note.
func (p *afterCommit) draft(meetingID int64) {
	defer p.drafts.Done()
	base := p.stop
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, draftTimeout)
	defer cancel()
	m, err := p.minutes.Draft(ctx, drafter, meetingID)
	if err != nil {
		p.log.Warn("draft the minutes of a closed meeting", "meeting", meetingID, "err", err)
		return
	}
	p.log.Info("minutes drafted on closing", "meeting", meetingID, "version", m.Version)
}

// wait waits for the drafts under way.
func (p *afterCommit) wait() { p.drafts.Wait() }
