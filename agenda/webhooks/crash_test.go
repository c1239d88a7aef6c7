package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda/minutes"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// minutesEvents journals n minutes.published events on a new published meeting: n
// deliveries for an endpoint with the default types.
func (w *world) minutesEvents(n int) {
	w.t.Helper()
	m := w.meeting(fmt.Sprintf("Meeting with %d events", n), true)
	for i := range n {
		w.journal(m.ID, minutes.EvMinutesPublished, false, minutes.Event{Meeting: m.ID, Version: i + 1, Status: minutes.Published})
	}
}

// allDelivered reports whether the endpoint has n deliveries, all delivered.
func (w *world) allDelivered(svc *webhooks.Service, endpointID int64, n int) func() bool {
	return func() bool {
		ds := w.deliveries(svc, endpointID)
		for _, d := range ds {
			if d.Status != webhooks.Delivered {
				return false
			}
		}
		return len(ds) == n
	}
}

// TestCrashes: whatever point a process dies at, every event is delivered, at least
// once, and exactly once to a receiver that ignores delivery ids it has seen.
func TestCrashes(t *testing.T) {
	t.Parallel()
	const n = 8
	each(t, "after dispatch, before sending", func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, w.clock)
		first := w.service()
		ep := w.endpoint(first, w.clerk, w.council, rc)
		w.minutesEvents(n)
		if got, err := first.Dispatch(w.ctx); err != nil || got != n {
			t.Fatalf("Dispatch = %d, %v; want %d", got, err, n)
		}
		// The first process dies here. The next one starts.
		second := w.service()
		w.run(second)
		eventually(t, "every delivery", w.allDelivered(second, ep.ID, n))
		if got, distinct := len(rc.received()), len(rc.distinct()); got != n || distinct != n {
			t.Errorf("receiver got %d requests of %d deliveries, want %d of %d", got, distinct, n, n)
		}
	})
	each(t, "stopped mid-attempt", func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, w.clock)
		var hold atomic.Bool
		hold.Store(true)
		started := make(chan struct{})
		var once sync.Once
		rc.setRespond(func(int, received, http.Header) (int, string) {
			if hold.Load() {
				once.Do(func() { close(started) })
				time.Sleep(200 * time.Millisecond) // answered after the sender has gone
			}
			return http.StatusOK, ""
		})
		first := w.service(func(o *webhooks.Options) { o.Concurrency = 1 })
		ep := w.endpoint(first, w.clerk, w.council, rc)
		w.minutesEvents(n)
		stop := w.run(first)
		<-started
		stop() // cuts the attempt short: not counted, due again at once
		hold.Store(false)
		var sent, pending int
		for _, d := range w.deliveries(first, ep.ID) {
			dd := w.delivery(first, ep.ID, d.ID)
			if dd.Status == webhooks.Delivered {
				sent++
			}
			if dd.Status == webhooks.Pending && dd.Attempts == 0 && len(dd.Log) == 0 && dd.LockedUntil == nil {
				pending++
			}
		}
		if sent != 0 || pending != n {
			t.Fatalf("after the stop: %d delivered, %d pending untouched; want 0 and %d", sent, pending, n)
		}
		second := w.service()
		w.run(second)
		eventually(t, "every delivery", w.allDelivered(second, ep.ID, n))
		// The receiver saw the cut-short attempt and then the delivery again: at
		// least once, and exactly once after deduplication.
		if got, distinct := len(rc.received()), len(rc.distinct()); got != n+1 || distinct != n {
			t.Errorf("receiver got %d requests of %d deliveries, want %d of %d", got, distinct, n+1, n)
		}
	})
	each(t, "died holding a lease", func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, w.clock)
		dead := w.service()
		ep := w.endpoint(dead, w.clerk, w.council, rc)
		w.minutesEvents(n)
		if _, err := dead.Dispatch(w.ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := dead.ClaimOnly(w.ctx, n); err != nil || got != n {
			t.Fatalf("ClaimOnly = %d, %v; want %d", got, err, n)
		}
		live := w.service()
		w.run(live)
		time.Sleep(100 * time.Millisecond)
		if got := len(rc.received()); got != 0 {
			t.Fatalf("%d requests while the dead worker's lease holds, want none", got)
		}
		w.clock.Advance(time.Minute) // the lease
		eventually(t, "every delivery", w.allDelivered(live, ep.ID, n))
		if got := len(rc.received()); got != n {
			t.Errorf("receiver got %d requests, want %d", got, n)
		}
		for _, d := range w.deliveries(live, ep.ID) {
			dd := w.delivery(live, ep.ID, d.ID)
			if dd.Attempts != 2 || len(dd.Log) != 2 || dd.Log[0].StatusCode != 0 || dd.Log[0].Error == "" || dd.Log[1].StatusCode != 204 {
				t.Errorf("delivery %s: %d attempts, log %+v; want the lost attempt logged, then the delivery", d.ID, dd.Attempts, dd.Log)
			}
		}
	})
}

// TestConcurrentWorkers: several Runs on one database send each delivery once, and
// claims made at once never take the same delivery twice.
func TestConcurrentWorkers(t *testing.T) {
	t.Parallel()
	each(t, "runs", func(t *testing.T, db *migrations.DB) {
		const n = 40
		w := newWorld(t, db)
		rc := newReceiver(t, w.clock)
		rc.setRespond(func(int, received, http.Header) (int, string) {
			time.Sleep(2 * time.Millisecond)
			return http.StatusOK, ""
		})
		a, b, c := w.service(), w.service(), w.service()
		ep := w.endpoint(a, w.clerk, w.council, rc)
		w.minutesEvents(n)
		w.run(a)
		w.run(b)
		w.run(c)
		a.Kick()
		b.Kick()
		c.Kick()
		eventually(t, "every delivery", w.allDelivered(a, ep.ID, n))
		if got, distinct := len(rc.received()), len(rc.distinct()); got != n || distinct != n {
			t.Errorf("receiver got %d requests of %d deliveries, want %d of %d", got, distinct, n, n)
		}
	})
	each(t, "claims", func(t *testing.T, db *migrations.DB) {
		const n = 60
		w := newWorld(t, db)
		svc := w.service()
		w.endpoint(svc, w.clerk, w.council, newReceiver(t, w.clock))
		w.minutesEvents(n)
		if _, err := svc.Dispatch(w.ctx); err != nil {
			t.Fatal(err)
		}
		var total atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			claimer := w.service()
			wg.Go(func() {
				for {
					got, err := claimer.ClaimOnly(context.Background(), 3)
					if err != nil {
						t.Error(err)
						return
					}
					if got == 0 {
						return
					}
					total.Add(int64(got))
				}
			})
		}
		wg.Wait()
		if got := total.Load(); got != n {
			t.Errorf("concurrent claims took %d deliveries of %d", got, n)
		}
	})
}

// each runs fn as a subtest called name once per dialect, each with a fresh database.
func each(t *testing.T, name string, fn func(t *testing.T, db *migrations.DB)) {
	t.Run(name, func(t *testing.T) { dbtest.Each(t, fn) })
}
