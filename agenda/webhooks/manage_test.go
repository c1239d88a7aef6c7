package webhooks_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

// TestPermissions: only the council's clerks and admins manage its webhooks; the public
// is told to sign in.
func TestPermissions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		svc := w.service()
		rc := newReceiver(t, w.clock)
		ep := w.endpoint(svc, w.clerk, w.council, rc)
		m := w.meeting("Planning Committee", true)
		_, err := w.agenda.StartMeeting(ctx, w.clerk, m.ID)
		w.must(err)
		if _, err := svc.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		d := w.deliveries(svc, ep.ID)[0]
		ops := []struct {
			name string
			do   func(a agenda.Actor) error
		}{
			{"create", func(a agenda.Actor) error {
				_, err := svc.CreateEndpoint(ctx, a, w.council.ID, webhooks.EndpointInput{URL: "https://hooks.example.org/" + a.Name})
				return err
			}},
			{"list", func(a agenda.Actor) error { _, err := svc.ListEndpoints(ctx, a, w.council.ID); return err }},
			{"get", func(a agenda.Actor) error { _, err := svc.GetEndpoint(ctx, a, ep.ID); return err }},
			{"update", func(a agenda.Actor) error {
				desc := "changed by " + a.Name
				_, err := svc.UpdateEndpoint(ctx, a, ep.ID, webhooks.EndpointPatch{Description: &desc})
				return err
			}},
			{"rotate", func(a agenda.Actor) error {
				s, err := svc.RotateSecret(ctx, a, ep.ID, 0)
				if err == nil {
					rc.setSecrets(s.Secret)
				}
				return err
			}},
			{"list deliveries", func(a agenda.Actor) error {
				_, err := svc.ListDeliveries(ctx, a, ep.ID, webhooks.DeliveryQuery{})
				return err
			}},
			{"get delivery", func(a agenda.Actor) error { _, err := svc.GetDelivery(ctx, a, ep.ID, d.ID); return err }},
			{"redeliver", func(a agenda.Actor) error { _, err := svc.Redeliver(ctx, a, ep.ID, d.ID); return err }},
			{"delete", func(a agenda.Actor) error {
				// Each actor deletes an endpoint of its own making (the admin's), so that
				// the others still have one to try.
				e, err := svc.CreateEndpoint(ctx, w.admin, w.council.ID, webhooks.EndpointInput{URL: "https://hooks.example.org/doomed"})
				w.must(err)
				return svc.DeleteEndpoint(ctx, a, e.ID)
			}},
		}
		for _, c := range []struct {
			name  string
			actor agenda.Actor
			want  error
		}{
			{"the public", agenda.Anyone, webhooks.ErrUnauthenticated},
			{"a councillor", w.councillor, webhooks.ErrForbidden},
			{"another council's clerk", w.outsider, webhooks.ErrForbidden},
			{"the clerk", w.clerk, nil},
			{"an admin", w.admin, nil},
		} {
			for _, op := range ops {
				err := op.do(c.actor)
				if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("%s: %s: %v, want %v", c.name, op.name, err, c.want)
				}
			}
		}
	})
}

// TestManageEndpoints: configuration is checked, secrets are shown once and rotate with
// a grace period, deactivation cancels pending deliveries, deletion takes the
// deliveries with it, and the delivery log pages.
func TestManageEndpoints(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		ctx := w.ctx
		svc := w.service()
		rc := newReceiver(t, w.clock)

		for _, in := range []webhooks.EndpointInput{
			{URL: "http://hooks.example.org/"},
			{URL: "https://hooks.example.org/", EventTypes: []string{"item.notes"}},
			{URL: "https://hooks.example.org/", EventTypes: []string{"minutes.drafted"}},
			{URL: "https://hooks.example.org/", EventTypes: []string{"no.such"}},
			{URL: "https://hooks.example.org/", Description: strings.Repeat("x", webhooks.MaxDescription+1)},
		} {
			if _, err := svc.CreateEndpoint(ctx, w.clerk, w.council.ID, in); !errors.Is(err, webhooks.ErrInvalid) {
				t.Errorf("create %+v: %v, want ErrInvalid", in, err)
			}
		}
		if _, err := svc.CreateEndpoint(ctx, w.admin, 9999, webhooks.EndpointInput{URL: "https://hooks.example.org/"}); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("create for a council that does not exist: %v, want ErrNotFound", err)
		}

		created, err := svc.CreateEndpoint(ctx, w.clerk, w.council.ID, webhooks.EndpointInput{URL: rc.URL(), Description: " Press office ",
			EventTypes: []string{agenda.EvMeetingStarted, agenda.EvMeetingStarted, agenda.EvItemCurrent}})
		w.must(err)
		ep := created.Endpoint
		if !strings.HasPrefix(created.Secret, webhooks.SecretPrefix) || ep.Description != "Press office" || !ep.Active ||
			strings.Join(ep.EventTypes, ",") != "item.current,meeting.started" || ep.CreatedBy != w.clerk.UserID {
			t.Errorf("created %+v", created)
		}
		b, _ := json.Marshal(created)
		if !strings.Contains(string(b), `"secret":"whsec_`) {
			t.Errorf("the answer to create should show the secret: %s", b)
		}
		got, err := svc.GetEndpoint(ctx, w.clerk, ep.ID)
		w.must(err)
		b, _ = json.Marshal(got)
		if strings.Contains(string(b), "whsec_") || strings.Contains(string(b), "secret\":") {
			t.Errorf("an endpoint read back shows its secret: %s", b)
		}
		bad := "https://user:pw@hooks.example.org/"
		if _, err := svc.UpdateEndpoint(ctx, w.clerk, ep.ID, webhooks.EndpointPatch{URL: &bad}); !errors.Is(err, webhooks.ErrInvalid) {
			t.Errorf("update to a URL with credentials: %v, want ErrInvalid", err)
		}
		if _, err := svc.GetEndpoint(ctx, w.clerk, 9999); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("get a webhook that does not exist: %v, want ErrNotFound", err)
		}

		// Rotation: during the grace period the old secret signs too.
		old := created.Secret
		rotated, err := svc.RotateSecret(ctx, w.clerk, ep.ID, time.Hour)
		w.must(err)
		if rotated.Secret == old || rotated.PreviousSecretExpires == nil || !rotated.PreviousSecretExpires.Equal(w.clock.Now().Add(time.Hour)) {
			t.Errorf("rotated: %+v", rotated)
		}
		if _, err := svc.RotateSecret(ctx, w.clerk, ep.ID, webhooks.MaxGrace+time.Hour); !errors.Is(err, webhooks.ErrInvalid) {
			t.Errorf("rotation with too long a grace: %v, want ErrInvalid", err)
		}
		rc.setSecrets(old) // a receiver not yet told of the new secret
		m := w.meeting("Planning Committee", true)
		_, err = w.agenda.StartMeeting(ctx, w.clerk, m.ID)
		w.must(err)
		stop := w.run(svc)
		svc.Kick()
		eventually(t, "the delivery signed with the old secret too", w.allDelivered(svc, ep.ID, 1))
		if sig := rc.received()[0].Header.Get(webhooks.HeaderSignature); strings.Count(sig, "v1=") != 2 {
			t.Errorf("signature during the grace period %q: want two", sig)
		}
		w.clock.Advance(2 * time.Hour)
		rc.setSecrets(rotated.Secret)
		d := rc.received()[0].Payload.ID
		_, err = svc.Redeliver(ctx, w.clerk, ep.ID, d)
		w.must(err)
		eventually(t, "the redelivery", func() bool { return len(rc.received()) == 2 && w.allDelivered(svc, ep.ID, 1)() })
		if sig := rc.received()[1].Header.Get(webhooks.HeaderSignature); strings.Count(sig, "v1=") != 1 {
			t.Errorf("signature after the grace period %q: want one", sig)
		}
		stop()

		// Deactivating cancels what is pending.
		_, err = w.agenda.NextItem(ctx, w.clerk, m.ID) // no items: refused, nothing journalled
		if err == nil {
			t.Fatal("NextItem with no items succeeded")
		}
		it, err := w.agenda.AddItem(ctx, w.clerk, m.ID, agenda.ItemInput{Title: "Apologies"})
		w.must(err)
		_, err = w.agenda.SetCurrentItem(ctx, w.clerk, m.ID, it.ID)
		w.must(err)
		if n, err := svc.Dispatch(ctx); err != nil || n != 1 {
			t.Fatalf("Dispatch = %d, %v; want 1 (item.current)", n, err)
		}
		off := false
		_, err = svc.UpdateEndpoint(ctx, w.clerk, ep.ID, webhooks.EndpointPatch{Active: &off})
		w.must(err)
		page, err := svc.ListDeliveries(ctx, w.clerk, ep.ID, webhooks.DeliveryQuery{Status: webhooks.Failed})
		w.must(err)
		if len(page.Items) != 1 || page.Items[0].Type != agenda.EvItemCurrent || !strings.Contains(page.Items[0].LastError, "deactivated") {
			t.Errorf("failed deliveries after deactivation: %+v", page.Items)
		}

		// Paging, newest first.
		on := true
		every := []string{agenda.EvMeetingAdjourned, agenda.EvMeetingResumed}
		_, err = svc.UpdateEndpoint(ctx, w.clerk, ep.ID, webhooks.EndpointPatch{Active: &on, EventTypes: &every})
		w.must(err)
		for range 2 {
			_, err = w.agenda.AdjournMeeting(ctx, w.clerk, m.ID)
			w.must(err)
			_, err = w.agenda.ResumeMeeting(ctx, w.clerk, m.ID)
			w.must(err)
		}
		if _, err := svc.Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		var ids []string
		q := webhooks.DeliveryQuery{Limit: 2}
		for pages := 0; ; pages++ {
			page, err := svc.ListDeliveries(ctx, w.clerk, ep.ID, q)
			w.must(err)
			for _, d := range page.Items {
				ids = append(ids, d.ID)
			}
			if page.Next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("too many pages")
			}
			q.Cursor = page.Next
		}
		if len(ids) != 6 || !sortedDesc(ids) {
			t.Errorf("paged through %d deliveries %v; want 6, newest first", len(ids), ids)
		}
		for _, q := range []webhooks.DeliveryQuery{{Cursor: "nonsense"}, {Status: "lost"}, {Limit: 1000}} {
			if _, err := svc.ListDeliveries(ctx, w.clerk, ep.ID, q); !errors.Is(err, webhooks.ErrInvalid) {
				t.Errorf("list deliveries %+v: %v, want ErrInvalid", q, err)
			}
		}

		// Deleting takes the deliveries with it.
		w.must(svc.DeleteEndpoint(ctx, w.clerk, ep.ID))
		if _, err := svc.GetEndpoint(ctx, w.clerk, ep.ID); !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("get a deleted webhook: %v, want ErrNotFound", err)
		}
		var left int
		w.must(db.GetContext(ctx, &left, `SELECT COUNT(*) FROM webhook_deliveries`))
		if left != 0 {
			t.Errorf("%d deliveries left after their endpoint was deleted", left)
		}

		// At most MaxEndpoints per council.
		for i := range webhooks.MaxEndpoints {
			_, err := svc.CreateEndpoint(ctx, w.clerk, w.council.ID, webhooks.EndpointInput{URL: "https://hooks.example.org/" + string(rune('a'+i))})
			w.must(err)
		}
		if _, err := svc.CreateEndpoint(ctx, w.clerk, w.council.ID, webhooks.EndpointInput{URL: "https://hooks.example.org/z"}); !errors.Is(err, webhooks.ErrConflict) {
			t.Errorf("one webhook too many: %v, want ErrConflict", err)
		}
		list, err := svc.ListEndpoints(ctx, w.clerk, w.council.ID)
		w.must(err)
		if len(list) != webhooks.MaxEndpoints {
			t.Errorf("listed %d webhooks, want %d", len(list), webhooks.MaxEndpoints)
		}
	})
}

func sortedDesc(ids []string) bool {
	for i := 1; i < len(ids); i++ {
		if ids[i-1] <= ids[i] {
			return false
		}
	}
	return true
}

// TestPrune: delivered and failed deliveries leave the log after the retention period.
func TestPrune(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		w := newWorld(t, db)
		rc := newReceiver(t, w.clock)
		svc := w.service(func(o *webhooks.Options) { o.Retention = 24 * time.Hour })
		ep := w.endpoint(svc, w.clerk, w.council, rc)
		w.minutesEvents(3)
		stop := w.run(svc)
		eventually(t, "the deliveries", w.allDelivered(svc, ep.ID, 3))
		stop()
		w.clock.Advance(25 * time.Hour)
		w.minutesEvents(1) // a pending one, which stays
		w.run(svc)
		eventually(t, "the old deliveries pruned", func() bool { return len(w.deliveries(svc, ep.ID)) == 1 })
	})
}
