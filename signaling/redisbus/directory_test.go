package redisbus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
	"github.com/chamber/chamber/signaling/redisbus"
)

// newDirectory returns a directory on its own Redis connection, with keys private to
// the test, and that connection.
func newDirectory(t *testing.T, prefix string) (*redisbus.Directory, *redis.Client) {
	t.Helper()
	opts, err := redis.ParseURL(dbtest.RedisURL(t))
	if err != nil {
		t.Fatalf("CHAMBER_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return redisbus.NewDirectory(rdb, prefix), rdb
}

func node(id string) signaling.Node {
	return signaling.Node{ID: id, URL: "ws://" + id + ".test/api/v1/rtc"}
}

func TestDirectoryLeases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	prefix := testChannel(t) + ":room:"
	d, rdb := newDirectory(t, prefix)
	a, b := node("a"), node("b")
	claim := func(n signaling.Node, meeting int64, ttl time.Duration) signaling.Node {
		t.Helper()
		host, err := d.Claim(ctx, meeting, n, ttl)
		if err != nil {
			t.Fatalf("Claim(%d, %s): %v", meeting, n.ID, err)
		}
		return host
	}
	if got := claim(a, 1, time.Minute); got != a {
		t.Errorf("first claim: host %+v, want %+v", got, a)
	}
	if got := claim(b, 1, time.Minute); got != a {
		t.Errorf("claim by another node: host %+v, want %+v", got, a)
	}
	if got := claim(b, 2, time.Minute); got != b {
		t.Errorf("claim of another meeting: host %+v, want %+v", got, b)
	}
	// The lease is one key with a TTL, renewed by its holder (with its URL refreshed).
	moved := signaling.Node{ID: "a", URL: "wss://a.example/api/v1/rtc"}
	if got := claim(moved, 1, 2*time.Minute); got != moved {
		t.Errorf("renewal: host %+v, want %+v", got, moved)
	}
	if ttl := rdb.PTTL(ctx, prefix+"1").Val(); ttl <= time.Minute {
		t.Errorf("after renewal the lease's TTL is %v, want over a minute", ttl)
	}
	if got := claim(b, 1, time.Minute); got != moved {
		t.Errorf("claim after renewal: host %+v, want %+v", got, moved)
	}
	// Only the holder releases.
	if err := d.Release(ctx, 1, b); err != nil {
		t.Fatal(err)
	}
	if got := claim(b, 1, time.Minute); got != moved {
		t.Errorf("after a release by another node: host %+v, want %+v", got, moved)
	}
	if err := d.Release(ctx, 1, a); err != nil {
		t.Fatal(err)
	}
	if got := claim(b, 1, time.Minute); got != b {
		t.Errorf("after the holder released: host %+v, want %+v", got, b)
	}
	// A lease nobody renews expires, and another node takes the room.
	if got := claim(a, 3, 200*time.Millisecond); got != a {
		t.Fatalf("short lease: host %+v, want %+v", got, a)
	}
	waitFor(ctx, t, "the short lease to expire", func() bool { return claim(b, 3, time.Minute) == b })
	if err := d.Release(ctx, 4, a); err != nil {
		t.Errorf("releasing a room nobody holds: %v", err)
	}
	for _, m := range []int64{1, 2, 3} {
		d.Release(ctx, m, b)
	}
}

// cuttable is a directory that one node can be cut off from, as if it had failed.
type cuttable struct {
	signaling.RoomDirectory
	node string
	cut  atomic.Bool
}

var errCut = errors.New("directory unreachable")

func (d *cuttable) Claim(ctx context.Context, meetingID int64, self signaling.Node, ttl time.Duration) (signaling.Node, error) {
	if self.ID == d.node && d.cut.Load() {
		return signaling.Node{}, errCut
	}
	return d.RoomDirectory.Claim(ctx, meetingID, self, ttl)
}

func (d *cuttable) Release(ctx context.Context, meetingID int64, self signaling.Node) error {
	if self.ID == d.node && d.cut.Load() {
		return errCut
	}
	return d.RoomDirectory.Release(ctx, meetingID, self)
}

// TestHubsShareRoomsThroughRedis: two nodes with one Redis. The first to need a
// meeting's room hosts it and the other sends clients there; when the host fails
// (stops without releasing its lease), the other hosts the room once the lease has
// expired.
func TestHubsShareRoomsThroughRedis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prefix := testChannel(t) + ":room:"
	tokens := signaling.NewTokens([]byte("0123456789abcdef0123456789abcdef"), nil)
	api, err := client.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	const meeting, ttl = 9, time.Second
	hubs := map[string]*signaling.Hub{}
	dirs := map[string]*cuttable{}
	for _, id := range []string{"a", "b"} {
		d, _ := newDirectory(t, prefix)
		dirs[id] = &cuttable{RoomDirectory: d, node: id}
		hub, err := signaling.NewHub(signaling.Config{Tokens: tokens, UDPHost: "127.0.0.1",
			Node: node(id), Directory: dirs[id], LeaseTTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		hubs[id] = hub
		t.Cleanup(func() {
			if err := hub.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	join := func(hub *signaling.Hub, identity string) (*client.Client, error) {
		tok, err := tokens.Issue(signaling.Grants{Identity: identity, MeetingID: meeting, Role: signaling.RoleMember,
			CanPublish: true, CanSubscribe: true}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		a, b := signaling.Pipe()
		go hub.Accept(ctx, b)
		c, err := client.Join(ctx, a, client.Options{Token: tok, API: api})
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
		return c, err
	}

	if got, err := hubs["a"].RoomURL(ctx, meeting); err != nil || got != node("a").URL {
		t.Fatalf("RoomURL at a = %q, %v; want a's", got, err)
	}
	if got, err := hubs["b"].RoomURL(ctx, meeting); err != nil || got != node("a").URL {
		t.Errorf("RoomURL at b = %q, %v; want a's", got, err)
	}
	if _, err := join(hubs["a"], "alice"); err != nil {
		t.Fatalf("alice at a: %v", err)
	}
	_, err = join(hubs["b"], "bob")
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeWrongNode || se.URL != node("a").URL {
		t.Fatalf("bob at b: got %v, want %s to a", err, signaling.CodeWrongNode)
	}

	// a fails: it can neither renew nor release its lease.
	dirs["a"].cut.Store(true)
	if err := hubs["a"].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := hubs["b"].RoomURL(ctx, meeting); err != nil || got != node("a").URL {
		t.Errorf("RoomURL at b while a's lease lasts = %q, %v; want a's", got, err)
	}
	waitFor(ctx, t, "b to host the room", func() bool {
		got, err := hubs["b"].RoomURL(ctx, meeting)
		return err == nil && got == node("b").URL
	})
	if _, err := join(hubs["b"], "bob"); err != nil {
		t.Fatalf("bob at b after a failed: %v", err)
	}
	if got := hubs["b"].Rooms()[meeting]; got != 1 {
		t.Errorf("b's room has %d participants, want 1", got)
	}
}

// waitFor polls cond until it holds or ctx is done.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
