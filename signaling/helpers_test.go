package signaling_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/chamber/chamber/signaling"
	"github.com/chamber/chamber/signaling/client"
)

const meetingID = 1

var testKey = []byte("0123456789abcdef0123456789abcdef")

// env is a running hub with hand-written fakes for its collaborators.
type env struct {
	t        *testing.T
	hub      *signaling.Hub
	tokens   *signaling.Tokens
	journal  *fakeJournal
	presence *fakePresence
	reg      *prometheus.Registry
	api      *webrtc.API
}

func newEnv(t *testing.T, mutate ...func(*signaling.Config)) *env {
	t.Helper()
	e := &env{
		t:        t,
		tokens:   signaling.NewTokens(testKey, nil),
		journal:  &fakeJournal{},
		presence: &fakePresence{},
		reg:      prometheus.NewRegistry(),
	}
	level := slog.LevelError
	if os.Getenv("CHAMBER_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	cfg := signaling.Config{
		Tokens:     e.tokens,
		UDPHost:    "127.0.0.1",
		Journal:    e.journal,
		Presence:   e.presence,
		Registerer: e.reg,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	hub, err := signaling.NewHub(cfg)
	if err != nil {
		t.Fatalf("NewHub: %v", err)
	}
	e.hub = hub
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := hub.Shutdown(ctx); err != nil {
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Errorf("Shutdown: %v", err)
		}
	})
	if e.api, err = client.NewAPI(); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) token(g signaling.Grants) string {
	e.t.Helper()
	tok, err := e.tokens.Issue(g, time.Minute)
	if err != nil {
		e.t.Fatalf("Issue: %v", err)
	}
	return tok
}

// connect opens an in-memory connection to the hub.
func (e *env) connect() signaling.Conn {
	a, b := signaling.Pipe()
	go e.hub.Accept(context.Background(), b)
	return a
}

// join connects and joins with g's token; the client is closed when the test ends.
func (e *env) join(ctx context.Context, g signaling.Grants, opts client.Options) *client.Client {
	e.t.Helper()
	if opts.Token == "" && opts.Resume == "" {
		opts.Token = e.token(g)
	}
	if opts.API == nil {
		opts.API = e.api
	}
	c, err := client.Join(ctx, e.connect(), opts)
	if err != nil {
		e.t.Fatalf("join as %s: %v", g.Identity, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) counter(name string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				if m.Counter != nil {
					sum += m.Counter.GetValue()
				}
				if m.Gauge != nil {
					sum += m.Gauge.GetValue()
				}
			}
			return sum
		}
	}
	return 0
}

func grants(identity, role string) signaling.Grants {
	g := signaling.Grants{Identity: identity, Name: identity, MeetingID: meetingID, Role: role, CanSubscribe: true}
	switch role {
	case signaling.RoleChair, signaling.RoleClerk:
		g.CanPublish, g.CanAdmin = true, true
	case signaling.RoleMember, signaling.RoleOfficer:
		g.CanPublish = true
	case signaling.RoleObserver:
		g.Hidden = true
	}
	return g
}

func member(identity string, userID int64) signaling.Grants {
	g := grants(identity, signaling.RoleMember)
	g.UserID = userID
	return g
}

// fakeJournal is an in-memory journal; Publish appends and returns the event.
type fakeJournal struct {
	mu     sync.Mutex
	events []signaling.MeetingEvent
	fail   error
	calls  int
}

func (j *fakeJournal) EventsAfter(ctx context.Context, meeting, after int64) ([]signaling.MeetingEvent, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.calls++
	if j.fail != nil {
		return nil, j.fail
	}
	var out []signaling.MeetingEvent
	for _, ev := range j.events {
		if ev.MeetingID == meeting && ev.Seq > after {
			out = append(out, ev)
		}
	}
	return out, nil
}

// append journals an event of type typ and returns it.
func (j *fakeJournal) append(typ string, private bool, data any) signaling.MeetingEvent {
	j.mu.Lock()
	defer j.mu.Unlock()
	raw, _ := json.Marshal(data)
	ev := signaling.MeetingEvent{
		MeetingID: meetingID, Seq: int64(len(j.events) + 1), Type: typ,
		At: time.Unix(1700000000, 0).UTC(), Private: private, Data: raw,
	}
	j.events = append(j.events, ev)
	return ev
}

// fakePresence records presence calls.
type fakePresence struct {
	mu    sync.Mutex
	calls []string
}

func (p *fakePresence) OnJoin(ctx context.Context, meeting, user int64, at time.Time) {
	p.record("join", meeting, user)
}

func (p *fakePresence) OnLeave(ctx context.Context, meeting, user int64, at time.Time) {
	p.record("leave", meeting, user)
}

func (p *fakePresence) record(what string, meeting, user int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, what+" "+itoa(meeting)+"/"+itoa(user))
}

func (p *fakePresence) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// recorder counts the RTP packets a client receives, per track id.
type recorder struct {
	mu     sync.Mutex
	counts map[string]*atomic.Int64
	kinds  map[string]string
}

func newRecorder() *recorder {
	return &recorder{counts: make(map[string]*atomic.Int64), kinds: make(map[string]string)}
}

func (r *recorder) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	r.mu.Lock()
	n := r.counts[t.ID()]
	if n == nil {
		n = new(atomic.Int64)
		r.counts[t.ID()] = n
		r.kinds[t.ID()] = t.Kind().String()
	}
	r.mu.Unlock()
	for {
		if _, _, err := t.ReadRTP(); err != nil {
			return
		}
		n.Add(1)
	}
}

func (r *recorder) count(trackID string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.counts[trackID]; n != nil {
		return n.Load()
	}
	return 0
}

func (r *recorder) total() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sum int64
	for _, n := range r.counts {
		sum += n.Load()
	}
	return sum
}

// waitPackets waits until trackID has delivered at least n packets.
func (r *recorder) waitPackets(ctx context.Context, t *testing.T, who, trackID string, n int64) {
	t.Helper()
	for r.count(trackID) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: got %d packets on track %s, want at least %d", who, r.count(trackID), trackID, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// publisher is a client sending synthetic Opus and VP8.
type publisher struct {
	*client.Client
	audio, video *webrtc.TrackLocalStaticRTP
	cancel       context.CancelFunc
	done         sync.WaitGroup
}

// publish adds an audio and a video track to c, negotiates and starts sending.
func publish(ctx context.Context, t *testing.T, c *client.Client) *publisher {
	t.Helper()
	p := &publisher{Client: c}
	var err error
	p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "cam")
	if err != nil {
		t.Fatal(err)
	}
	p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", "cam")
	if err != nil {
		t.Fatal(err)
	}
	senders, err := c.Publish(ctx, p.audio, p.video)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	as := senders[0]
	var levelID uint8
	for _, ext := range as.GetParameters().HeaderExtensions {
		if ext.URI == client.AudioLevelURI {
			levelID = uint8(ext.ID)
		}
	}
	sctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done.Add(2)
	go func() {
		defer p.done.Done()
		client.Synth{Kind: webrtc.RTPCodecTypeAudio, LevelID: levelID, Level: 20}.Run(sctx, p.audio)
	}()
	go func() {
		defer p.done.Done()
		client.Synth{Kind: webrtc.RTPCodecTypeVideo, Bitrate: 300_000, FPS: 15}.Run(sctx, p.video)
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *publisher) stop() {
	p.cancel()
	p.done.Wait()
}

// tracksOf waits until c has been told of count tracks published by identity and returns their ids by kind.
func tracksOf(ctx context.Context, t *testing.T, c *client.Client, identity string, count int) map[string]string {
	t.Helper()
	for {
		got := map[string]string{}
		for _, tr := range c.Joined().Tracks {
			if tr.Identity == identity {
				got[tr.Kind] = tr.ID
			}
		}
		for _, m := range c.Messages() {
			switch {
			case m.Type == signaling.MsgTrackPublished && m.Track.Identity == identity:
				got[m.Track.Kind] = m.Track.ID
			case m.Type == signaling.MsgTrackUnpublished && m.Identity == identity:
				for k, id := range got {
					if id == m.TrackID {
						delete(got, k)
					}
				}
			}
		}
		if len(got) >= count {
			return got
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tracks of %s: got %v, want %d", identity, got, count)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
