package webhooks_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// within reports whether t is in [from+d-slack, from+d+slack].
func within(t *time.Time, from time.Time, d time.Duration, slack float64) bool {
	if t == nil {
		return false
	}
	lo, hi := from.Add(time.Duration(float64(d)*(1-slack))), from.Add(time.Duration(float64(d)*(1+slack)))
	return !t.Before(lo) && !t.After(hi)
}

// only returns an endpoint's only delivery.
func (w *world) only(svc *webhooks.Service, endpointID int64) webhooks.DeliveryDetail {
	w.t.Helper()
	d, ok := w.sole(svc, endpointID)
	if !ok {
		w.t.Fatalf("webhook %d has not one delivery", endpointID)
	}
	return d
}

// sole returns an endpoint's delivery, if it has exactly one.
func (w *world) sole(svc *webhooks.Service, endpointID int64) (webhooks.DeliveryDetail, bool) {
	w.t.Helper()
	ds := w.deliveries(svc, endpointID)
	if len(ds) != 1 {
		return webhooks.DeliveryDetail{}, false
	}
	return w.delivery(svc, endpointID, ds[0].ID), true
}

// TestRetriesWithBackoff: a receiver that fails twice (once asking for time) gets the
// delivery a third time, after an exponential, jittered wait each time.
func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		svc := w.service(func(o *webhooks.Options) { o.BackoffBase, o.BackoffMax = time.Minute, time.Hour })
		rc := newReceiver(t, w.clock)
		rc.setRespond(func(n int, _ received, h http.Header) (int, string) {
			switch n {
			case 1:
				return http.StatusInternalServerError, "boom\x00\xff" + strings.Repeat("ü", webhooks.MaxLoggedResponse)
			case 2:
				h.Set("Retry-After", "600")
				return http.StatusServiceUnavailable, ""
			}
			return http.StatusOK, `{"ok":true}`
		})
		ep := w.endpoint(svc, w.clerk, w.council, rc)
		m := w.meeting("Planning Committee", true)
		_, err := w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
		w.must(err)
		w.run(svc)
		svc.Kick()

		attempted := func(n int) func() bool {
			return func() bool {
				d, ok := w.sole(svc, ep.ID)
				return ok && d.Attempts == n && d.LockedUntil == nil
			}
		}
		eventually(t, "the first attempt", attempted(1))
		d := w.only(svc, ep.ID)
		if d.Status != webhooks.Pending || d.LastStatusCode != 500 || d.LastError != "HTTP 500" || len(d.Log) != 1 ||
			!strings.HasPrefix(d.Log[0].Response, "boom\uFFFD\uFFFDü") || len(d.Log[0].Response) > webhooks.MaxLoggedResponse+8 {
			t.Errorf("after a 500: status %s, last %d %q, log %+v", d.Status, d.LastStatusCode, d.LastError, d.Log)
		}
		if !within(d.NextAttemptAt, w.clock.Now(), time.Minute, 0.2) {
			t.Errorf("after the first failure, next attempt at %v; want a minute (± 20%%) after %v", d.NextAttemptAt, w.clock.Now())
		}
		w.clock.Advance(40 * time.Second) // not yet due
		time.Sleep(100 * time.Millisecond)
		if n := len(rc.received()); n != 1 {
			t.Fatalf("%d requests before the delivery was due again, want 1", n)
		}
		w.clock.Advance(40 * time.Second)
		eventually(t, "the second attempt", attempted(2))
		d = w.only(svc, ep.ID)
		if d.LastStatusCode != 503 || !within(d.NextAttemptAt, w.clock.Now(), 10*time.Minute, 0) {
			t.Errorf("after a 503 asking for 600 s: next attempt at %v, want 10 minutes after %v", d.NextAttemptAt, w.clock.Now())
		}
		w.clock.Advance(10 * time.Minute)
		eventually(t, "the delivery", func() bool { return w.only(svc, ep.ID).Status == webhooks.Delivered })
		d = w.only(svc, ep.ID)
		var codes []int
		for _, a := range d.Log {
			codes = append(codes, a.StatusCode)
		}
		if d.Attempts != 3 || len(codes) != 3 || codes[0] != 500 || codes[1] != 503 || codes[2] != 200 || d.LastError != "" {
			t.Errorf("delivered after attempts %v (%d counted, last error %q); want 500, 503, 200", codes, d.Attempts, d.LastError)
		}
		got := rc.received()
		for _, r := range got[1:] {
			if r.Payload.ID != d.ID || string(r.Body) != string(got[0].Body) {
				t.Errorf("attempts differ: %s then %s; want the same delivery and body each time", got[0].Body, r.Body)
			}
		}
		if got[0].Header.Get(webhooks.HeaderTimestamp) == got[2].Header.Get(webhooks.HeaderTimestamp) {
			t.Errorf("each attempt should be signed at its own time")
		}
	})
}

// TestFailsThenRedelivered: a delivery that never gets a 2xx fails after the last
// attempt; a clerk redelivers it once the receiver is fixed.
func TestFailsThenRedelivered(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		svc := w.service(func(o *webhooks.Options) { o.MaxAttempts = 3 })
		var broken atomic.Bool
		broken.Store(true)
		rc := newReceiver(t, w.clock)
		rc.setRespond(func(int, received, http.Header) (int, string) {
			if broken.Load() {
				return http.StatusBadGateway, ""
			}
			return http.StatusAccepted, ""
		})
		ep := w.endpoint(svc, w.clerk, w.council, rc)
		spare := w.endpoint(svc, w.clerk, w.council, newReceiver(t, w.clock), agenda.EvMeetingCreated)
		m := w.meeting("Planning Committee", true)
		_, err := w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
		w.must(err)
		w.run(svc)
		svc.Kick()
		for n := 1; n <= 3; n++ {
			eventually(t, "an attempt", func() bool {
				d, ok := w.sole(svc, ep.ID)
				return ok && d.Attempts == n && d.LockedUntil == nil
			})
			w.clock.Advance(time.Hour)
		}
		d := w.only(svc, ep.ID)
		if d.Status != webhooks.Failed || d.NextAttemptAt != nil || d.LastError != "HTTP 502" || len(d.Log) != 3 {
			t.Fatalf("after three 502s: %+v; want failed", d)
		}
		w.clock.Advance(48 * time.Hour)
		time.Sleep(100 * time.Millisecond)
		if n := len(rc.received()); n != 3 {
			t.Errorf("%d requests after the delivery failed, want 3", n)
		}

		if _, err := svc.Redeliver(w.ctx, w.councillor, ep.ID, d.ID); !errors.Is(err, webhooks.ErrForbidden) {
			t.Errorf("redelivery by a councillor: %v, want ErrForbidden", err)
		}
		if _, err := svc.Redeliver(w.ctx, w.clerk, spare.ID, d.ID); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("redelivery through another endpoint: %v, want ErrNotFound", err)
		}
		broken.Store(false)
		if _, err := svc.Redeliver(w.ctx, w.clerk, ep.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the redelivery", func() bool { return w.only(svc, ep.ID).Status == webhooks.Delivered })
		d = w.only(svc, ep.ID)
		if d.Attempts != 1 || len(d.Log) != 4 || d.Log[3].StatusCode != 202 || d.LastError != "" {
			t.Errorf("redelivered: %+v; want one attempt more in a log of four", d)
		}
		got := rc.received()
		if len(got) != 4 || got[3].Payload.ID != d.ID {
			t.Errorf("receiver got %d requests; want 4, the last with the same delivery id", len(got))
		}
		// A delivered delivery may be sent again too.
		if _, err := svc.Redeliver(w.ctx, w.clerk, ep.ID, d.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the second redelivery", func() bool { return len(rc.received()) == 5 })

		off := false
		_, err = svc.UpdateEndpoint(w.ctx, w.clerk, ep.ID, webhooks.EndpointPatch{Active: &off})
		w.must(err)
		if _, err := svc.Redeliver(w.ctx, w.clerk, ep.ID, d.ID); !errors.Is(err, webhooks.ErrConflict) {
			t.Errorf("redelivery to an inactive endpoint: %v, want ErrConflict", err)
		}
	})
}

// TestRefusesInsideAddresses: without AllowNetworks, deliveries to loopback (by address
// or by a name that resolves there) are refused at the dial and logged; metadata and
// private address literals are refused when the endpoint is configured.
func TestRefusesInsideAddresses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		svc := w.service(func(o *webhooks.Options) { o.AllowNetworks = nil; o.MaxAttempts = 1 })
		rc := newReceiver(t, w.clock)
		byAddress := w.endpoint(svc, w.clerk, w.council, rc)
		byName, err := svc.CreateEndpoint(w.ctx, w.clerk, w.council.ID, webhooks.EndpointInput{
			URL: strings.Replace(rc.URL(), "127.0.0.1", "localhost", 1)})
		w.must(err)
		for _, u := range []string{"https://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/", "https://10.0.0.8/hook",
			"https://192.168.1.20/hook", "https://[::ffff:169.254.169.254]/"} {
			if _, err := svc.CreateEndpoint(w.ctx, w.clerk, w.council.ID, webhooks.EndpointInput{URL: u}); !errors.Is(err, webhooks.ErrInvalid) {
				t.Errorf("endpoint %s: %v, want ErrInvalid", u, err)
			}
		}
		m := w.meeting("Planning Committee", true)
		_, err = w.agenda.StartMeeting(w.ctx, w.clerk, m.ID)
		w.must(err)
		w.run(svc)
		svc.Kick()
		for _, ep := range []int64{byAddress.ID, byName.ID} {
			eventually(t, "the refused attempt", func() bool {
				d, ok := w.sole(svc, ep)
				return ok && d.Status == webhooks.Failed
			})
			d := w.only(svc, ep)
			if len(d.Log) != 1 || d.Log[0].StatusCode != 0 || !strings.Contains(d.Log[0].Error, webhooks.ErrAddressRefused.Error()) ||
				!strings.Contains(d.Log[0].Error, "127.0.0.1 is not a public address") || strings.Contains(d.Log[0].Error, "/hooks/chamber") {
				t.Errorf("webhook %d: log %+v; want the address refused, without the URL", ep, d.Log)
			}
		}
		if n := len(rc.received()); n != 0 {
			t.Errorf("the receiver on loopback got %d requests, want none", n)
		}
	})
}
