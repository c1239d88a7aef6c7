package signaling

import (
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"
)

const maxPendingCandidates = 64

// peer is the server's end of one connection's WebRTC peer connection. Its goroutine
// owns the negotiation: it applies the client's offers, answers and candidates, adds
// and removes the tracks the room wants the client to receive, and offers whenever
// those change. The server is the impolite side: a client offer that collides with a
// pending server offer is refused with a glare error.
type peer struct {
	hub  *Hub
	room *room
	c    *connection
	pc   *webrtc.PeerConnection
	sub  *subscriber
	log  *slog.Logger

	mu        sync.Mutex // guards ops, wanted, hasWanted, closed
	ops       []func()
	wanted    []*forwarder
	hasWanted bool
	closed    bool
	wake      chan struct{}
	quit      chan struct{}
	done      chan struct{}

	// Owned by run.
	downs      map[*forwarder]*downTrack
	senders    map[*forwarder]*webrtc.RTPSender
	candidates []webrtc.ICECandidateInit
	needOffer  bool
	offerRef   string // id of the publish request the next offer answers
	slots      int    // receive slots offered for the client to publish into
}

func newPeer(h *Hub, r *room, c *connection) (*peer, error) {
	pc, err := h.media.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return nil, err
	}
	p := &peer{
		hub:     h,
		room:    r,
		c:       c,
		pc:      pc,
		sub:     newSubscriber(h.metrics),
		log:     r.log,
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		downs:   make(map[*forwarder]*downTrack),
		senders: make(map[*forwarder]*webrtc.RTPSender),
	}
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		c.sendMsg(&ServerMessage{Type: MsgCandidate, Candidate: &Candidate{
			Candidate:        init.Candidate,
			SDPMid:           init.SDPMid,
			SDPMLineIndex:    init.SDPMLineIndex,
			UsernameFragment: init.UsernameFragment,
		}})
	})
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed:
			p.log.Info("peer connection failed", "identity", c.identity)
			p.sub.down.Store(true)
		case webrtc.PeerConnectionStateClosed:
			p.sub.down.Store(true)
		case webrtc.PeerConnectionStateConnected:
			p.sub.down.Store(false)
		}
	})
	h.goTracked(p.run)
	return p, nil
}

// post queues fn for the peer's goroutine. It never blocks.
func (p *peer) post(fn func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.ops = append(p.ops, fn)
	p.mu.Unlock()
	p.poke()
}

// setWanted sets the tracks the client should receive; only the latest set counts.
func (p *peer) setWanted(want []*forwarder) {
	p.mu.Lock()
	p.wanted, p.hasWanted = want, true
	p.mu.Unlock()
	p.poke()
}

// setPaused stops (at once) or resumes all media to the client.
func (p *peer) setPaused(paused bool) {
	if p.sub.paused.Swap(paused) && !paused {
		p.post(func() {
			for f := range p.downs {
				f.requestKeyframe()
			}
		})
	}
}

// setReceive starts or stops (at once) media of each kind to the client. Video turned
// back on has the publishers asked for keyframes, so that pictures resume promptly.
func (p *peer) setReceive(r Receive) {
	p.sub.audioOff.Store(!r.Audio)
	if p.sub.videoOff.Swap(!r.Video) && r.Video {
		p.post(func() {
			for f := range p.downs {
				f.requestKeyframe() // only video tracks ask
			}
		})
	}
}

func (p *peer) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close stops the peer; it does not wait.
func (p *peer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.quit)
	}
}

func (p *peer) run() {
	defer close(p.done)
	defer p.cleanup()
	for {
		select {
		case <-p.wake:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		ops, want, has := p.ops, p.wanted, p.hasWanted
		p.ops, p.hasWanted = nil, false
		p.mu.Unlock()
		for _, op := range ops {
			op()
		}
		if has {
			p.applyWanted(want)
		}
		p.maybeOffer()
	}
}

func (p *peer) cleanup() {
	for f, d := range p.downs {
		f.removeSubscriber(d)
	}
	if err := p.pc.GracefulClose(); err != nil {
		p.log.Debug("close peer connection", "err", err)
	}
}

// onTrack starts forwarding a track the client sends. The forwarder stays gated
// until the room has checked the client may publish it.
func (p *peer) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	f := newForwarder("TR_"+randomID()[:12], p.c.identity, track, receiver, p.pc, p.hub.metrics, p.hub.media.udp)
	p.hub.metrics.publishedTracks.Inc()
	p.hub.goTracked(func() {
		f.run()
		p.hub.metrics.publishedTracks.Dec()
		p.room.post(func() { p.room.trackEnded(f) })
	})
	// Receiver reports need the publisher's sender reports read.
	p.hub.goTracked(func() {
		for {
			if _, _, err := receiver.ReadRTCP(); err != nil {
				return
			}
		}
	})
	p.room.post(func() { p.room.onTrack(p.c, f) })
}

// applyWanted adds and removes the client's subscriptions.
func (p *peer) applyWanted(want []*forwarder) {
	keep := make(map[*forwarder]bool, len(want))
	for _, f := range want {
		keep[f] = true
	}
	for f, s := range p.senders {
		if keep[f] {
			continue
		}
		f.removeSubscriber(p.downs[f])
		if err := p.pc.RemoveTrack(s); err != nil {
			p.log.Debug("remove track", "err", err)
		}
		delete(p.senders, f)
		delete(p.downs, f)
		p.needOffer = true
	}
	for _, f := range want {
		if _, ok := p.senders[f]; ok {
			continue
		}
		d := newDownTrack(f, p.sub)
		s, err := p.pc.AddTrack(d)
		if err != nil {
			p.log.Warn("add track", "track", f.id, "err", err)
			continue
		}
		p.senders[f] = s
		p.downs[f] = d
		p.needOffer = true
		p.hub.goTracked(func() {
			for {
				pkts, _, err := s.ReadRTCP()
				if err != nil {
					return
				}
				d.handleRTCP(pkts)
			}
		})
	}
}

// maybeOffer offers the client the current set of tracks if it changed and no
// negotiation is under way.
func (p *peer) maybeOffer() {
	if !p.needOffer || p.pc.SignalingState() != webrtc.SignalingStateStable {
		return
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		p.log.Warn("create offer", "err", err)
		return
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		p.log.Warn("set local offer", "err", err)
		return
	}
	p.needOffer = false
	p.c.sendMsg(&ServerMessage{Type: MsgOffer, Ref: p.offerRef, SDP: offer.SDP})
	p.offerRef = ""
}

// addSlot adds a receive-only section of the requested kind, for the client to send
// a track in when it answers the offer that follows.
func (p *peer) addSlot(m ClientMessage, limit int) {
	if p.slots >= limit {
		p.c.sendError(m.ID, CodeTooManyTracks, "at most %d tracks per participant", limit)
		return
	}
	kind := webrtc.RTPCodecTypeAudio
	if m.Kind == KindVideo {
		kind = webrtc.RTPCodecTypeVideo
	}
	if _, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{
		Direction: webrtc.RTPTransceiverDirectionRecvonly,
	}); err != nil {
		p.c.sendError(m.ID, CodeNegotiation, "publish: %v", err)
		return
	}
	p.slots++
	p.needOffer = true
	p.offerRef = m.ID
}

func (p *peer) handleOffer(m ClientMessage) {
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		p.c.sendError(m.ID, CodeGlare, "the server's offer is pending: answer it, then offer again")
		return
	}
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m.SDP})
	if err != nil {
		p.c.sendError(m.ID, CodeNegotiation, "offer: %v", err)
		return
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(answer)
	}
	if err != nil {
		p.c.sendError(m.ID, CodeNegotiation, "answer: %v", err)
		return
	}
	p.c.sendMsg(&ServerMessage{Type: MsgAnswer, Ref: m.ID, SDP: answer.SDP})
	p.addCandidates()
}

func (p *peer) handleAnswer(m ClientMessage) {
	if p.pc.SignalingState() != webrtc.SignalingStateHaveLocalOffer {
		p.c.sendError(m.ID, CodeNegotiation, "no server offer is waiting for an answer")
		return
	}
	err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	if err != nil {
		p.c.sendError(m.ID, CodeNegotiation, "answer: %v", err)
		p.needOffer = true
		return
	}
	p.addCandidates()
}

func (p *peer) handleCandidate(m ClientMessage) {
	init := webrtc.ICECandidateInit{
		Candidate:        m.Candidate.Candidate,
		SDPMid:           m.Candidate.SDPMid,
		SDPMLineIndex:    m.Candidate.SDPMLineIndex,
		UsernameFragment: m.Candidate.UsernameFragment,
	}
	if p.pc.RemoteDescription() == nil {
		if len(p.candidates) < maxPendingCandidates {
			p.candidates = append(p.candidates, init)
		}
		return
	}
	if err := p.pc.AddICECandidate(init); err != nil {
		p.c.sendError(m.ID, CodeBadMessage, "candidate: %v", err)
	}
}

func (p *peer) addCandidates() {
	for _, init := range p.candidates {
		if err := p.pc.AddICECandidate(init); err != nil {
			p.log.Debug("add candidate", "err", err)
		}
	}
	p.candidates = nil
}
