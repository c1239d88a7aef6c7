// Package redisbus joins Chamber nodes through Redis: it carries meeting events between
// them over pub/sub, so that an event published on any node reaches the meeting's room
// wherever it runs, and keeps the directory of which node hosts each meeting's room
// (Directory), so that every participant of a meeting reaches the same room.
//
// Pub/sub delivers at most once: a node that is briefly disconnected misses events.
// Rooms notice the gap in journal sequence numbers and read what they missed from the
// journal, which remains the record.
package redisbus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/signaling"
)

// DefaultChannel is the pub/sub channel used when none is given.
const DefaultChannel = "chamber:meeting-events"

// Bus is a signaling.Bus over Redis pub/sub.
type Bus struct {
	rdb     redis.UniversalClient
	channel string
	log     *slog.Logger
}

var _ signaling.Bus = (*Bus)(nil)

// New returns a bus publishing on channel ("" for DefaultChannel). log may be nil.
func New(rdb redis.UniversalClient, channel string, log *slog.Logger) *Bus {
	if channel == "" {
		channel = DefaultChannel
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bus{rdb: rdb, channel: channel, log: log}
}

// PublishMeetingEvent sends ev to every subscribed node.
func (b *Bus) PublishMeetingEvent(ctx context.Context, ev signaling.MeetingEvent) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("publish meeting event %d/%d: %w", ev.MeetingID, ev.Seq, err)
	}
	if err := b.rdb.Publish(ctx, b.channel, data).Err(); err != nil {
		return fmt.Errorf("publish meeting event %d/%d: %w", ev.MeetingID, ev.Seq, err)
	}
	return nil
}

// SubscribeMeetingEvents subscribes and returns once Redis has confirmed it. fn is
// called from one goroutine; the subscription survives reconnections (events sent
// meanwhile are lost). unsubscribe waits for that goroutine to finish.
func (b *Bus) SubscribeMeetingEvents(ctx context.Context, fn func(signaling.MeetingEvent)) (func() error, error) {
	ps := b.rdb.Subscribe(ctx, b.channel)
	if _, err := ps.Receive(ctx); err != nil {
		ps.Close()
		return nil, fmt.Errorf("subscribe to %s: %w", b.channel, err)
	}
	ch := ps.Channel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for msg := range ch {
			var ev signaling.MeetingEvent
			if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil {
				b.log.Warn("undecodable meeting event on the bus", "channel", b.channel, "err", err)
				continue
			}
			fn(ev)
		}
	}()
	return func() error {
		err := ps.Close()
		<-done
		return err
	}, nil
}
