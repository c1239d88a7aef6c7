package signaling

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Forwarding.
//
// A forwarder reads one published track. Each packet is parsed once into an immutable
// packet value, remembered in the track's ring (the one retransmission buffer shared
// by every subscriber) and handed, by pointer, to each subscriber's downTrack. A
// downTrack rewrites nothing itself: it queues (packet, sequence number) on its
// subscriber's mediaWriter, whose goroutine sets SSRC, payload type and sequence number
// in a scratch header and writes. So a packet is never copied or re-marshalled per
// subscriber before SRTP, which must encrypt each subscriber's copy anyway. A full
// writer queue drops the packet for that subscriber alone.
//
// Sequence numbers stay contiguous for each subscriber: packets the forwarder drops
// (padding-only probes, a muted track) are taken out by the forwarder's offset, and
// packets a paused downTrack skips (private session) by the downTrack's own offset.

const (
	ringSize       = 1024 // packets of history per track for retransmission (a power of two)
	pliInterval    = 500 * time.Millisecond
	speakingLevel  = 50 // -dBov at or below which audio counts as speech
	speakingHold   = 600 * time.Millisecond
	maxRTPPacket   = 1500
	maxNACKResends = 128 // per NACK message
	resendGap      = 150 * time.Millisecond
	resendRate     = 200 // resends per second per subscriber, at most
	resendHistory  = 256 // a power of two
)

// packet is a forwarded RTP packet. It is never modified after the forwarder stores it.
type packet struct {
	hdr     rtp.Header // header extensions and padding removed; forwarder's sequence number
	payload []byte
}

// forwarder reads one remote track and fans its packets out to subscribers.
type forwarder struct {
	id      string
	owner   string // publisher's identity
	kind    webrtc.RTPCodecType
	codec   webrtc.RTPCodecParameters
	track   *webrtc.TrackRemote
	pc      *webrtc.PeerConnection // the publisher's, for keyframe requests
	metrics *metrics
	levelID uint8 // negotiated id of the audio level extension, 0 if none

	muted   atomic.Bool // drop everything: the publisher or the chair muted it
	gated   atomic.Bool // drop everything: not (or no longer) allowed to publish
	lastPLI atomic.Int64
	// Speech detection, read by the room.
	lastLoud atomic.Int64 // unix nanoseconds of the last loud packet
	level    atomic.Int32 // last level, -dBov

	mu   sync.Mutex // guards writes to subs
	subs atomic.Pointer[[]*downTrack]
	ring [ringSize]atomic.Pointer[packet]

	done chan struct{} // closed when run returns

	offset uint16 // owned by run: packets dropped so far
}

func newForwarder(id, owner string, track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver,
	pc *webrtc.PeerConnection, m *metrics,
) *forwarder {
	f := &forwarder{
		id:      id,
		owner:   owner,
		kind:    track.Kind(),
		codec:   track.Codec(),
		track:   track,
		pc:      pc,
		metrics: m,
		done:    make(chan struct{}),
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == audioLevelURI {
			f.levelID = uint8(ext.ID)
		}
	}
	f.subs.Store(new([]*downTrack))
	f.gated.Store(true) // until the room says otherwise
	return f
}

const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// run reads the track until it ends.
func (f *forwarder) run() {
	defer close(f.done)
	for {
		buf := make([]byte, maxRTPPacket)
		n, _, err := f.track.Read(buf)
		if err != nil {
			return
		}
		f.handle(buf[:n])
	}
}

func (f *forwarder) handle(b []byte) {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return
	}
	f.metrics.receivedPackets.Inc()
	if f.levelID != 0 {
		if ext := p.GetExtension(f.levelID); len(ext) > 0 {
			lvl := int32(ext[0] & 0x7f)
			f.level.Store(lvl)
			if lvl <= speakingLevel {
				f.lastLoud.Store(time.Now().UnixNano())
			}
		}
	}
	if len(p.Payload) == 0 || f.muted.Load() || f.gated.Load() {
		f.offset++
		return
	}
	pkt := &packet{hdr: p.Header, payload: p.Payload}
	// Extension ids are negotiated per peer connection, so the publisher's mean
	// nothing to a subscriber; padding was only for the publisher's pacing.
	pkt.hdr.Extension = false
	pkt.hdr.Extensions = nil
	pkt.hdr.ExtensionProfile = 0
	pkt.hdr.Padding = false
	pkt.hdr.PaddingSize = 0
	pkt.hdr.SequenceNumber -= f.offset
	f.ring[pkt.hdr.SequenceNumber%ringSize].Store(pkt)
	for _, d := range *f.subs.Load() {
		d.forward(pkt)
	}
}

// gate stops (or restarts) forwarding the track.
func (f *forwarder) gate(closed bool) {
	if f.gated.Swap(closed) && !closed {
		f.requestKeyframe()
	}
}

// lookup returns the packet with forwarder sequence number seq, if still in the ring.
func (f *forwarder) lookup(seq uint16) *packet {
	p := f.ring[seq%ringSize].Load()
	if p == nil || p.hdr.SequenceNumber != seq {
		return nil
	}
	return p
}

func (f *forwarder) addSubscriber(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.subs.Load()
	if slices.Contains(old, d) {
		return
	}
	subs := make([]*downTrack, 0, len(old)+1)
	subs = append(subs, old...)
	subs = append(subs, d)
	f.subs.Store(&subs)
}

func (f *forwarder) removeSubscriber(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old := *f.subs.Load()
	subs := make([]*downTrack, 0, len(old))
	for _, s := range old {
		if s != d {
			subs = append(subs, s)
		}
	}
	f.subs.Store(&subs)
}

// requestKeyframe asks the publisher for a keyframe, at most once per pliInterval.
func (f *forwarder) requestKeyframe() {
	if f.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	now := time.Now().UnixNano()
	last := f.lastPLI.Load()
	if now-last < int64(pliInterval) || !f.lastPLI.CompareAndSwap(last, now) {
		return
	}
	f.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(f.track.SSRC())}})
}

// speaking reports whether the track carried speech lately, and how loud (0–100).
func (f *forwarder) speaking(now time.Time) (bool, int) {
	loud := f.lastLoud.Load()
	if loud == 0 || now.UnixNano()-loud > int64(speakingHold) {
		return false, 0
	}
	return true, int((127 - f.level.Load()) * 100 / 127)
}

// downTrack is one published track as sent to one subscriber. It is the
// webrtc.TrackLocal added to the subscriber's peer connection.
type downTrack struct {
	fwd *forwarder
	w   *mediaWriter

	bound atomic.Pointer[binding]

	// Sequence-number state, owned by the forwarder's goroutine.
	started bool
	offset  uint16
	skipped uint16
	// epoch publishes offset and the first sequence number sent with it, for NACKs.
	epoch atomic.Uint64

	// Resend limits, owned by the goroutine reading the subscriber's RTCP.
	resentAt  [resendHistory]int64 // when each recent sequence number was last resent
	resentSeq [resendHistory]uint16
	tokens    float64 // resend budget, refilled at resendRate
	tokensAt  int64
}

type binding struct {
	ssrc uint32
	pt   uint8
	ws   webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(f *forwarder, w *mediaWriter) *downTrack {
	return &downTrack{fwd: f, w: w}
}

func (d *downTrack) ID() string                { return d.fwd.id }
func (d *downTrack) RID() string               { return "" }
func (d *downTrack) StreamID() string          { return d.fwd.owner }
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.fwd.kind }

// Bind picks the negotiated codec matching the publisher's and starts forwarding.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.fwd.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	d.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), ws: ctx.WriteStream()})
	d.fwd.addSubscriber(d)
	d.fwd.requestKeyframe()
	return codec, nil
}

// Unbind stops forwarding.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.fwd.removeSubscriber(d)
	d.bound.Store(nil)
	return nil
}

// matchCodec finds the codec in negotiated with the publisher's MIME type, preferring
// one whose fmtp line matches too.
func matchCodec(want webrtc.RTPCodecParameters, negotiated []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var found *webrtc.RTPCodecParameters
	for i, c := range negotiated {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
		if found == nil {
			found = &negotiated[i]
		}
	}
	if found == nil {
		return webrtc.RTPCodecParameters{}, false
	}
	return *found, true
}

// forward queues p for the subscriber. It runs on the forwarder's goroutine.
func (d *downTrack) forward(p *packet) {
	seq := p.hdr.SequenceNumber
	if d.w.paused.Load() {
		if d.started {
			d.skipped++
		}
		return
	}
	switch {
	case !d.started:
		d.started = true
		d.epoch.Store(1<<32 | uint64(d.offset)<<16 | uint64(seq-d.offset))
	case d.skipped > 0:
		d.offset += d.skipped
		d.skipped = 0
		d.epoch.Store(1<<32 | uint64(d.offset)<<16 | uint64(seq-d.offset))
	}
	d.w.enqueue(item{d: d, p: p, seq: seq - d.offset})
}

// handleRTCP acts on the subscriber's feedback: keyframe requests go to the publisher,
// NACKs are answered from the track's ring.
func (d *downTrack) handleRTCP(pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		switch p := pkt.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			d.fwd.requestKeyframe()
		case *rtcp.TransportLayerNack:
			d.resend(p)
		}
	}
}

func (d *downTrack) resend(n *rtcp.TransportLayerNack) {
	if d.w.paused.Load() {
		return
	}
	e := d.epoch.Load()
	if e == 0 {
		return
	}
	offset, first := uint16(e>>16), uint16(e)
	now := time.Now().UnixNano()
	if d.tokensAt != 0 {
		d.tokens = min(resendRate, d.tokens+float64(now-d.tokensAt)*resendRate/float64(time.Second))
	} else {
		d.tokens = resendRate
	}
	d.tokensAt = now
	sent := 0
	for _, pair := range n.Nacks {
		for _, seq := range pair.PacketList() {
			if seq-first >= 0x8000 || sent >= maxNACKResends || d.tokens < 1 {
				continue // sent before the current offset, or over budget
			}
			h := seq % resendHistory
			if d.resentSeq[h] == seq && now-d.resentAt[h] < int64(resendGap) {
				continue // resent a moment ago
			}
			if p := d.fwd.lookup(seq + offset); p != nil {
				d.resentSeq[h], d.resentAt[h] = seq, now
				d.tokens--
				d.w.enqueueResend(item{d: d, p: p, seq: seq})
				sent++
			}
		}
	}
}

type item struct {
	d   *downTrack
	p   *packet
	seq uint16
}

// mediaWriter writes one subscriber's packets from its own goroutine, so that a
// subscriber whose writes are slow holds up no one else.
type mediaWriter struct {
	paused  atomic.Bool // private session: the subscriber gets nothing
	queue   chan item
	quit    chan struct{}
	done    chan struct{}
	metrics *metrics
	resent  atomic.Int64
	hdr     rtp.Header // scratch, owned by run
}

func newMediaWriter(queueLen int, m *metrics) *mediaWriter {
	return &mediaWriter{
		queue:   make(chan item, queueLen),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		metrics: m,
	}
}

func (w *mediaWriter) enqueue(it item) {
	select {
	case w.queue <- it:
	default:
		w.metrics.droppedPackets.Inc()
	}
}

func (w *mediaWriter) enqueueResend(it item) {
	select {
	case w.queue <- it:
		w.resent.Add(1)
	default:
		w.metrics.droppedPackets.Inc()
	}
}

// run writes queued packets until stop; counters are updated once per batch.
func (w *mediaWriter) run() {
	defer close(w.done)
	for {
		select {
		case it := <-w.queue:
			packets, bytes := 0, 0
			for {
				if n, ok := w.write(it); ok {
					packets++
					bytes += n
				}
				if packets >= 64 {
					break
				}
				select {
				case it = <-w.queue:
					continue
				default:
				}
				break
			}
			w.metrics.forwardedPackets.Add(float64(packets))
			w.metrics.forwardedBytes.Add(float64(bytes))
			if r := w.resent.Swap(0); r > 0 {
				w.metrics.retransmitted.Add(float64(r))
			}
		case <-w.quit:
			return
		}
	}
}

func (w *mediaWriter) write(it item) (int, bool) {
	if w.paused.Load() {
		return 0, false
	}
	b := it.d.bound.Load()
	if b == nil {
		return 0, false
	}
	w.hdr = it.p.hdr
	w.hdr.SSRC = b.ssrc
	w.hdr.PayloadType = b.pt
	w.hdr.SequenceNumber = it.seq
	if _, err := b.ws.WriteRTP(&w.hdr, it.p.payload); err != nil {
		return 0, false
	}
	return len(it.p.payload), true
}

func (w *mediaWriter) stop() {
	close(w.quit)
	<-w.done
}
