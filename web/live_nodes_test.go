package web_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/chamber/chamber/agenda"
	"github.com/chamber/chamber/agenda/sqlstore"
	"github.com/chamber/chamber/migrations"
	"github.com/chamber/chamber/migrations/dbtest"
	"github.com/chamber/chamber/signaling"
	rtcclient "github.com/chamber/chamber/signaling/client"
	"github.com/chamber/chamber/signaling/redisbus"
	"github.com/chamber/chamber/voting"
	votingsql "github.com/chamber/chamber/voting/sqlstore"
	"github.com/chamber/chamber/web"
)

// failable is a room directory that one node can be cut off from, as if it had failed.
type failable struct {
	signaling.RoomDirectory
	failed atomic.Bool
}

var errNodeDown = errors.New("node down")

func (d *failable) Claim(ctx context.Context, meetingID int64, self signaling.Node, ttl time.Duration) (signaling.Node, error) {
	if d.failed.Load() {
		return signaling.Node{}, errNodeDown
	}
	return d.RoomDirectory.Claim(ctx, meetingID, self, ttl)
}

func (d *failable) Release(ctx context.Context, meetingID int64, self signaling.Node) error {
	if d.failed.Load() {
		return errNodeDown
	}
	return d.RoomDirectory.Release(ctx, meetingID, self)
}

// node is one server of a deployment: its own agenda service, hub and HTTP server
// over the shared database and Redis.
type node struct {
	*env
	id        string
	hub       *signaling.Hub
	directory *failable
}

// nodeLeaseTTL is short so that a failed node's rooms move on quickly.
const nodeLeaseTTL = time.Second

func newNode(t *testing.T, id string, db *migrations.DB, clk *clock, rdb *redis.Client, prefix string) *node {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	public := "http://" + ts.Listener.Addr().String()
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", id)
	polls := votingsql.New(db)
	svc := agenda.NewService(sqlstore.New(db), agenda.Options{Logger: log, Now: clk.Now,
		Password: agenda.PasswordParams{Memory: 64, Time: 1, Threads: 1}, Polls: polls})
	votes := voting.NewService(polls, svc, voting.Options{Logger: log, Now: clk.Now, LogKey: logKey, Origin: public, MotionDecider: svc})
	tokens := signaling.NewTokens([]byte(roomKey), clk.Now)
	dir := &failable{RoomDirectory: redisbus.NewDirectory(rdb, prefix)}
	hub, err := signaling.NewHub(signaling.Config{
		Tokens:    tokens,
		UDPHost:   "127.0.0.1",
		Node:      signaling.Node{ID: id, URL: web.SignallingURL(public)},
		Directory: dir,
		LeaseTTL:  nodeLeaseTTL,
		Bus:       redisbus.New(rdb, prefix+"events", log),
		Logger:    log,
	})
	if err != nil {
		t.Fatalf("node %s: NewHub: %v", id, err)
	}
	reg := prometheus.NewRegistry()
	srv, err := web.New(web.Config{Agenda: svc, Voting: votes, RTC: hub, RoomTokens: tokens, PublicURL: public,
		Registry: reg, Logger: log, Now: clk.Now})
	if err != nil {
		t.Fatalf("node %s: web.New: %v", id, err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			t.Errorf("node %s: hub shutdown: %v", id, err)
		}
	})
	e := &env{t: t, db: db, svc: svc, votes: votes, srv: srv, ts: ts, clock: clk, reg: reg, logs: logs, tokens: tokens}
	return &node{env: e, id: id, hub: hub, directory: dir}
}

// fail stops the node as a crash would: it neither renews nor releases its leases.
func (n *node) fail() {
	n.directory.failed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.hub.Shutdown(ctx); err != nil {
		n.t.Errorf("node %s: hub shutdown: %v", n.id, err)
	}
	n.ts.Close()
}

// as returns c's credentials used at node n.
func (n *node) as(c *client) *client {
	return &client{e: n.env, bearer: c.bearer}
}

func (n *node) signallingURL() string { return web.SignallingURL(n.ts.URL) }

// committee is a council's committee with a chair and a member, and a published
// meeting of it, set up through the API.
type committee struct {
	chair, member *client
	meeting       int64
}

func newCommittee(t *testing.T, e *env) committee {
	t.Helper()
	admin, err := e.svc.CreateAdmin(context.Background(), "admin@example.org", "Ada Admin", "admin password 1")
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	adminC := e.tokenFor(admin.ID)
	council := adminC.create("/api/v1/councils", map[string]string{"name": "North Shire Council"})
	person := func(name, email, role string) int64 {
		var p web.PersonResponse
		adminC.do("POST", path("/api/v1/councils/%d/people", council),
			map[string]string{"name": name, "email": email, "role": role}).want(http.StatusCreated).into(&p)
		return p.UserID
	}
	clerk := e.tokenFor(person("Cleo Clerk", "clerk@north.example", "clerk"))
	chairID := person("Cllr Chair", "chair@north.example", "councillor")
	memberID := person("Cllr Member", "member@north.example", "councillor")
	com := clerk.create(path("/api/v1/councils/%d/committees", council), map[string]string{"name": "Planning Committee"})
	for id, role := range map[int64]string{chairID: "chair", memberID: "member"} {
		clerk.do("PUT", path("/api/v1/committees/%d/members/%d", com, id), map[string]string{"role": role}).want(http.StatusOK)
	}
	meeting := clerk.create("/api/v1/meetings", map[string]any{"committee_id": com, "title": "Planning Committee",
		"starts_at": "2026-06-01T09:00:00Z", "published": true})
	return committee{chair: e.tokenFor(chairID), member: e.tokenFor(memberID), meeting: meeting}
}

// packetCounter counts the RTP packets a participant receives.
type packetCounter struct{ n atomic.Int64 }

func (p *packetCounter) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	for {
		if _, _, err := t.ReadRTP(); err != nil {
			return
		}
		p.n.Add(1)
	}
}

// connectJoined connects to the room at the URL a join endpoint gave.
func connectJoined(ctx context.Context, t *testing.T, j web.JoinResponse, onTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)) *rtcclient.Client {
	t.Helper()
	c, err := rtcclient.Connect(ctx, j.URL, nil, rtcclient.Options{Token: j.Token, OnTrack: onTrack})
	if err != nil {
		t.Fatalf("connect %s to %s: %v", j.Identity, j.URL, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// publishVideo sends synthetic VP8 from c until the test ends.
func publishVideo(ctx context.Context, t *testing.T, c *rtcclient.Client) {
	t.Helper()
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "cam")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, track); err != nil {
		t.Fatalf("publish: %v", err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		rtcclient.Synth{Kind: webrtc.RTPCodecTypeVideo, Bitrate: 200_000, FPS: 15}.Run(sctx, track)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func waitPackets(ctx context.Context, t *testing.T, who string, p *packetCounter, n int64) {
	t.Helper()
	for p.n.Load() < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%s received %d RTP packets, want at least %d", who, p.n.Load(), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestLiveRoomAcrossNodes: two nodes share the database and Redis. Whichever node a
// participant asks, the join endpoints send everyone to the one node hosting the
// meeting's room, where they see and hear each other; a WebSocket opened at the other
// node is sent there. When the host fails, the other node hosts the room once its
// lease has expired.
func TestLiveRoomAcrossNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts, err := redis.ParseURL(dbtest.RedisURL(t))
	if err != nil {
		t.Fatalf("CHAMBER_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	prefix := "chamber-test:" + t.Name() + ":" + time.Now().Format(time.RFC3339Nano) + ":"

	db := dbtest.Open(t, migrations.SQLite)
	clk := &clock{t: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)}
	a := newNode(t, "node-a", db, clk, rdb, prefix)
	b := newNode(t, "node-b", db, clk, rdb, prefix)
	w := newCommittee(t, a.env)
	join := path("/api/v1/meetings/%d/join", w.meeting)

	// The first join chooses the host; every later one, at either node, is sent there.
	var member, chair, observer web.JoinResponse
	a.as(w.member).do("POST", join, nil).want(http.StatusOK).into(&member)
	b.as(w.chair).do("POST", join, nil).want(http.StatusOK).into(&chair)
	b.public().do("POST", join, nil).want(http.StatusOK).into(&observer)
	for _, j := range []web.JoinResponse{member, chair, observer} {
		if j.URL != a.signallingURL() {
			t.Errorf("%s's join: url %q, want node a's %q", j.Role, j.URL, a.signallingURL())
		}
	}

	memberPeer := connectJoined(ctx, t, member, nil)
	var chairGot, observerGot packetCounter
	connectJoined(ctx, t, chair, chairGot.onTrack)
	// A client that opens the WebSocket at the wrong node is told where to go.
	conn, err := rtcclient.Dial(ctx, b.signallingURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rtcclient.Join(ctx, conn, rtcclient.Options{Token: observer.Token})
	var se *rtcclient.ServerError
	if !errors.As(err, &se) || se.Code != signaling.CodeWrongNode || se.URL != a.signallingURL() {
		t.Fatalf("joining at node b: got %v, want %s to %s", err, signaling.CodeWrongNode, a.signallingURL())
	}
	observer.URL = b.signallingURL() // Connect follows the error to node a
	connectJoined(ctx, t, observer, observerGot.onTrack)

	publishVideo(ctx, t, memberPeer)
	waitPackets(ctx, t, "the chair (joined at node b)", &chairGot, 30)
	waitPackets(ctx, t, "the observer (connected at node b)", &observerGot, 30)
	if rooms := b.hub.Rooms(); len(rooms) != 0 {
		t.Errorf("node b opened rooms %v", rooms)
	}
	if got := a.hub.Rooms()[w.meeting]; got != 3 {
		t.Errorf("node a's room has %d participants, want 3", got)
	}

	// Node a fails. Until its lease runs out, b still names it; then b hosts the room.
	a.fail()
	var again web.JoinResponse
	b.as(w.member).do("POST", join, nil).want(http.StatusOK).into(&again)
	if again.URL != a.signallingURL() && again.URL != b.signallingURL() {
		t.Errorf("join at b just after a failed: url %q", again.URL)
	}
	for again.URL != b.signallingURL() {
		select {
		case <-ctx.Done():
			t.Fatalf("node b still sends joins to %q", again.URL)
		case <-time.After(100 * time.Millisecond):
		}
		b.as(w.member).do("POST", join, nil).want(http.StatusOK).into(&again)
	}
	memberPeer = connectJoined(ctx, t, again, nil)
	var chairAgain packetCounter
	b.as(w.chair).do("POST", join, nil).want(http.StatusOK).into(&chair)
	if chair.URL != b.signallingURL() {
		t.Errorf("chair's join after the failover: url %q, want node b's", chair.URL)
	}
	connectJoined(ctx, t, chair, chairAgain.onTrack)
	publishVideo(ctx, t, memberPeer)
	waitPackets(ctx, t, "the chair at node b", &chairAgain, 30)
}
