package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	rtcclient "github.com/chamber/chamber/signaling/client"
)

// Counting.
//
// Packets are counted per SSRC in bins of RTP timestamp. The forwarder keeps the
// publisher's timestamps, so a publisher's count of what it sent in a range of bins
// and a receiver's count of what arrived in the same range compare exactly, however
// long the packets took on the way and whenever the counts are read.

const roomTSBin = 4800 // RTP timestamp units per bin: 0.1 s of Opus, 53 ms of video

// roomTally counts one endpoint's RTP packets.
type roomTally struct {
	mu      sync.Mutex // guards streams
	streams []*roomStreamTally
}

type roomStreamTally struct {
	ssrc   uint32
	first  time.Time // when the first packet came
	base   uint32    // bin of the first packet
	bins   []uint32
	latest uint32 // the latest timestamp seen
}

// roomMaxBins bounds a stream's bins (an hour of video), against nonsense timestamps.
const roomMaxBins = 3600 * 90000 / roomTSBin

func (t *roomTally) add(ssrc, ts uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var s *roomStreamTally
	for _, x := range t.streams {
		if x.ssrc == ssrc {
			s = x
			break
		}
	}
	if s == nil {
		s = &roomStreamTally{ssrc: ssrc, first: time.Now(), base: ts / roomTSBin, latest: ts}
		t.streams = append(t.streams, s)
	}
	if int32(ts-s.latest) > 0 {
		s.latest = ts
	}
	b := ts / roomTSBin
	if b < s.base || b-s.base >= roomMaxBins {
		return // from before the first packet counted: outside any window
	}
	i := int(b - s.base)
	for i >= len(s.bins) {
		s.bins = append(s.bins, 0)
	}
	s.bins[i]++
}

// addRTP counts a packet from its RTP header, which SRTP leaves in the clear.
func (t *roomTally) addRTP(b []byte) {
	if len(b) >= 12 {
		t.add(binary.BigEndian.Uint32(b[8:12]), binary.BigEndian.Uint32(b[4:8]))
	}
}

// firstAt returns when ssrc's first packet came.
func (t *roomTally) firstAt(ssrc uint32) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.streams {
		if s.ssrc == ssrc {
			return s.first, true
		}
	}
	return time.Time{}, false
}

// latest returns the latest timestamp seen on ssrc.
func (t *roomTally) latest(ssrc uint32) (uint32, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.streams {
		if s.ssrc == ssrc {
			return s.latest, true
		}
	}
	return 0, false
}

// count returns ssrc's packets in bins [from, to).
func (t *roomTally) count(ssrc, from, to uint32) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.streams {
		if s.ssrc != ssrc {
			continue
		}
		for b := max(from, s.base); b < to && int(b-s.base) < len(s.bins); b++ {
			n += int(s.bins[b-s.base])
		}
	}
	return n
}

// roomIsRTP tells SRTP from the SRTCP, DTLS and STUN sharing the socket (RFC 7983, 5761).
func roomIsRTP(b []byte) bool {
	return len(b) >= 12 && b[0]>>6 == 2 && (b[1] < 192 || b[1] > 223)
}

// Publishers.

// roomPublisherPeer is a committee member sending synthetic audio and video.
type roomPublisherPeer struct {
	identity string
	c        *rtcclient.Client
	tracks   [2]*roomSentTrack // audio, video
}

// roomSentTrack counts what a publisher sent on one track.
type roomSentTrack struct {
	kind   webrtc.RTPCodecType
	tally  roomTally
	lastTS atomic.Uint32
	count  atomic.Int64 // packets sent
}

// roomWindow is a range of timestamp bins on one track, [from, to).
type roomWindow struct{ from, to uint32 }

func (s *roomSentTrack) sent(w roomWindow) int { return s.tally.count(0, w.from, w.to) }

// roomCapture keeps copies of the packets published during part of the window, for the
// limit loop to send again.
type roomCapture struct {
	mu      sync.Mutex // guards start, packets, on
	on      bool
	start   time.Time
	until   time.Duration
	packets []roomPacket
}

type roomPacket struct {
	at      time.Duration // since the capture started
	hdr     rtp.Header
	payload []byte
}

func (c *roomCapture) begin(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.on, c.start, c.until = true, time.Now(), d
}

func (c *roomCapture) add(p *rtp.Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
	at := time.Since(c.start)
	if at >= c.until {
		c.on = false
		return
	}
	hdr := p.Header
	// The forwarder sends no publisher's header extensions on.
	hdr.Extension, hdr.Extensions, hdr.ExtensionProfile = false, nil, 0
	c.packets = append(c.packets, roomPacket{at: at, hdr: hdr, payload: append([]byte(nil), p.Payload...)})
}

func (c *roomCapture) list() []roomPacket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.packets
}

// startRoomPublisher joins with j and sends audio and a ~1.5 Mbps video until ctx ends.
func startRoomPublisher(ctx, media context.Context, j roomJoin, capt *roomCapture) (*roomPublisherPeer, error) {
	conn, err := rtcclient.Dial(ctx, j.URL, nil)
	if err != nil {
		return nil, err
	}
	c, err := rtcclient.Join(ctx, conn, rtcclient.Options{Token: j.Token})
	if err != nil {
		return nil, err
	}
	p := &roomPublisherPeer{identity: j.Identity, c: c}
	audio, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", j.Identity)
	if err != nil {
		c.Close()
		return nil, err
	}
	video, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "camera", j.Identity)
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Publish(ctx, audio, video); err != nil {
		c.Close()
		return nil, fmt.Errorf("publish: %w", err)
	}
	for i, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		st := &roomSentTrack{kind: kind}
		p.tracks[i] = st
		track := audio
		if kind == webrtc.RTPCodecTypeVideo {
			track = video
		}
		go rtcclient.Synth{Kind: kind, OnPacket: func(pkt *rtp.Packet) {
			st.tally.add(0, pkt.Timestamp)
			st.lastTS.Store(pkt.Timestamp)
			st.count.Add(1)
			capt.add(pkt)
		}}.Run(media, track)
	}
	return p, nil
}

// Observers.

// roomObserver is a member of the public watching. A light observer counts the SRTP
// packets on its socket by their clear headers and drops them there: pion sees only
// what it needs to keep the connection up (STUN, DTLS, SRTCP), so that hundreds of
// observers cost this machine little beside the server. A full observer receives
// through pion as a browser would (decrypting, sending NACKs and receiver reports).
type roomObserver struct {
	full   bool
	c      *rtcclient.Client
	tally  roomTally
	mux    ice.UDPMux // a light observer's socket
	issued time.Time  // when the join token came
	joined time.Duration
}

// roomObserverAPI builds an observer's WebRTC API. A light observer has its own socket
// (a roomMediaTap) and no interceptors, which would have nothing to do.
func roomObserverAPI(full bool, udpHost string, count *roomTally) (*webrtc.API, ice.UDPMux, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, nil, err
	}
	reg := &interceptor.Registry{}
	s := webrtc.SettingEngine{}
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	var mux ice.UDPMux
	if full {
		if err := webrtc.ConfigureNack(m, reg); err != nil {
			return nil, nil, err
		}
		if err := webrtc.ConfigureRTCPReports(reg); err != nil {
			return nil, nil, err
		}
	} else {
		ip := net.IPv4zero
		if udpHost != "" {
			ip = net.ParseIP(udpHost)
		}
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, nil, err
		}
		udp.SetReadBuffer(1 << 20)
		mux = webrtc.NewICEUDPMux(nil, newRoomMediaTap(udp, count))
		s.SetICEUDPMux(mux)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s)), mux, nil
}

// joinRoomObserver joins the room as the n'th observer and waits for its first video
// packet.
func joinRoomObserver(ctx context.Context, joins *roomJoins, server string, meeting int64, n int, full bool, udpHost string) (*roomObserver, error) {
	o := &roomObserver{full: full}
	api, mux, err := roomObserverAPI(full, udpHost, &o.tally)
	if err != nil {
		return nil, err
	}
	o.mux = mux
	j, err := joins.join(ctx, server, meeting, n)
	if err != nil {
		o.close()
		return nil, fmt.Errorf("observer %d: join: %w", n, err)
	}
	o.issued = time.Now()
	conn, err := rtcclient.Dial(ctx, j.URL, nil)
	if err != nil {
		o.close()
		return nil, fmt.Errorf("observer %d: %w", n, err)
	}
	o.c, err = rtcclient.Join(ctx, conn, rtcclient.Options{Token: j.Token, API: api, OnTrack: o.onTrack})
	if err != nil {
		o.close()
		return nil, fmt.Errorf("observer %d: %w", n, err)
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		for _, tr := range o.tracks() {
			if tr.kind != webrtc.RTPCodecTypeVideo {
				continue
			}
			if at, ok := o.tally.firstAt(tr.ssrc); ok {
				o.joined = at.Sub(o.issued)
				return o, nil
			}
		}
		select {
		case <-t.C:
		case <-o.c.Done():
			o.close()
			return nil, fmt.Errorf("observer %d: the server closed the connection before any video came", n)
		case <-ctx.Done():
			o.close()
			return nil, fmt.Errorf("observer %d: no video: %w", n, ctx.Err())
		}
	}
}

func (o *roomObserver) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	buf := make([]byte, 1500)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		o.tally.addRTP(buf[:n])
	}
}

// roomTrack is a track the server sends an observer.
type roomTrack struct {
	ssrc   uint32
	kind   webrtc.RTPCodecType
	stream string // the publisher's identity
}

func (o *roomObserver) tracks() []roomTrack {
	var out []roomTrack
	for _, tr := range o.c.PeerConnection().GetTransceivers() {
		r := tr.Receiver()
		if r == nil {
			continue
		}
		for _, t := range r.Tracks() {
			if t.SSRC() != 0 {
				out = append(out, roomTrack{ssrc: uint32(t.SSRC()), kind: t.Kind(), stream: t.StreamID()})
			}
		}
	}
	return out
}

func (o *roomObserver) close() {
	if o.c != nil {
		o.c.Close()
	}
	if o.mux != nil {
		o.mux.Close()
	}
}

// roomMediaTap is a light observer's socket (see roomObserver). It reads in batches.
type roomMediaTap struct {
	*net.UDPConn
	r       *roomReader
	n, next int
	tally   *roomTally
}

const roomTapBatch = 16

func newRoomMediaTap(udp *net.UDPConn, count *roomTally) *roomMediaTap {
	return &roomMediaTap{UDPConn: udp, r: newRoomReader(udp, roomTapBatch), tally: count}
}

// ReadFrom returns the next packet that is not SRTP, counting those that are.
func (t *roomMediaTap) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		for t.next < t.n {
			i := t.next
			t.next++
			p := t.r.datagram(i)
			if roomIsRTP(p) {
				t.tally.addRTP(p)
				continue
			}
			return copy(b, p), t.r.sender(i), nil
		}
		n, err := t.r.read()
		if err != nil {
			return 0, nil, err
		}
		t.n, t.next = n, 0
	}
}
