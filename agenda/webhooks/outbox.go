package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/chamber/chamber/agenda"
)

// Batch sizes of the dispatcher.
const (
	meetingsPerScan   = 100
	eventsPerDispatch = 500
)

// Run dispatches journal events into deliveries and sends them until ctx ends, then
// waits for the attempts under way, which are cut short and made again later. It wakes
// every PollInterval, and at once on Kick. Any number of Runs, on any number of nodes,
// may share a database. Failures of the database are logged and retried; Run returns
// nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { s.dispatchLoop(ctx) })
	wg.Go(func() { s.deliverLoop(ctx) })
	if s.opts.Retention > 0 {
		wg.Go(func() { s.pruneLoop(ctx) })
	}
	wg.Wait()
	return nil
}

// wait returns after d, on a signal on c, or when ctx ends (false).
func wait(ctx context.Context, d time.Duration, c <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
	case <-t.C:
	}
	return true
}

func (s *Service) dispatchLoop(ctx context.Context) {
	for {
		n, err := s.Dispatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("webhook dispatch", "err", err)
		}
		if n > 0 {
			s.wakeWorker()
		}
		if !wait(ctx, s.opts.PollInterval, s.kick) {
			return
		}
	}
}

// Dispatch catches up with every published meeting's journal: it creates the
// deliveries of the events past each meeting's cursor and advances the cursor, in one
// transaction per meeting and batch of events, and returns how many deliveries it
// created. Run calls it; it is exported for tools and tests.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	total := 0
	for {
		var ids []int64
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			ids, err = tx.MeetingsBehind(ctx, meetingsPerScan)
			return err
		})
		if err != nil {
			return total, err
		}
		progress := false
		for _, id := range ids {
			n, moved, err := s.dispatchMeeting(ctx, id)
			total += n
			if err != nil {
				return total, fmt.Errorf("meeting %d: %w", id, err)
			}
			progress = progress || moved
		}
		// Stop when caught up, or when every meeting behind is another node's to do.
		if len(ids) == 0 || !progress {
			return total, nil
		}
	}
}

// dispatchMeeting deals with one batch of a meeting's new events: moved says the cursor
// moved.
func (s *Service) dispatchMeeting(ctx context.Context, meetingID int64) (created int, moved bool, err error) {
	err = s.store.Update(ctx, func(tx Tx) error {
		created, moved = 0, false
		cursor, ok, err := tx.LockCursor(ctx, meetingID)
		if err != nil || !ok {
			return err
		}
		st, err := tx.JournalState(ctx, meetingID)
		if err != nil {
			return err
		}
		if !st.Published || st.LastSeq <= cursor {
			return nil
		}
		events, err := tx.Events(ctx, meetingID, cursor, st.LastSeq, eventsPerDispatch)
		if err != nil || len(events) == 0 {
			return err
		}
		endpoints, err := tx.ListEndpoints(ctx, st.CouncilID)
		if err != nil {
			return err
		}
		now := s.clock()
		for _, e := range events {
			n, err := s.deliveriesOf(ctx, tx, st.CouncilID, e, endpoints, now)
			if err != nil {
				return err
			}
			created += n
		}
		moved = true
		return tx.SetCursor(ctx, meetingID, events[len(events)-1].Seq)
	})
	if err != nil {
		return 0, false, err
	}
	return created, moved, nil
}

// deliveriesOf creates the deliveries of one event to the endpoints that want it.
func (s *Service) deliveriesOf(ctx context.Context, tx Tx, councilID int64, e agenda.Event, endpoints []Endpoint, now time.Time) (int, error) {
	var wanted []Endpoint
	for _, ep := range endpoints {
		if ep.Active && ep.subscribes(e.Type) {
			wanted = append(wanted, ep)
		}
	}
	if len(wanted) == 0 {
		return 0, nil
	}
	data, ok, err := publicData(e)
	if err != nil {
		// Data that cannot be read would stop the meeting's webhooks for good; the
		// event is left out and said so.
		s.log.Error("webhook event data unreadable; event not delivered", "meeting", e.MeetingID, "seq", e.Seq, "type", e.Type, "err", err)
		return 0, nil
	}
	if !ok {
		return 0, nil
	}
	n := 0
	for _, ep := range wanted {
		id, err := newDeliveryID(now, s.random)
		if err != nil {
			return n, err
		}
		body, err := json.Marshal(Payload{ID: id, Type: e.Type, CouncilID: councilID, MeetingID: e.MeetingID, Seq: e.Seq,
			At: e.At.UTC(), Data: data})
		if err != nil {
			return n, fmt.Errorf("encode payload: %w", err)
		}
		d := Delivery{ID: id, EndpointID: ep.ID, CouncilID: councilID, MeetingID: e.MeetingID, Seq: e.Seq, Type: e.Type,
			Payload: body, Status: Pending, NextAttemptAt: &now, CreatedAt: now}
		created, err := tx.CreateDelivery(ctx, d)
		if err != nil {
			return n, err
		}
		if created {
			n++
		}
	}
	return n, nil
}

func (s *Service) pruneLoop(ctx context.Context) {
	for {
		before := s.clock().Add(-s.opts.Retention)
		var n int64
		err := s.store.Update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.Prune(ctx, before)
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.log.Error("prune webhook deliveries", "err", err)
		case n > 0:
			s.log.Info("pruned webhook deliveries", "deliveries", n, "before", before)
		}
		if !wait(ctx, time.Hour, nil) {
			return
		}
	}
}
