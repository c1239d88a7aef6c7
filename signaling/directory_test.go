package signaling_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cuttable is a directory that one node can be cut off from, as if it had failed or
// lost its connection to Redis.
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

func nodeNamed(id string) signaling.Node {
	return signaling.Node{ID: id, URL: "ws://" + id + ".test/api/v1/rtc"}
}

// newNode starts a hub that shares dir with the other nodes of a deployment.
func newNode(t *testing.T, id string, dir signaling.RoomDirectory, ttl time.Duration) *env {
	t.Helper()
	return newEnv(t, func(c *signaling.Config) {
		c.Node = nodeNamed(id)
		c.Directory = dir
		c.LeaseTTL = ttl
	})
}

func TestLocalDirectory(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	d := signaling.NewLocalDirectory(clk.Now)
	a, b := nodeNamed("a"), nodeNamed("b")
	claim := func(n signaling.Node, meeting int64) string {
		t.Helper()
		host, err := d.Claim(ctx, meeting, n, 10*time.Second)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		return host.ID
	}
	for _, step := range []struct {
		name string
		do   func() string
		want string
	}{
		{"first claim wins", func() string { return claim(a, 1) }, "a"},
		{"another node is told the host", func() string { return claim(b, 1) }, "a"},
		{"another meeting is free", func() string { return claim(b, 2) }, "b"},
		{"renewed by its holder", func() string { clk.Advance(8 * time.Second); return claim(a, 1) }, "a"},
		{"still held after the first ttl", func() string { clk.Advance(8 * time.Second); return claim(b, 1) }, "a"},
		{"expired: taken over", func() string { clk.Advance(11 * time.Second); return claim(b, 1) }, "b"},
		{"release by another node is ignored", func() string { d.Release(ctx, 1, a); return claim(a, 1) }, "b"},
		{"released: free", func() string { d.Release(ctx, 1, b); return claim(a, 1) }, "a"},
	} {
		if got := step.do(); got != step.want {
			t.Errorf("%s: host %q, want %q", step.name, got, step.want)
		}
	}
}

func TestNodeValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		node signaling.Node
		ok   bool
	}{
		{"good", signaling.Node{ID: "node-1", URL: "wss://meet.example/api/v1/rtc"}, true},
		{"no id", signaling.Node{URL: "ws://a/api/v1/rtc"}, false},
		{"space in id", signaling.Node{ID: "node 1", URL: "ws://a/api/v1/rtc"}, false},
		{"http url", signaling.Node{ID: "a", URL: "http://a/api/v1/rtc"}, false},
		{"no url", signaling.Node{ID: "a"}, false},
	} {
		if err := tc.node.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate(%+v) = %v, want ok %v", tc.name, tc.node, err, tc.ok)
		}
	}
}

// TestRoomHostedByOneNode: the first node to need a meeting's room hosts it; the
// other sends clients there and opens no room of its own.
func TestRoomHostedByOneNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := signaling.NewLocalDirectory(nil)
	a := newNode(t, "a", dir, time.Minute)
	b := newNode(t, "b", dir, time.Minute)

	for _, tc := range []struct {
		name string
		hub  *signaling.Hub
	}{{"host", a.hub}, {"other node", b.hub}} {
		got, err := tc.hub.RoomURL(ctx, meetingID)
		if err != nil || got != nodeNamed("a").URL {
			t.Errorf("%s: RoomURL = %q, %v; want %q", tc.name, got, err, nodeNamed("a").URL)
		}
	}
	alice := a.join(ctx, member("alice", 11), client.Options{})

	_, err := client.Join(ctx, b.connect(), client.Options{Token: b.token(member("bob", 12)), API: b.api})
	var se *client.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeWrongNode || se.URL != nodeNamed("a").URL {
		t.Fatalf("joining at the other node: got %v, want %s with url %s", err, signaling.CodeWrongNode, nodeNamed("a").URL)
	}
	if rooms := b.hub.Rooms(); len(rooms) != 0 {
		t.Errorf("the other node opened rooms %v", rooms)
	}
	if got := b.counter("chamber_rtc_errors_total"); got != 1 {
		t.Errorf("chamber_rtc_errors_total at the other node = %v, want 1", got)
	}

	// Resuming at the wrong node is sent to the host too.
	conn := b.connect()
	_, err = client.Join(ctx, conn, client.Options{Resume: alice.Joined().ResumeToken, API: b.api})
	if !errors.As(err, &se) || se.Code != signaling.CodeWrongNode {
		t.Errorf("resuming at the other node: got %v, want %s", err, signaling.CodeWrongNode)
	}
	// Another meeting goes to whichever node needs it first.
	if got, err := b.hub.RoomURL(ctx, meetingID+1); err != nil || got != nodeNamed("b").URL {
		t.Errorf("RoomURL of a free meeting at b = %q, %v; want b's", got, err)
	}
}

// TestRoomLeaseReleasedWhenEmpty: a room that empties (or whose node stops) gives up
// its lease at once, so another node may host the meeting.
func TestRoomLeaseReleasedWhenEmpty(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := signaling.NewLocalDirectory(nil)
	a := newNode(t, "a", dir, time.Minute)
	b := newNode(t, "b", dir, time.Minute)

	alice := a.join(ctx, member("alice", 11), client.Options{})
	if err := alice.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the lease to be released", func() bool {
		host, err := dir.Claim(ctx, meetingID, nodeNamed("b"), time.Minute)
		return err == nil && host.ID == "b"
	})
	dir.Release(ctx, meetingID, nodeNamed("b"))

	a.join(ctx, member("alice", 11), client.Options{})
	if err := a.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := b.hub.RoomURL(ctx, meetingID); err != nil || got != nodeNamed("b").URL {
		t.Errorf("after the host stopped, RoomURL = %q, %v; want b's", got, err)
	}
	b.join(ctx, member("bob", 12), client.Options{})
}

// TestRoomMovesAfterLeaseLost: a node that could not renew its lease (cut off from the
// directory) loses the room to the node that claims it after the lease has expired;
// when it finds out, it sends its participants to the new host.
func TestRoomMovesAfterLeaseLost(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	dir := &cuttable{RoomDirectory: signaling.NewLocalDirectory(clk.Now), node: "a"}
	const ttl = 300 * time.Millisecond // renewed every 100ms, real time
	a := newNode(t, "a", dir, ttl)
	b := newNode(t, "b", dir, ttl)

	alice := a.join(ctx, member("alice", 11), client.Options{})
	dir.cut.Store(true)
	clk.Advance(time.Second) // the lease expires
	if got, err := b.hub.RoomURL(ctx, meetingID); err != nil || got != nodeNamed("b").URL {
		t.Fatalf("after a's lease expired, RoomURL at b = %q, %v; want b's", got, err)
	}
	b.join(ctx, member("bob", 12), client.Options{})

	dir.cut.Store(false)
	m, _, err := alice.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgError && m.Code == signaling.CodeWrongNode
	})
	if err != nil || m.URL != nodeNamed("b").URL {
		t.Fatalf("alice: waiting to be sent to b: %+v %v", m, err)
	}
	m, _, err = alice.WaitType(ctx, 0, signaling.MsgClosed)
	if err != nil || m.Reason != signaling.ReasonMoved {
		t.Errorf("alice: closed %+v %v, want reason %s", m, err, signaling.ReasonMoved)
	}
	waitFor(ctx, t, "a's room to close", func() bool { return len(a.hub.Rooms()) == 0 })
	// a now sends newcomers to b, and b's room goes on.
	if _, err := client.Join(ctx, a.connect(), client.Options{Token: a.token(member("carol", 13)), API: a.api}); !isWrongNode(err, nodeNamed("b").URL) {
		t.Errorf("joining at a after the move: got %v, want %s to b", err, signaling.CodeWrongNode)
	}
	if got := b.hub.Rooms()[meetingID]; got != 1 {
		t.Errorf("b's room has %d participants, want 1 (bob)", got)
	}
}

func isWrongNode(err error, url string) bool {
	var se *client.ServerError
	return errors.As(err, &se) && se.Code == signaling.CodeWrongNode && se.URL == url
}
