package signaling

import (
	"errors"
	"net"
	"runtime"
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
// by every subscriber) and written, by pointer, to each subscriber's downTrack: a
// downTrack sets SSRC, payload type and sequence number in a scratch header and
// writes. So a packet is never copied or re-marshalled per subscriber before SRTP,
// which must encrypt each subscriber's copy anyway, and no goroutine is woken per
// subscriber. The forwarder's goroutine writes the first inlineSubscribers copies
// itself; a track with more subscribers shares them out among a few shards, each
// with its own goroutine, so that one track's fan-out can use every CPU. A downTrack
// stays in one shard, whose goroutine owns its state.
//
// Writing never blocks: the media socket queues what it is given (a full queue drops,
// as the network would), and each fan-out holds the socket's sending until it ends,
// so that the copies leave together in batches (see batchConn.hold). So a slow
// subscriber slows no one else; one whose connection has failed is skipped.
//
// Sequence numbers stay contiguous for each subscriber: packets the forwarder drops
// (padding-only probes, a muted track) are taken out by the forwarder's offset, and
// packets a downTrack skips (private session, or a kind of media the subscriber has
// turned off) by the downTrack's own offset.

const (
	ringSize          = 1024 // packets of history per track for retransmission (a power of two)
	inlineSubscribers = 64   // subscribers a forwarder writes to itself before it uses shards
	shardQueue        = 256  // bursts waiting for a shard before it drops them
	maxBurst          = 16   // packets written to each subscriber in one go
	pliInterval       = 500 * time.Millisecond
	speakingLevel     = 50 // -dBov at or below which audio counts as speech
	speakingHold      = 600 * time.Millisecond
	maxRTPPacket      = 1500
	maxNACKResends    = 128 // per NACK message
	resendGap         = 150 * time.Millisecond
	resendRate        = 200 // resends per second per subscriber, at most
	resendHistory     = 256 // a power of two
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

	mu     sync.Mutex                   // guards writes to subs and the shards' subs
	subs   atomic.Pointer[[]*downTrack] // written by run itself
	shards []*shard                     // for more subscribers; fixed at creation
	ring   [ringSize]atomic.Pointer[packet]

	done chan struct{} // closed when run returns

	// out is the media socket, held for each fan-out; nil in tests.
	out burstWriter

	// Owned by run.
	offset uint16     // packets dropped so far
	hdr    rtp.Header // scratch for the copies being written
}

// shard is a share of a forwarder's subscribers, written to by its own goroutine.
type shard struct {
	subs  atomic.Pointer[[]*downTrack]
	queue chan []*packet // bursts
	hdr   rtp.Header     // scratch, owned by the shard's goroutine
}

// burstWriter is told when a burst of writes begins and ends (see batchConn.hold).
type burstWriter interface {
	hold()
	release()
}

func newForwarder(id, owner string, track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver,
	pc *webrtc.PeerConnection, m *metrics, out burstWriter,
) *forwarder {
	f := &forwarder{
		id:      id,
		owner:   owner,
		kind:    track.Kind(),
		codec:   track.Codec(),
		track:   track,
		pc:      pc,
		metrics: m,
		out:     out,
		done:    make(chan struct{}),
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == audioLevelURI {
			f.levelID = uint8(ext.ID)
		}
	}
	f.subs.Store(new([]*downTrack))
	for range runtime.GOMAXPROCS(0) - 1 {
		sh := &shard{queue: make(chan []*packet, shardQueue)}
		sh.subs.Store(new([]*downTrack))
		f.shards = append(f.shards, sh)
	}
	f.gated.Store(true) // until the room says otherwise
	return f
}

const audioLevelURI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

// run reads the track until it ends. Whatever has arrived while it was writing the
// last packets is taken as one burst: each subscriber's copies of a burst's packets
// then leave one after another, which wakes its reader once rather than for each.
// Nothing waits for a burst to fill, so none of this adds latency.
func (f *forwarder) run() {
	defer close(f.done)
	defer f.startShards()()
	burst := make([]*packet, 0, maxBurst)
	for {
		burst = burst[:0]
		p, err := f.read()
		if err != nil {
			return
		}
		if p != nil {
			burst = append(burst, p)
		}
		if f.track.SetReadDeadline(time.Unix(1, 0)) == nil {
			for len(burst) < maxBurst {
				if p, err = f.read(); err != nil {
					break
				}
				if p != nil {
					burst = append(burst, p)
				}
			}
			f.track.SetReadDeadline(time.Time{})
		}
		f.dispatch(burst)
		if err != nil && !isTimeout(err) {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// read reads the next packet from the track; it returns nil for one it drops.
func (f *forwarder) read() (*packet, error) {
	buf := make([]byte, maxRTPPacket)
	n, _, err := f.track.Read(buf)
	if err != nil {
		return nil, err
	}
	return f.accept(buf[:n]), nil
}

// startShards starts the shards' goroutines and returns a function that stops them
// once what they have queued is written.
func (f *forwarder) startShards() (stop func()) {
	var wg sync.WaitGroup
	for _, sh := range f.shards {
		wg.Go(func() {
			for burst := range sh.queue {
				f.fanOut(*sh.subs.Load(), burst, &sh.hdr)
			}
		})
	}
	return func() {
		for _, sh := range f.shards {
			close(sh.queue)
		}
		wg.Wait()
	}
}

// handle forwards one packet as it arrived from the publisher.
func (f *forwarder) handle(b []byte) {
	if p := f.accept(b); p != nil {
		f.dispatch([]*packet{p})
	}
}

// accept parses a packet from the publisher, notes its audio level and keeps it in
// the ring. It returns nil for a packet not to forward.
func (f *forwarder) accept(b []byte) *packet {
	var p rtp.Packet
	if err := p.Unmarshal(b); err != nil {
		return nil
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
		return nil
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
	return pkt
}

// dispatch writes a burst of packets to every subscriber: the shards' share on their
// goroutines, the rest on this one.
func (f *forwarder) dispatch(burst []*packet) {
	if len(burst) == 0 {
		return
	}
	for _, sh := range f.shards {
		if n := len(*sh.subs.Load()); n > 0 {
			select {
			case sh.queue <- slices.Clone(burst):
			default:
				f.metrics.droppedPackets.Add(float64(n * len(burst)))
			}
		}
	}
	f.fanOut(*f.subs.Load(), burst, &f.hdr)
}

// fanOut writes a burst to subs, each subscriber's copies together, using hdr as
// scratch, and sends them together (see batchConn.hold).
func (f *forwarder) fanOut(subs []*downTrack, burst []*packet, hdr *rtp.Header) {
	if len(subs) == 0 {
		return
	}
	if f.out != nil {
		f.out.hold()
	}
	sent, bytes := 0, 0
	for _, d := range subs {
		for _, p := range burst {
			if d.forward(p, hdr) {
				sent++
				bytes += len(p.payload)
			}
		}
	}
	if f.out != nil {
		f.out.release()
	}
	f.metrics.forwardedPackets.Add(float64(sent))
	f.metrics.forwardedBytes.Add(float64(bytes))
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

// addSubscriber starts writing to d: from run itself while it has few subscribers,
// then from whichever has fewest, the shards first.
func (f *forwarder) addSubscriber(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.holder(d) != nil {
		return
	}
	list := &f.subs
	if n := len(*list.Load()); n >= inlineSubscribers {
		for _, sh := range f.shards {
			if m := len(*sh.subs.Load()); m <= n {
				list, n = &sh.subs, m
			}
		}
	}
	old := *list.Load()
	subs := make([]*downTrack, 0, len(old)+1)
	subs = append(subs, old...)
	subs = append(subs, d)
	list.Store(&subs)
}

func (f *forwarder) removeSubscriber(d *downTrack) {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.holder(d)
	if list == nil {
		return
	}
	old := *list.Load()
	subs := make([]*downTrack, 0, len(old))
	for _, s := range old {
		if s != d {
			subs = append(subs, s)
		}
	}
	list.Store(&subs)
}

// holder returns the subscriber list that holds d, or nil. The caller holds f.mu.
func (f *forwarder) holder(d *downTrack) *atomic.Pointer[[]*downTrack] {
	if slices.Contains(*f.subs.Load(), d) {
		return &f.subs
	}
	for _, sh := range f.shards {
		if slices.Contains(*sh.subs.Load(), d) {
			return &sh.subs
		}
	}
	return nil
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
	sub *subscriber
	off *atomic.Bool // the subscriber's switch for this track's kind

	bound atomic.Pointer[binding]

	// Sequence-number state, owned by the goroutine that writes to d (the forwarder's
	// or its shard's).
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
	hdr       rtp.Header // scratch for resent packets
}

type binding struct {
	ssrc uint32
	pt   uint8
	ws   webrtc.TrackLocalWriter
}

var _ webrtc.TrackLocal = (*downTrack)(nil)

func newDownTrack(f *forwarder, s *subscriber) *downTrack {
	d := &downTrack{fwd: f, sub: s, off: &s.audioOff}
	if f.kind == webrtc.RTPCodecTypeVideo {
		d.off = &s.videoOff
	}
	return d
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
	if !d.off.Load() {
		d.fwd.requestKeyframe()
	}
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

// forward writes p to the subscriber, using hdr as scratch, and reports whether it
// went. It runs on the goroutine that owns d's sequence-number state.
func (d *downTrack) forward(p *packet, hdr *rtp.Header) bool {
	seq := p.hdr.SequenceNumber
	if d.sub.paused.Load() || d.off.Load() {
		if d.started {
			d.skipped++
		}
		return false
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
	return d.write(hdr, p, seq-d.offset)
}

// write sends p as sequence number seq. Only the SSRC, payload type and sequence
// number differ from the forwarder's header, so they are set in the scratch header hdr.
func (d *downTrack) write(hdr *rtp.Header, p *packet, seq uint16) bool {
	b := d.bound.Load()
	if b == nil || d.sub.down.Load() {
		return false
	}
	*hdr = p.hdr
	hdr.SSRC = b.ssrc
	hdr.PayloadType = b.pt
	hdr.SequenceNumber = seq
	if _, err := b.ws.WriteRTP(hdr, p.payload); err != nil {
		d.sub.metrics.droppedPackets.Inc()
		return false
	}
	return true
}

// handleRTCP acts on the subscriber's feedback: keyframe requests go to the publisher
// (unless the subscriber is getting none of the track), NACKs are answered from the
// track's ring.
func (d *downTrack) handleRTCP(pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		switch p := pkt.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			if !d.sub.paused.Load() && !d.off.Load() {
				d.fwd.requestKeyframe()
			}
		case *rtcp.TransportLayerNack:
			d.resend(p)
		}
	}
}

func (d *downTrack) resend(n *rtcp.TransportLayerNack) {
	if d.sub.paused.Load() || d.off.Load() {
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
	sent, resent, bytes := 0, 0, 0
	if out := d.fwd.out; out != nil {
		out.hold()
		defer out.release()
	}
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
				sent++
				if d.write(&d.hdr, p, seq) {
					resent++
					bytes += len(p.payload)
				}
			}
		}
	}
	if resent > 0 {
		d.sub.metrics.retransmitted.Add(float64(resent))
		d.sub.metrics.forwardedPackets.Add(float64(resent))
		d.sub.metrics.forwardedBytes.Add(float64(bytes))
	}
}

// subscriber is what every downTrack of one peer shares.
type subscriber struct {
	paused atomic.Bool // private session: the subscriber gets nothing
	down   atomic.Bool // the peer connection failed or closed: writing would only cost
	// The client asked not to receive this kind of media (receive).
	audioOff, videoOff atomic.Bool
	metrics            *metrics
}

func newSubscriber(m *metrics) *subscriber {
	return &subscriber{metrics: m}
}
