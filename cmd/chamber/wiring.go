package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/voting"
)

// The domains do not know about the live room; these adapters tell it what happened,
// and tell the agenda who came and went.

// publishTimeout bounds handing an event to the bus. The write has committed by then,
// so the event must go out even if the request that made it has ended.
const publishTimeout = 5 * time.Second

// roomPublisher sends journal and vote events to the meeting's room, on any node.
type roomPublisher struct {
	bus signaling.Bus
	log *slog.Logger
}

var (
	_ agenda.Publisher = roomPublisher{}
	_ voting.Publisher = roomPublisher{}
)

func (p roomPublisher) Publish(ctx context.Context, events ...agenda.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	for _, e := range events {
		if err := p.bus.PublishMeetingEvent(ctx, roomEvent(e)); err != nil {
			// The room fills the gap from the journal when the next event arrives.
			p.log.Warn("publish meeting event", "meeting", e.MeetingID, "seq", e.Seq, "type", e.Type, "err", err)
		}
	}
}

func (p roomPublisher) PublishVote(ctx context.Context, e voting.VoteEvent) {
	p.Publish(ctx, e.AgendaEvent())
}

func roomEvent(e agenda.Event) signaling.MeetingEvent {
	return signaling.MeetingEvent{MeetingID: e.MeetingID, Seq: e.Seq, Type: e.Type, At: e.At, Private: e.Private, Data: e.Data}
}

// journal reads the agenda's journal for the room: all of it, a page at a time.
type journal struct{ svc *agenda.Service }

func (j journal) EventsAfter(ctx context.Context, meetingID, afterSeq int64) ([]signaling.MeetingEvent, error) {
	var out []signaling.MeetingEvent
	for {
		evs, err := j.svc.JournalAfter(ctx, meetingID, afterSeq)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out = append(out, roomEvent(e))
		}
		if len(evs) < agenda.MaxEventsPage {
			return out, nil
		}
		afterSeq = evs[len(evs)-1].Seq
	}
}

// presence records joins and leaves of the live room as attendance.
type presence struct {
	svc *agenda.Service
	log *slog.Logger
}

func (p presence) OnJoin(ctx context.Context, meetingID, userID int64, at time.Time) {
	if err := p.svc.OnJoin(ctx, meetingID, userID, at); err != nil {
		p.log.Error("record arrival from the live room", "meeting", meetingID, "user", userID, "err", err)
	}
}

func (p presence) OnLeave(ctx context.Context, meetingID, userID int64, at time.Time) {
	if err := p.svc.OnLeave(ctx, meetingID, userID, at); err != nil {
		p.log.Error("record departure from the live room", "meeting", meetingID, "user", userID, "err", err)
	}
}
