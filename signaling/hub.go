package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Hub. Only Tokens is required.
type Config struct {
	Tokens *Tokens

	// Media: every peer connection uses one UDP socket (ICE UDP mux) on UDPPort
	// (0 picks a free port) at UDPHost (empty: all interfaces). PublicIP, when set,
	// is advertised in place of the local address (NAT 1:1). ICEServers are passed to
	// clients in the joined message.
	UDPPort    int
	UDPHost    string
	PublicIP   string
	ICEServers []webrtc.ICEServer

	// AllowedOrigins lists the origins (scheme://host[:port]) besides the server's own
	// host whose pages may open the WebSocket; "*" allows any.
	AllowedOrigins []string

	Limits Limits

	Presence Presence // may be nil
	Ballots  Ballots  // may be nil: casting over the connection is refused
	Journal  Journal  // may be nil: no replay, no gap filling, rooms start public
	Bus      Bus      // may be nil: events arrive only through Deliver

	// Node names this node to its peers and to clients: an id unique in the deployment
	// and the URL of its signalling WebSocket. Directory, when not nil, records which
	// node hosts each meeting's room: a connection for a room hosted elsewhere is
	// refused with wrong_node and the host's URL. Nil: every room is hosted here.
	// LeaseTTL is how long a node's hold on a room lasts unless renewed (15s).
	Node      Node
	Directory RoomDirectory
	LeaseTTL  time.Duration

	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: a private registry
	Now        func() time.Time      // nil: time.Now
}

// Limits bound what one client may cost. Zero fields take the defaults.
type Limits struct {
	MaxMessageSize          int64         // bytes in one client message (64 KiB)
	MessageRate             float64       // sustained client messages per second (20)
	MessageBurst            int           // client messages allowed in a burst (100)
	SendQueue               int           // server messages queued for a client before it is dropped (512)
	PingInterval            time.Duration // how often the server pings (15s)
	PongWait                time.Duration // silence after which a client is gone (40s)
	WriteWait               time.Duration // time allowed for one write (10s)
	JoinTimeout             time.Duration // time allowed between connecting and joining (10s)
	ResumeWindow            time.Duration // how long a dropped participant may resume (30s)
	MaxTracksPerParticipant int           // tracks one participant may publish (4)
	MaxParticipants         int           // participants in one room, observers included (1000)
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxMessageSize:          64 << 10,
		MessageRate:             20,
		MessageBurst:            100,
		SendQueue:               512,
		PingInterval:            15 * time.Second,
		PongWait:                40 * time.Second,
		WriteWait:               10 * time.Second,
		JoinTimeout:             10 * time.Second,
		ResumeWindow:            30 * time.Second,
		MaxTracksPerParticipant: 4,
		MaxParticipants:         1000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = d.MaxMessageSize
	}
	if l.MessageRate <= 0 {
		l.MessageRate = d.MessageRate
	}
	if l.MessageBurst <= 0 {
		l.MessageBurst = d.MessageBurst
	}
	if l.SendQueue <= 0 {
		l.SendQueue = d.SendQueue
	}
	if l.PingInterval <= 0 {
		l.PingInterval = d.PingInterval
	}
	if l.PongWait <= 0 {
		l.PongWait = d.PongWait
	}
	if l.WriteWait <= 0 {
		l.WriteWait = d.WriteWait
	}
	if l.JoinTimeout <= 0 {
		l.JoinTimeout = d.JoinTimeout
	}
	if l.ResumeWindow <= 0 {
		l.ResumeWindow = d.ResumeWindow
	}
	if l.MaxTracksPerParticipant <= 0 {
		l.MaxTracksPerParticipant = d.MaxTracksPerParticipant
	}
	if l.MaxParticipants <= 0 {
		l.MaxParticipants = d.MaxParticipants
	}
	return l
}

// Errors returned by Hub methods.
var (
	ErrShuttingDown = errors.New("hub is shutting down")
	ErrJoinRefused  = errors.New("join refused")
	ErrWrongNode    = errors.New("room hosted by another node")
)

// resumeTokenTTL bounds a resume token's life; the room's resume window is the real limit.
const resumeTokenTTL = 24 * time.Hour

// presenceTimeout bounds one Presence call.
const presenceTimeout = 5 * time.Second

const (
	defaultLeaseTTL  = 15 * time.Second
	directoryTimeout = 3 * time.Second // bounds one RoomDirectory call
)

// Hub runs the rooms of this node and accepts client connections to them.
type Hub struct {
	limits     Limits
	log        *slog.Logger
	now        func() time.Time
	tokens     *Tokens
	journal    Journal
	presence   Presence
	ballots    Ballots
	iceServers []ICEServer
	origins    []string
	node       Node
	directory  RoomDirectory
	leaseTTL   time.Duration
	media      *media
	metrics    *metrics
	upgrader   websocket.Upgrader

	presenceQ    chan presenceCall
	presenceDone chan struct{}
	unsubscribe  func() error
	finishOnce   sync.Once

	mu      sync.Mutex // guards rooms, waiting, closing
	rooms   map[int64]*room
	waiting map[*connection]struct{} // connections that have not joined yet
	closing bool

	wg sync.WaitGroup // rooms, connections, peers, forwarders: everything Shutdown waits for
}

type presenceCall struct {
	join      bool
	meetingID int64
	userID    int64
	at        time.Time
}

// NewHub opens the media socket, subscribes to the bus and returns a running hub.
func NewHub(cfg Config) (*Hub, error) {
	if cfg.Tokens == nil {
		return nil, errors.New("new hub: no tokens")
	}
	h := &Hub{
		limits:       cfg.Limits.withDefaults(),
		log:          cfg.Logger,
		now:          cfg.Now,
		tokens:       cfg.Tokens,
		journal:      cfg.Journal,
		presence:     cfg.Presence,
		ballots:      cfg.Ballots,
		origins:      cfg.AllowedOrigins,
		node:         cfg.Node,
		directory:    cfg.Directory,
		leaseTTL:     cfg.LeaseTTL,
		presenceQ:    make(chan presenceCall, 4096),
		presenceDone: make(chan struct{}),
		rooms:        make(map[int64]*room),
		waiting:      make(map[*connection]struct{}),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.leaseTTL <= 0 {
		h.leaseTTL = defaultLeaseTTL
	}
	if h.directory != nil || h.node != (Node{}) {
		if err := h.node.Validate(); err != nil {
			return nil, fmt.Errorf("new hub: %w", err)
		}
	}
	for _, s := range cfg.ICEServers {
		is := ICEServer{URLs: s.URLs, Username: s.Username}
		if s.Credential != nil {
			is.Credential = fmt.Sprint(s.Credential)
		}
		h.iceServers = append(h.iceServers, is)
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	var err error
	if h.metrics, err = newMetrics(reg); err != nil {
		return nil, fmt.Errorf("new hub: %w", err)
	}
	if h.media, err = newMedia(&cfg, h.log); err != nil {
		return nil, fmt.Errorf("new hub: %w", err)
	}
	socketDrops := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "chamber_sfu_socket_dropped_packets_total",
		Help: "Packets dropped because the media socket's send queue was full.",
	}, func() float64 { return float64(h.media.udp.dropped.Load()) })
	if err := reg.Register(socketDrops); err != nil {
		h.media.close()
		return nil, fmt.Errorf("new hub: register metrics: %w", err)
	}
	h.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		CheckOrigin:      h.checkOrigin,
		Error:            h.upgradeError,
	}
	go h.presenceLoop()
	if cfg.Bus != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		unsub, err := cfg.Bus.SubscribeMeetingEvents(ctx, func(ev MeetingEvent) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			h.Deliver(ctx, ev)
		})
		if err != nil {
			close(h.presenceQ)
			h.media.close()
			return nil, fmt.Errorf("new hub: subscribe to meeting events: %w", err)
		}
		h.unsubscribe = unsub
	}
	return h, nil
}

// UDPAddr returns the address of the media socket.
func (h *Hub) UDPAddr() net.Addr { return h.media.udp.LocalAddr() }

// Deliver hands a meeting event to the meeting's room, if it is open on this node,
// waiting while the room's inbox is full until ctx is done. Rooms elsewhere get the
// event from the bus; rooms that open later read it from the journal.
func (h *Hub) Deliver(ctx context.Context, ev MeetingEvent) {
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		h.log.Warn("meeting event with invalid data dropped", "meeting", ev.MeetingID, "seq", ev.Seq, "type", ev.Type)
		return
	}
	h.mu.Lock()
	r := h.rooms[ev.MeetingID]
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.postCtx(ctx, func() { r.onEvent(ev) })
}

// Rooms reports the meetings with a room open on this node and how many participants each has.
func (h *Hub) Rooms() map[int64]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[int64]int, len(h.rooms))
	for id, r := range h.rooms {
		out[id] = int(r.size.Load())
	}
	return out
}

// Shutdown stops accepting connections, tells every room to close (each participant
// is sent a closed message), and waits for rooms, connections and media to finish or
// for ctx to be done.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	already := h.closing
	h.closing = true
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	waiting := make([]*connection, 0, len(h.waiting))
	for c := range h.waiting {
		waiting = append(waiting, c)
	}
	h.mu.Unlock()

	if !already {
		if h.unsubscribe != nil {
			if err := h.unsubscribe(); err != nil {
				h.log.Warn("unsubscribe from meeting events", "err", err)
			}
		}
		for _, r := range rooms {
			r.post(r.shutdown)
		}
		for _, c := range waiting {
			c.abort()
		}
	}

	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("hub shutdown: %w", ctx.Err())
	}
	h.finishOnce.Do(func() {
		close(h.presenceQ)
		if err := h.media.close(); err != nil {
			h.log.Debug("close media socket", "err", err)
		}
	})
	select {
	case <-h.presenceDone:
	case <-ctx.Done():
		return fmt.Errorf("hub shutdown: %w", ctx.Err())
	}
	return nil
}

// ServeHTTP upgrades the request to a WebSocket (checking its origin) and runs the
// connection until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(2 * h.limits.MaxMessageSize)
	if err := h.Accept(r.Context(), NewWebSocketConn(ws, h.limits.PongWait)); err != nil {
		h.log.Debug("signalling connection ended", "remote", r.RemoteAddr, "err", err)
	}
}

func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return slices.ContainsFunc(h.origins, func(o string) bool {
		return o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin)
	})
}

func (h *Hub) upgradeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	code, msg := CodeBadMessage, reason.Error()
	if status == http.StatusForbidden {
		code = CodeBadOrigin
		msg = fmt.Sprintf("origin %q may not open the signalling socket", r.Header.Get("Origin"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, msg})
}

// Accept runs one client connection: it waits for the join message, admits the
// client to its meeting's room and serves it until it leaves or the connection ends.
// The connection is closed when Accept returns.
func (h *Hub) Accept(ctx context.Context, conn Conn) error {
	c := newConnection(h, conn)
	if !h.enter(c) {
		conn.SetWriteDeadline(time.Now().Add(h.limits.WriteWait))
		conn.WriteMessage(encode(errorMessage("", CodeUnavailable, "the server is shutting down")))
		conn.Close()
		return ErrShuttingDown
	}
	defer h.wg.Done()
	h.wg.Add(1)
	go c.writeLoop()
	defer c.wait()

	req, err := c.readJoin()
	h.leaveWaiting(c)
	if err != nil {
		c.close()
		return err
	}
	host, err := h.hostFor(ctx, req.meetingID)
	if err != nil {
		h.log.Error("find the node hosting a room", "meeting", req.meetingID, "err", err)
		c.sendError(req.ref, CodeUnavailable, "the meeting's room cannot be found now: try again")
		c.close()
		return err
	}
	if host.ID != h.node.ID {
		c.sendWrongNode(req.ref, host)
		c.close()
		return fmt.Errorf("%w: meeting %d is hosted by node %s", ErrWrongNode, req.meetingID, host.ID)
	}
	r := h.attach(req.meetingID)
	if r == nil {
		c.sendError(req.ref, CodeUnavailable, "the server is shutting down")
		c.close()
		return ErrShuttingDown
	}
	c.room, c.identity = r, req.identity
	c.peer, err = newPeer(h, r, c)
	if err != nil {
		r.post(func() { r.pending.Add(-1) })
		c.sendError(req.ref, CodeUnavailable, "could not set up media")
		c.close()
		return fmt.Errorf("new peer: %w", err)
	}
	reply := make(chan *joinError, 1)
	r.post(func() { reply <- r.join(c, req) })
	// The room always answers: a pending join keeps it open.
	if jerr := <-reply; jerr != nil {
		c.peer.close()
		if jerr.code == CodeWrongNode {
			c.sendWrongNode(req.ref, Node{URL: jerr.url})
		} else {
			c.sendError(req.ref, jerr.code, "%s", jerr.msg)
		}
		c.close()
		return fmt.Errorf("%w: %s: %s", ErrJoinRefused, jerr.code, jerr.msg)
	}
	err = c.readLoop()
	handled := make(chan struct{})
	if r.post(func() { r.disconnected(c); close(handled) }) {
		select {
		case <-handled:
		case <-r.done: // the room closed with this still in its inbox
		}
	}
	c.close()
	return err
}

// RoomURL returns the signalling URL of the node hosting meetingID's room, choosing
// this node if none does: where a client should connect to join the meeting. Without a
// directory it is this node's own URL, which may be empty.
func (h *Hub) RoomURL(ctx context.Context, meetingID int64) (string, error) {
	host, err := h.hostFor(ctx, meetingID)
	if err != nil {
		return "", err
	}
	return host.URL, nil
}

// hostFor returns the node hosting meetingID's room, claiming the room for this node
// if no node holds it.
func (h *Hub) hostFor(ctx context.Context, meetingID int64) (Node, error) {
	if h.directory == nil {
		return h.node, nil
	}
	h.mu.Lock()
	r := h.rooms[meetingID]
	h.mu.Unlock()
	if r != nil && !r.moved.Load() {
		return h.node, nil // the room renews its lease
	}
	ctx, cancel := context.WithTimeout(ctx, directoryTimeout)
	defer cancel()
	host, err := h.directory.Claim(ctx, meetingID, h.node, h.leaseTTL)
	if err != nil {
		return Node{}, fmt.Errorf("claim the room of meeting %d: %w", meetingID, err)
	}
	return host, nil
}

// releaseLease gives up this node's lease on meetingID's room, unless a new room for
// the meeting has opened here since.
func (h *Hub) releaseLease(meetingID int64) {
	h.mu.Lock()
	_, open := h.rooms[meetingID]
	h.mu.Unlock()
	if open {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), directoryTimeout)
	defer cancel()
	if err := h.directory.Release(ctx, meetingID, h.node); err != nil {
		h.log.Warn("release the lease on a room", "meeting", meetingID, "err", err)
	}
}

// enter registers an arriving connection unless the hub is closing.
func (h *Hub) enter(c *connection) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.wg.Add(1)
	h.waiting[c] = struct{}{}
	return true
}

func (h *Hub) leaveWaiting(c *connection) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.waiting, c)
}

// attach returns the meeting's room, starting it if needed, with a pending join
// counted so that it cannot close before the join is handled. It returns nil when the
// hub is closing.
func (h *Hub) attach(meetingID int64) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil
	}
	r := h.rooms[meetingID]
	if r == nil {
		r = newRoom(h, meetingID)
		h.rooms[meetingID] = r
		h.metrics.rooms.Inc()
		h.wg.Add(1)
		go r.run()
	}
	r.pending.Add(1)
	return r
}

// removeRoom forgets r if no join is on its way to it; the room stops when it returns true.
func (h *Hub) removeRoom(r *room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.pending.Load() != 0 {
		return false
	}
	if h.rooms[r.id] == r {
		delete(h.rooms, r.id)
		h.metrics.rooms.Dec()
	}
	return true
}

// goTracked runs fn on a goroutine that Shutdown waits for. Only goroutines that are
// themselves tracked may call it, so the count cannot be zero while Shutdown waits.
func (h *Hub) goTracked(fn func()) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		fn()
	}()
}

func (h *Hub) presenceLoop() {
	defer close(h.presenceDone)
	for call := range h.presenceQ {
		if h.presence == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), presenceTimeout)
		if call.join {
			h.presence.OnJoin(ctx, call.meetingID, call.userID, call.at)
		} else {
			h.presence.OnLeave(ctx, call.meetingID, call.userID, call.at)
		}
		cancel()
	}
}

// notePresence queues a presence call without blocking the room.
func (h *Hub) notePresence(call presenceCall) {
	if h.presence == nil || call.userID == 0 {
		return
	}
	select {
	case h.presenceQ <- call:
	default:
		h.log.Error("presence queue full: attendance event lost",
			"meeting", call.meetingID, "user", call.userID, "join", call.join)
	}
}

// isClosedErr reports whether err means the connection is simply gone.
func isClosedErr(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF) ||
		websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived)
}
