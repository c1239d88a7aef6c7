package redisbus_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
	"github.com/chamber/chamber/signaling/redisbus"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newBus returns a bus on its own Redis connection and a channel private to the test.
func newBus(t *testing.T, channel string) *redisbus.Bus {
	t.Helper()
	opts, err := redis.ParseURL(dbtest.RedisURL(t))
	if err != nil {
		t.Fatalf("CHAMBER_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return redisbus.New(rdb, channel, nil)
}

func testChannel(t *testing.T) string {
	return "chamber-test:" + t.Name() + ":" + time.Now().Format(time.RFC3339Nano)
}

func TestBusCarriesEvents(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := testChannel(t)
	a, b := newBus(t, ch), newBus(t, ch)
	got := make(chan signaling.MeetingEvent, 1)
	unsub, err := b.SubscribeMeetingEvents(ctx, func(ev signaling.MeetingEvent) { got <- ev })
	if err != nil {
		t.Fatal(err)
	}
	want := signaling.MeetingEvent{MeetingID: 5, Seq: 12, Type: "poll.closed", At: time.Unix(1700000000, 0).UTC(),
		Private: true, Data: json.RawMessage(`{"poll_id":3}`)}
	if err := a.PublishMeetingEvent(ctx, want); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if ev.MeetingID != want.MeetingID || ev.Seq != want.Seq || ev.Type != want.Type || !ev.At.Equal(want.At) ||
			ev.Private != want.Private || string(ev.Data) != string(want.Data) {
			t.Errorf("got %+v, want %+v", ev, want)
		}
	case <-ctx.Done():
		t.Fatal("event did not arrive")
	}
	if err := unsub(); err != nil {
		t.Errorf("unsubscribe: %v", err)
	}
}

// TestEventReachesRoomOnAnotherHub publishes an event through one node's bus and
// checks that participants of the meeting's rooms on both nodes receive it.
func TestEventReachesRoomOnAnotherHub(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ch := testChannel(t)
	tokens := signaling.NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client.Client
	var buses []*redisbus.Bus
	for i := range 2 {
		bus := newBus(t, ch)
		buses = append(buses, bus)
		hub, err := signaling.NewHub(signaling.Config{Tokens: tokens, UDPHost: "127.0.0.1", Bus: bus})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := hub.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
		g := signaling.Grants{Identity: "m" + string(rune('0'+i)), MeetingID: 9, Role: signaling.RoleMember, CanSubscribe: true}
		tok, err := tokens.Issue(g, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		a, b := signaling.Pipe()
		go hub.Accept(ctx, b)
		c, err := client.Join(ctx, a, client.Options{Token: tok, API: api})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
	}
	ev := signaling.MeetingEvent{MeetingID: 9, Seq: 1, Type: "item.opened", Data: json.RawMessage(`{"item_id":2}`)}
	if err := buses[0].PublishMeetingEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		m, _, err := c.WaitType(ctx, 0, signaling.MsgMeetingEvent)
		if err != nil {
			t.Fatalf("client on hub %d: %v", i, err)
		}
		if m.Seq != 1 || m.Event.Type != "item.opened" {
			t.Errorf("client on hub %d got %+v, want item.opened seq 1", i, m.Event)
		}
	}
}
