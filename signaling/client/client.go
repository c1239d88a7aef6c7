// Package client is a Go client of the signalling protocol: it joins a meeting's room,
// keeps a pion peer connection negotiated with the server, and records every message
// the server sends. Tests and load tools use it in place of a browser.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/chamber/chamber/signaling"
)

// Options configure a client.
type Options struct {
	Token   string // join token
	Resume  string // resume token from an earlier joined message
	LastSeq int64  // replay journal events after this sequence number

	// API builds the peer connection; nil means NewAPI().
	API *webrtc.API
	// OnTrack is called for each track the server sends.
	OnTrack func(*webrtc.TrackRemote, *webrtc.RTPReceiver)
	// OnRTCP, if set, is called with the RTCP the server sends about a track this
	// client sends: receiver reports, NACKs and keyframe requests.
	OnRTCP func(webrtc.TrackLocal, []rtcp.Packet)
	// PingInterval is how often the client pings (default 10s).
	PingInterval time.Duration
	Logger       *slog.Logger
}

// Errors.
var (
	ErrClosed = errors.New("client closed")
)

// ServerError is an error message from the server. URL is set for wrong_node: the
// signalling URL of the node hosting the room.
type ServerError struct {
	Code, Message, URL string
}

func (e *ServerError) Error() string { return e.Code + ": " + e.Message }

// Client is one participant's connection to a room.
type Client struct {
	conn signaling.Conn
	pc   *webrtc.PeerConnection
	opts Options
	log  *slog.Logger

	joined signaling.ServerMessage

	mu      sync.Mutex // guards msgs, changed
	msgs    []signaling.ServerMessage
	changed chan struct{} // closed and replaced when a message arrives

	writeMu sync.Mutex // serialises writes to conn

	pubMu   sync.Mutex // guards pubWait, serial
	pubWait map[string]chan error
	serial  int

	ops  chan func() // negotiation, run in order by negotiate
	quit chan struct{}
	done chan struct{} // closed when the reader stops
	wg   sync.WaitGroup
	once sync.Once

	// Owned by the negotiate goroutine.
	offerSerial int
	offerID     string       // id of our pending offer
	wantOffer   bool         // offer again once stable
	waiters     []chan error // Negotiate calls waiting for an answer
	candidates  []webrtc.ICECandidateInit
}

// NewAPI returns a WebRTC API with pion's default codecs and interceptors that also
// gathers loopback candidates, for clients on the server's machine.
func NewAPI() (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	if err := m.RegisterHeaderExtension(
		webrtc.RTPHeaderExtensionCapability{URI: AudioLevelURI}, webrtc.RTPCodecTypeAudio,
	); err != nil {
		return nil, err
	}
	s := webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg),
		webrtc.WithSettingEngine(s)), nil
}

// AudioLevelURI names the RTP header extension that carries audio levels.
const AudioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// Dial opens a WebSocket to a hub's signalling URL (ws:// or wss://).
func Dial(ctx context.Context, url string, header http.Header) (signaling.Conn, error) {
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial %s: %w (HTTP %d)", url, err, resp.StatusCode)
		}
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	return signaling.NewWebSocketConn(ws, 0), nil
}

// Join sends the join message over conn and waits for the server's joined message.
// On failure the connection is closed.
func Join(ctx context.Context, conn signaling.Conn, opts Options) (*Client, error) {
	api := opts.API
	if api == nil {
		var err error
		if api, err = NewAPI(); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if opts.PingInterval <= 0 {
		opts.PingInterval = 10 * time.Second
	}
	c := &Client{
		conn:    conn,
		opts:    opts,
		log:     opts.Logger,
		changed: make(chan struct{}),
		pubWait: make(map[string]chan error),
		ops:     make(chan func(), 256),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.pc = pc
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		c.Send(signaling.ClientMessage{Type: signaling.MsgCandidate, Candidate: &signaling.Candidate{
			Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex,
			UsernameFragment: init.UsernameFragment,
		}})
	})
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		if c.opts.OnTrack != nil {
			c.opts.OnTrack(t, r)
			return
		}
		// Nobody wants it: read and discard so that the buffers never fill.
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
		}
	})

	c.wg.Add(3)
	go c.read()
	go c.negotiate()
	go c.ping()

	if err := c.Send(signaling.ClientMessage{
		V: signaling.ProtocolVersion, Type: signaling.MsgJoin, ID: "join",
		Token: opts.Token, Resume: opts.Resume, LastSeq: opts.LastSeq,
	}); err != nil {
		c.Close()
		return nil, err
	}
	m, _, err := c.Wait(ctx, 0, func(m signaling.ServerMessage) bool {
		return m.Type == signaling.MsgJoined || (m.Type == signaling.MsgError && m.Ref == "join")
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	if m.Type == signaling.MsgError {
		c.Close()
		return nil, &ServerError{Code: m.Code, Message: m.Message, URL: m.URL}
	}
	c.joined = m
	return c, nil
}

// maxRedirects bounds how many wrong_node answers Connect follows.
const maxRedirects = 3

// Connect dials the signalling URL a join endpoint gave and joins. A node that does
// not host the meeting's room answers wrong_node with the host's URL; Connect dials
// that and joins there.
func Connect(ctx context.Context, url string, header http.Header, opts Options) (*Client, error) {
	for hop := 0; ; hop++ {
		conn, err := Dial(ctx, url, header)
		if err != nil {
			return nil, err
		}
		c, err := Join(ctx, conn, opts)
		var se *ServerError
		if hop < maxRedirects && errors.As(err, &se) && se.Code == signaling.CodeWrongNode && se.URL != "" {
			url = se.URL
			continue
		}
		return c, err
	}
}

// Joined returns the server's joined message.
func (c *Client) Joined() signaling.ServerMessage { return c.joined }

// PeerConnection returns the client's peer connection.
func (c *Client) PeerConnection() *webrtc.PeerConnection { return c.pc }

// Done is closed when the connection to the server has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// Send sends one message.
func (c *Client) Send(m signaling.ClientMessage) error {
	b, err := jsonMarshal(m)
	if err != nil {
		return err
	}
	return c.SendRaw(b)
}

// SendRaw sends bytes as one message, whatever they are.
func (c *Client) SendRaw(b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.conn.WriteMessage(b)
}

// Mark returns the number of messages received so far, for Wait.
func (c *Client) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

// Messages returns a copy of every message received.
func (c *Client) Messages() []signaling.ServerMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]signaling.ServerMessage(nil), c.msgs...)
}

// Wait returns the first message at index from or later that match accepts, and the
// index after it. It fails when ctx is done or the connection has ended without one.
func (c *Client) Wait(ctx context.Context, from int, match func(signaling.ServerMessage) bool) (signaling.ServerMessage, int, error) {
	for {
		c.mu.Lock()
		for i := from; i < len(c.msgs); i++ {
			if match(c.msgs[i]) {
				m := c.msgs[i]
				c.mu.Unlock()
				return m, i + 1, nil
			}
		}
		from = len(c.msgs)
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.done:
			// One last look: the final messages may have arrived with the close.
			c.mu.Lock()
			n := len(c.msgs)
			c.mu.Unlock()
			if n > from {
				continue
			}
			return signaling.ServerMessage{}, from, ErrClosed
		case <-ctx.Done():
			return signaling.ServerMessage{}, from, ctx.Err()
		}
	}
}

// WaitType waits for the next message of type typ at index from or later.
func (c *Client) WaitType(ctx context.Context, from int, typ string) (signaling.ServerMessage, int, error) {
	return c.Wait(ctx, from, func(m signaling.ServerMessage) bool { return m.Type == typ })
}

// AddTrack adds a track to send; call Negotiate to offer it.
func (c *Client) AddTrack(track webrtc.TrackLocal) (*webrtc.RTPSender, error) {
	s, err := c.pc.AddTrack(track)
	if err != nil {
		return nil, err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if on := c.opts.OnRTCP; on != nil {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				on(track, pkts)
			}
		}
		buf := make([]byte, 1500)
		for {
			if _, _, err := s.Read(buf); err != nil {
				return
			}
		}
	}()
	return s, nil
}

// Publish adds tracks and has the server offer a receive slot for each, answering
// that offer with the tracks. Every negotiation stays server-driven, so offers never
// cross (pion cannot roll back an offer). A refusal is returned as *ServerError.
func (c *Client) Publish(ctx context.Context, tracks ...webrtc.TrackLocal) ([]*webrtc.RTPSender, error) {
	var senders []*webrtc.RTPSender
	for _, t := range tracks {
		s, err := c.AddTrack(t)
		if err != nil {
			return nil, err
		}
		senders = append(senders, s)
	}
	waits := make([]chan error, len(tracks))
	ids := make([]string, len(tracks))
	c.pubMu.Lock()
	for i := range tracks {
		c.serial++
		ids[i] = "publish-" + strconv.Itoa(c.serial)
		waits[i] = make(chan error, 1)
		c.pubWait[ids[i]] = waits[i]
	}
	c.pubMu.Unlock()
	defer func() {
		c.pubMu.Lock()
		for _, id := range ids {
			delete(c.pubWait, id)
		}
		c.pubMu.Unlock()
	}()
	for i, t := range tracks {
		if err := c.Send(signaling.ClientMessage{Type: signaling.MsgPublish, ID: ids[i], Kind: t.Kind().String()}); err != nil {
			return nil, err
		}
	}
	// The offer answering the last request carries all the slots; an error for any
	// request comes before it.
	for i := len(waits) - 1; i >= 0; i-- {
		select {
		case err := <-waits[i]:
			if err != nil {
				return nil, err
			}
			return senders, nil
		case <-c.done:
			return nil, ErrClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return senders, nil
}

// settle tells a Publish call waiting on id how it went.
func (c *Client) settle(id string, err error) {
	c.pubMu.Lock()
	ch := c.pubWait[id]
	c.pubMu.Unlock()
	if ch != nil {
		select {
		case ch <- err:
		default:
		}
	}
}

// Negotiate offers the client's current tracks to the server and waits until the
// server has answered. A server error refusing the offer is returned as *ServerError.
// An offer that crosses one from the server cannot be rolled back by pion, so use it
// only when no server offer can be on its way; Publish has no such limit.
func (c *Client) Negotiate(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case c.ops <- func() {
		c.waiters = append(c.waiters, done)
		c.wantOffer = true
		c.maybeOffer()
	}:
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave sends leave and waits for the server to close the connection, then closes.
func (c *Client) Leave(ctx context.Context) error {
	err := c.Send(signaling.ClientMessage{Type: signaling.MsgLeave})
	if err == nil {
		select {
		case <-c.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	c.Close()
	return err
}

// Close drops the connection without leaving (as a network failure would) and
// releases everything the client holds.
func (c *Client) Close() error {
	c.once.Do(func() {
		close(c.quit)
		c.conn.Close()
		c.pc.GracefulClose()
	})
	c.wg.Wait()
	return nil
}

func (c *Client) read() {
	defer c.wg.Done()
	defer close(c.done)
	for {
		b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		m, err := signaling.DecodeServerMessage(b)
		if err != nil {
			c.log.Warn("bad server message", "err", err)
			continue
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		var op func()
		switch m.Type {
		case signaling.MsgOffer:
			op = func() { c.onOffer(m) }
		case signaling.MsgAnswer:
			op = func() { c.onAnswer(m) }
		case signaling.MsgCandidate:
			op = func() { c.onCandidate(m) }
		case signaling.MsgError:
			op = func() { c.onError(m) }
		case signaling.MsgClosed:
			return
		}
		if op != nil {
			select {
			case c.ops <- op:
			case <-c.quit:
				return
			}
		}
	}
}

func (c *Client) ping() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			c.Send(signaling.ClientMessage{Type: signaling.MsgPing})
		case <-c.quit:
			return
		case <-c.done:
			return
		}
	}
}

func (c *Client) negotiate() {
	defer c.wg.Done()
	defer func() {
		for _, w := range c.waiters {
			w <- ErrClosed
		}
	}()
	for {
		select {
		case op := <-c.ops:
			op()
		case <-c.quit:
			return
		}
	}
}

func (c *Client) maybeOffer() {
	if !c.wantOffer || c.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	offer, err := c.pc.CreateOffer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(offer)
	}
	if err != nil {
		c.finish(err)
		return
	}
	c.wantOffer = false
	c.offerSerial++
	c.offerID = "offer-" + strconv.Itoa(c.offerSerial)
	if err := c.Send(signaling.ClientMessage{Type: signaling.MsgOffer, ID: c.offerID, SDP: offer.SDP}); err != nil {
		c.finish(err)
	}
}

// finish tells every Negotiate call waiting for an answer how it went.
func (c *Client) finish(err error) {
	for _, w := range c.waiters {
		w <- err
	}
	c.waiters = nil
}

// onOffer answers a server offer. The client is the polite side: an offer of its own
// that collides is rolled back and made again afterwards.
func (c *Client) onOffer(m signaling.ServerMessage) {
	if c.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		if err := rollback(c.pc); err != nil {
			c.log.Warn("offers crossed and the client's cannot be rolled back", "err", err)
			c.finish(fmt.Errorf("offers crossed: %w", err))
			c.settle(m.Ref, err)
			return
		}
		c.offerID = ""
		c.wantOffer = true
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP}); err != nil {
		c.log.Warn("set server offer", "err", err)
		c.settle(m.Ref, err)
		return
	}
	answer, err := c.pc.CreateAnswer(nil)
	if err == nil {
		err = c.pc.SetLocalDescription(answer)
	}
	if err != nil {
		c.log.Warn("answer server offer", "err", err)
		c.settle(m.Ref, err)
		return
	}
	err = c.Send(signaling.ClientMessage{Type: signaling.MsgAnswer, SDP: answer.SDP})
	c.addCandidates()
	c.settle(m.Ref, err)
	c.maybeOffer()
}

// rollback abandons the pending local offer. (pion wants the offer's SDP with it.)
func rollback(pc *webrtc.PeerConnection) error {
	sdp := ""
	if d := pc.PendingLocalDescription(); d != nil {
		sdp = d.SDP
	}
	return pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback, SDP: sdp})
}

func (c *Client) onAnswer(m signaling.ServerMessage) {
	if m.Ref != c.offerID || c.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		return
	}
	c.offerID = ""
	err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	c.addCandidates()
	if !c.wantOffer || err != nil {
		c.finish(err)
	}
	c.maybeOffer()
}

func (c *Client) onError(m signaling.ServerMessage) {
	if m.Ref != "" {
		c.settle(m.Ref, &ServerError{Code: m.Code, Message: m.Message})
	}
	if m.Ref == "" || m.Ref != c.offerID {
		return
	}
	c.offerID = ""
	if c.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		rollback(c.pc)
	}
	if m.Code == signaling.CodeGlare {
		c.wantOffer = true // the server's offer is on its way; offer again after it
		return
	}
	c.finish(&ServerError{Code: m.Code, Message: m.Message})
}

func (c *Client) onCandidate(m signaling.ServerMessage) {
	if m.Candidate == nil {
		return
	}
	init := webrtc.ICECandidateInit{
		Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
		SDPMLineIndex: m.Candidate.SDPMLineIndex, UsernameFragment: m.Candidate.UsernameFragment,
	}
	if c.pc.RemoteDescription() == nil {
		c.candidates = append(c.candidates, init)
		return
	}
	if err := c.pc.AddICECandidate(init); err != nil {
		c.log.Debug("add candidate", "err", err)
	}
}

func (c *Client) addCandidates() {
	for _, init := range c.candidates {
		c.pc.AddICECandidate(init)
	}
	c.candidates = nil
}

func jsonMarshal(m signaling.ClientMessage) ([]byte, error) {
	return json.Marshal(m)
}
