package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/chamber/chamber/agenda"
	agendasql "github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/agenda/webhooks"
	"github.com/chamber/chamber/agenda/webhooks/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
)

var at = time.Date(2026, 5, 6, 17, 30, 0, 123456000, time.UTC)

// fixture makes a council with a published meeting whose journal has two events, and
// returns the store with the council's and the meeting's ids.
func fixture(t *testing.T, db *migrations.DB) (*sqlstore.Store, int64, agenda.Meeting) {
	t.Helper()
	ctx := context.Background()
	svc := agenda.NewService(agendasql.New(db), agenda.Options{Now: func() time.Time { return at },
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := svc.CreateAdmin(ctx, "admin@example.org", "Ada Admin", "correct horse battery")
	must(err)
	admin, err := svc.Actor(ctx, u.ID)
	must(err)
	c, err := svc.CreateCouncil(ctx, admin, agenda.CouncilInput{Name: "Cwm Derwen"})
	must(err)
	cm, err := svc.CreateCommittee(ctx, admin, c.ID, agenda.CommitteeInput{Name: "Planning"})
	must(err)
	m, err := svc.CreateMeeting(ctx, admin, agenda.MeetingInput{CommitteeID: cm.ID, Title: "Planning", StartsAt: at, Published: true})
	must(err)
	m, err = svc.StartMeeting(ctx, admin, m.ID)
	must(err)
	return sqlstore.New(db), c.ID, m
}

func TestStore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *migrations.DB) {
		ctx := context.Background()
		st, councilID, m := fixture(t, db)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		update := func(fn func(tx webhooks.Tx) error) { t.Helper(); must(st.Update(ctx, fn)) }

		expires := at.Add(time.Hour)
		ep := webhooks.Endpoint{CouncilID: councilID, URL: "https://hooks.example.org/", Description: "Press",
			EventTypes: []string{"meeting.started"}, Active: true, CreatedAt: at, UpdatedAt: at, PreviousSecretExpires: &expires,
			Keys: webhooks.SigningKeys{Current: "whsec_new", Previous: "whsec_old"}}
		update(func(tx webhooks.Tx) error { return tx.CreateEndpoint(ctx, &ep) })
		update(func(tx webhooks.Tx) error {
			got, err := tx.GetEndpoint(ctx, ep.ID)
			if err != nil {
				return err
			}
			if got.URL != ep.URL || got.Keys != ep.Keys || !got.PreviousSecretExpires.Equal(expires) || !got.CreatedAt.Equal(at) ||
				len(got.EventTypes) != 1 || !got.Active {
				t.Errorf("read back %+v, want %+v", got, ep)
			}
			return nil
		})
		missing := webhooks.Endpoint{ID: 9999, CouncilID: councilID, CreatedAt: at, UpdatedAt: at}
		err := st.Update(ctx, func(tx webhooks.Tx) error {
			for _, err := range []error{
				func() error { _, err := tx.GetEndpoint(ctx, 9999); return err }(),
				tx.UpdateEndpoint(ctx, missing),
				tx.DeleteEndpoint(ctx, 9999),
				func() error { _, err := tx.GetDelivery(ctx, "dlv_none"); return err }(),
			} {
				if !errors.Is(err, webhooks.ErrNotFound) {
					t.Errorf("got %v, want ErrNotFound", err)
				}
			}
			return nil
		})
		must(err)
		err = st.Update(ctx, func(tx webhooks.Tx) error {
			e := missing
			e.ID, e.CouncilID = 0, 9999
			return tx.CreateEndpoint(ctx, &e)
		})
		if !errors.Is(err, webhooks.ErrNotFound) {
			t.Errorf("an endpoint of a council that does not exist: %v, want ErrNotFound", err)
		}

		// The journal and the cursor.
		update(func(tx webhooks.Tx) error {
			ids, err := tx.MeetingsBehind(ctx, 10)
			if err != nil || len(ids) != 1 || ids[0] != m.ID {
				t.Errorf("MeetingsBehind = %v, %v; want [%d]", ids, err, m.ID)
			}
			seq, ok, err := tx.LockCursor(ctx, m.ID)
			if err != nil || !ok || seq != 0 {
				t.Errorf("LockCursor of a new cursor = %d, %v, %v", seq, ok, err)
			}
			js, err := tx.JournalState(ctx, m.ID)
			if err != nil || js != (webhooks.JournalState{CouncilID: councilID, Published: true, LastSeq: 2}) {
				t.Errorf("JournalState = %+v, %v", js, err)
			}
			evs, err := tx.Events(ctx, m.ID, 0, 1, 10)
			if err != nil || len(evs) != 1 || evs[0].Type != agenda.EvMeetingCreated || !evs[0].At.Equal(at) {
				t.Errorf("Events through 1 = %+v, %v", evs, err)
			}
			return tx.SetCursor(ctx, m.ID, 2)
		})
		update(func(tx webhooks.Tx) error {
			ids, err := tx.MeetingsBehind(ctx, 10)
			if err != nil || len(ids) != 0 {
				t.Errorf("MeetingsBehind after catching up = %v, %v; want none", ids, err)
			}
			return err
		})

		// Deliveries: one per endpoint and event; claims and settlements.
		payload := json.RawMessage(`{"id":"dlv_1"}`)
		d := webhooks.Delivery{ID: "dlv_01", EndpointID: ep.ID, CouncilID: councilID, MeetingID: m.ID, Seq: 2, Type: "meeting.started",
			Payload: payload, Status: webhooks.Pending, NextAttemptAt: &at, CreatedAt: at}
		update(func(tx webhooks.Tx) error {
			for i, id := range []string{"dlv_01", "dlv_02"} {
				d2 := d
				d2.ID = id
				created, err := tx.CreateDelivery(ctx, d2)
				if err != nil || created != (i == 0) {
					t.Errorf("CreateDelivery %s = %v, %v; want %v", id, created, err, i == 0)
				}
			}
			return nil
		})
		var claimed []webhooks.Delivery
		update(func(tx webhooks.Tx) error {
			if ds, err := tx.ClaimDue(ctx, at.Add(-time.Second), at.Add(time.Minute), "early", 5); err != nil || len(ds) != 0 {
				t.Errorf("ClaimDue before it is due = %v, %v", ds, err)
			}
			var err error
			claimed, err = tx.ClaimDue(ctx, at, at.Add(time.Minute), "me", 5)
			return err
		})
		if len(claimed) != 1 || claimed[0].Claim != "me" || claimed[0].Attempts != 1 || !claimed[0].LockedUntil.Equal(at.Add(time.Minute)) ||
			string(claimed[0].Payload) != string(payload) {
			t.Fatalf("claimed %+v", claimed)
		}
		update(func(tx webhooks.Tx) error {
			if ds, err := tx.ClaimDue(ctx, at, at.Add(time.Minute), "other", 5); err != nil || len(ds) != 0 {
				t.Errorf("ClaimDue of a claimed delivery = %v, %v", ds, err)
			}
			if ds, err := tx.ExpiredLeases(ctx, at.Add(30*time.Second), 5); err != nil || len(ds) != 0 {
				t.Errorf("ExpiredLeases within the lease = %v, %v", ds, err)
			}
			if ds, err := tx.ExpiredLeases(ctx, at.Add(time.Minute), 5); err != nil || len(ds) != 1 {
				t.Errorf("ExpiredLeases at the end of the lease = %v, %v", ds, err)
			}
			settled := claimed[0]
			now := at.Add(time.Second)
			settled.Status, settled.DeliveredAt, settled.NextAttemptAt, settled.LastAttemptAt, settled.LastStatusCode =
				webhooks.Delivered, &now, nil, &now, 200
			if held, err := tx.SettleDelivery(ctx, settled, "not me"); err != nil || held {
				t.Errorf("SettleDelivery with a stale claim = %v, %v; want false", held, err)
			}
			if held, err := tx.SettleDelivery(ctx, settled, "me"); err != nil || !held {
				t.Errorf("SettleDelivery = %v, %v; want true", held, err)
			}
			a := webhooks.Attempt{DeliveryID: d.ID, Number: 1, At: now, DurationMS: 12, StatusCode: 200, Response: "ok"}
			if err := tx.LogAttempt(ctx, &a); err != nil || a.ID == 0 {
				t.Errorf("LogAttempt = %v, id %d", err, a.ID)
			}
			got, err := tx.GetDelivery(ctx, d.ID)
			if err != nil || got.Status != webhooks.Delivered || got.Claim != "" || got.LockedUntil != nil || !got.DeliveredAt.Equal(now) ||
				got.LastStatusCode != 200 || got.NextAttemptAt != nil {
				t.Errorf("settled delivery %+v, %v", got, err)
			}
			log, err := tx.Attempts(ctx, d.ID)
			if err != nil || len(log) != 1 || log[0] != a {
				t.Errorf("Attempts = %+v, %v; want [%+v]", log, err, a)
			}
			page, err := tx.ListDeliveries(ctx, webhooks.DeliveryFilter{EndpointID: ep.ID, Status: webhooks.Delivered, Limit: 10})
			if err != nil || len(page) != 1 {
				t.Errorf("ListDeliveries = %v, %v", page, err)
			}
			if n, err := tx.Prune(ctx, at); err != nil || n != 0 {
				t.Errorf("Prune before it was created = %d, %v", n, err)
			}
			if n, err := tx.Prune(ctx, at.Add(time.Second)); err != nil || n != 1 {
				t.Errorf("Prune = %d, %v; want 1", n, err)
			}
			return nil
		})
	})
}

// TestCursorSkipsLocked: on PostgreSQL a dispatcher passes over a meeting whose cursor
// another holds, instead of waiting for it.
func TestCursorSkipsLocked(t *testing.T) {
	db := dbtest.Open(t, migrations.Postgres)
	st, _, m := fixture(t, db)
	ctx := context.Background()
	// The cursor exists. (Were it being created, the other would wait for the insert to
	// commit, briefly.)
	if err := st.Update(ctx, func(tx webhooks.Tx) error { _, _, err := tx.LockCursor(ctx, m.ID); return err }); err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- st.Update(ctx, func(tx webhooks.Tx) error {
			if _, ok, err := tx.LockCursor(ctx, m.ID); err != nil || !ok {
				t.Errorf("first LockCursor = %v, %v", ok, err)
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	err := st.Update(ctx, func(tx webhooks.Tx) error {
		_, ok, err := tx.LockCursor(ctx, m.ID)
		if ok {
			t.Errorf("LockCursor of a cursor another transaction holds: ok")
		}
		return err
	})
	close(release)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
