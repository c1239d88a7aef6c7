package signaling

import (
	"bytes"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeWriter records what a downTrack writes.
type fakeWriter struct {
	mu   sync.Mutex
	seqs []uint16
	got  []rtp.Packet
}

func (w *fakeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	w.got = append(w.got, rtp.Packet{Header: h.Clone(), Payload: slices.Clone(payload)})
	return len(payload), nil
}

func (w *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *fakeWriter) wait(t *testing.T, n int) []uint16 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		seqs := slices.Clone(w.seqs)
		w.mu.Unlock()
		if len(seqs) >= n {
			return seqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d packets %v, want %d", len(seqs), seqs, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// testForwarder returns an audio forwarder with one bound subscriber writing to fw.
func testForwarder(t *testing.T) (*forwarder, *downTrack, *subscriber, *fakeWriter) {
	t.Helper()
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{id: "t", kind: webrtc.RTPCodecTypeAudio, metrics: m, levelID: 1, done: make(chan struct{})}
	f.subs.Store(new([]*downTrack))
	w := newSubscriber(m)
	d := newDownTrack(f, w)
	fw := &fakeWriter{}
	d.bound.Store(&binding{ssrc: 777, pt: 111, ws: fw})
	f.addSubscriber(d)
	return f, d, w, fw
}

func rawPacket(t *testing.T, seq uint16, payload []byte, padding bool) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, Timestamp: uint32(seq) * 960, SSRC: 1234}, Payload: payload}
	p.Header.SetExtension(1, []byte{0x80 | 30})
	if padding {
		p.Header.Padding = true
		p.PaddingSize = 4
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestForwarderKeepsSequenceNumbersContiguous(t *testing.T) {
	f, _, w, fw := testForwarder(t)
	send := func(from, to uint16) {
		for s := from; s <= to; s++ {
			f.handle(rawPacket(t, s, []byte{byte(s), 1, 2, 3}, false))
		}
	}
	send(100, 104)                         // out 100..104
	f.handle(rawPacket(t, 105, nil, true)) // a padding-only probe: dropped
	send(106, 107)                         // out 105..106
	f.muted.Store(true)                    //
	send(108, 110)                         // dropped while muted
	f.muted.Store(false)                   //
	send(111, 112)                         // out 107..108
	w.paused.Store(true)                   // private session
	send(113, 115)                         // skipped
	w.paused.Store(false)                  //
	send(116, 117)                         // out 109..110
	got := fw.wait(t, 11)
	want := []uint16{100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110}
	if !slices.Equal(got, want) {
		t.Errorf("sequence numbers sent %v, want %v", got, want)
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	first := fw.got[0]
	if first.SSRC != 777 || first.PayloadType != 111 || first.Extension || first.Padding || len(first.Payload) != 4 {
		t.Errorf("first packet %+v: want SSRC 777, payload type 111, no extension or padding", first.Header)
	}
	if lvl := f.level.Load(); lvl != 30 {
		t.Errorf("audio level = %d, want 30", lvl)
	}
}

func TestForwarderAnswersNACKsFromItsRing(t *testing.T) {
	f, d, w, fw := testForwarder(t)
	nack := func(seqs ...uint16) {
		d.handleRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}})
	}
	resent := func(from, n int) (seqs []uint16, payloads []byte) {
		fw.wait(t, from+n)
		fw.mu.Lock()
		defer fw.mu.Unlock()
		for _, p := range fw.got[from:] {
			seqs = append(seqs, p.SequenceNumber)
			payloads = append(payloads, p.Payload[0])
		}
		return seqs, payloads
	}
	for s := uint16(10); s < 20; s++ {
		f.handle(rawPacket(t, s, []byte{byte(s)}, false))
	}
	fw.wait(t, 10)
	nack(5, 12, 13) // 5 was never sent
	seqs, payloads := resent(10, 2)
	if !slices.Equal(seqs, []uint16{12, 13}) || !slices.Equal(payloads, []byte{12, 13}) {
		t.Errorf("resent seqs %v payloads %v, want 12 and 13", seqs, payloads)
	}

	nack(12) // again at once: not resent twice
	time.Sleep(50 * time.Millisecond)
	if fw.mu.Lock(); len(fw.got) != 12 {
		t.Errorf("a repeated NACK resent %d more packets, want none", len(fw.got)-12)
	}
	fw.mu.Unlock()

	// After a pause the numbering shifts: 21 goes out as 20, and packets sent under
	// the old numbering are no longer resent.
	w.paused.Store(true)
	f.handle(rawPacket(t, 20, []byte{20}, false))
	w.paused.Store(false)
	f.handle(rawPacket(t, 21, []byte{21}, false))
	fw.wait(t, 13)
	nack(15, 20)
	seqs, payloads = resent(13, 1)
	time.Sleep(50 * time.Millisecond)
	if fw.mu.Lock(); len(fw.got) != 14 {
		t.Errorf("%d packets resent after the pause, want 1", len(fw.got)-13)
	}
	fw.mu.Unlock()
	if !slices.Equal(seqs, []uint16{20}) || payloads[0] != 21 {
		t.Errorf("resent seqs %v payloads %v, want 20 carrying packet 21", seqs, payloads)
	}
}

// TestForwarderSharesOutManySubscribers checks that a track with more subscribers than
// its goroutine writes to itself reaches them all, through its shards, in order.
func TestForwarderSharesOutManySubscribers(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := &forwarder{id: "t", kind: webrtc.RTPCodecTypeAudio, metrics: m, done: make(chan struct{})}
	f.subs.Store(new([]*downTrack))
	for range 2 {
		sh := &shard{queue: make(chan []*packet, shardQueue)}
		sh.subs.Store(new([]*downTrack))
		f.shards = append(f.shards, sh)
	}
	stop := f.startShards()
	sub := newSubscriber(m)
	const n = 3*inlineSubscribers + 1
	var fws []*fakeWriter
	for i := range n {
		d := newDownTrack(f, sub)
		fw := &fakeWriter{}
		d.bound.Store(&binding{ssrc: uint32(i), pt: 111, ws: fw})
		f.addSubscriber(d)
		fws = append(fws, fw)
	}
	if got := len(*f.subs.Load()); got != inlineSubscribers {
		t.Errorf("the forwarder writes to %d subscribers itself, want %d", got, inlineSubscribers)
	}
	for i, sh := range f.shards {
		if got := len(*sh.subs.Load()); got == 0 {
			t.Errorf("shard %d has no subscribers", i)
		}
	}
	for s := uint16(1); s <= 5; s++ {
		f.handle(rawPacket(t, s, []byte{byte(s)}, false))
	}
	stop()
	for i, fw := range fws {
		if got := fw.wait(t, 5); !slices.Equal(got, []uint16{1, 2, 3, 4, 5}) {
			t.Errorf("subscriber %d got sequence numbers %v, want 1 to 5", i, got)
		}
	}
}

func TestBatchConnDeliversInOrder(t *testing.T) {
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	recv.SetReadBuffer(1 << 20)
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(send, 3)
	to := recv.LocalAddr().(*net.UDPAddr)
	const n = 300
	for i := range n {
		if _, err := c.WriteTo([]byte{byte(i >> 8), byte(i)}, to); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	for i := range n {
		k, _, err := recv.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d packets: %v", i, err)
		}
		if got := int(buf[0])<<8 | int(buf[1]); k != 2 || got != i {
			t.Fatalf("packet %d carries %d, want %d", i, got, i)
		}
	}
	if _, err := c.WriteTo([]byte{1}, to); err == nil {
		t.Error("write after close succeeded")
	}
}

func TestBatchConnReadsWhatIsSent(t *testing.T) {
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	recv.SetReadBuffer(1 << 20)
	c := newBatchConn(recv, 1)
	defer c.Close()
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer send.Close()
	const n = 100 // more than one batch
	for i := range n {
		if _, err := send.WriteTo(bytes.Repeat([]byte{byte(i)}, i+1), c.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	from := send.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, 1500)
	for i := range n {
		k, addr, err := c.ReadFromAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d packets: %v", i, err)
		}
		if want := bytes.Repeat([]byte{byte(i)}, i+1); !bytes.Equal(buf[:k], want) || addr != from {
			t.Fatalf("packet %d: got %d bytes %v from %v, want %d bytes %v from %v", i, k, buf[:min(k, 4)], addr, len(want), want[:min(len(want), 4)], from)
		}
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.ReadFromAddrPort(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read with nothing sent: got %v, want the deadline exceeded", err)
	}
}
