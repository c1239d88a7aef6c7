package signaling

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// batchConn is the media socket. Reads take what has arrived in batches (recvmmsg);
// writes are copied into queues that are sent in batches with sendmmsg (where the
// platform has them), since the kernel's per-call cost, not encryption, is most of
// what a forwarded packet costs. There is one queue per CPU; a destination always uses the same one, and a
// queue's batches leave one after another, so a destination's packets stay in order.
// A write never blocks: when the queue is full the packet is dropped, as the network
// could have dropped it.
//
// Packets are sent by the goroutines that write them, so that no goroutine is woken
// to send: a write on its own (RTCP, STUN) goes at once, unless the queue is being
// sent already, when the queue's goroutine is woken to send it next so that the
// writer never waits; writes made during a burst (see hold), such as a packet's
// copies for all its subscribers, go together when the burst ends.
//
// It implements ice.AddrPortReaderWriter, which pion's UDP mux uses when present.
type batchConn struct {
	udp     *net.UDPConn
	r       *batchReader
	dropped atomic.Int64
	held    atomic.Int32 // bursts under way
	shards  []*sendQueue
	seed    maphash.Seed
}

// sendQueue is one queue and the goroutine that sends it when poked.
type sendQueue struct {
	c      *batchConn
	mu     sync.Mutex // guards queue, closed
	queue  []outPacket
	closed bool
	wake   chan struct{}
	done   chan struct{}

	// sendMu is held while a batch is taken and sent, so that batches leave in order.
	sendMu sync.Mutex // guards spare, w
	spare  []outPacket
	w      *batchWriter
}

type outPacket struct {
	buf  *[]byte
	n    int
	addr netip.AddrPort
}

const (
	batchSize     = 64    // packets per sendmmsg
	readBatch     = 16    // packets per recvmmsg
	batchQueueMax = 16384 // packets waiting before writes are dropped
	outBufSize    = 1500
)

var outBufs = sync.Pool{New: func() any { b := make([]byte, outBufSize); return &b }}

func newBatchConn(udp *net.UDPConn, shards int) *batchConn {
	c := &batchConn{udp: udp, r: newBatchReader(udp, readBatch), seed: maphash.MakeSeed()}
	for range max(shards, 1) {
		q := &sendQueue{
			c:    c,
			wake: make(chan struct{}, 1),
			done: make(chan struct{}),
			w:    newBatchWriter(udp, batchSize),
		}
		c.shards = append(c.shards, q)
		go q.flush()
	}
	return c
}

// hold begins a burst of writes, such as one packet's copies for every subscriber:
// until the matching release, writes are only queued. Bursts may overlap.
func (c *batchConn) hold() { c.held.Add(1) }

// release ends a burst and sends what is queued, in as few sendmmsg calls as it can.
// If another goroutine is sending the queue, release waits to send the rest itself:
// the bursts then cannot outrun the socket, which would only fill the queue.
func (c *batchConn) release() {
	// A write that saw a burst held and did not send was queued before this decrement,
	// so the sending below (or the next release's) takes it.
	c.held.Add(-1)
	for _, q := range c.shards {
		q.sendMu.Lock()
		q.sendLocked()
		q.sendMu.Unlock()
	}
}

// send sends what is queued from the calling goroutine or, if the queue is being
// sent already, has its goroutine send the rest after that, so as not to wait.
func (q *sendQueue) send() {
	if !q.sendMu.TryLock() {
		q.poke()
		return
	}
	q.sendLocked()
	q.sendMu.Unlock()
}

func (c *batchConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.r.read(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(addr), nil
}

// ReadFromAddrPort reads the next datagram; it is what pion's UDP mux calls.
func (c *batchConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.r.read(b)
}

func (c *batchConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return c.udp.WriteTo(b, addr)
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// WriteToAddrPort queues a copy of b for addr.
func (c *batchConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > outBufSize {
		return c.udp.WriteToUDPAddrPort(b, addr)
	}
	q := c.shards[0]
	if len(c.shards) > 1 {
		q = c.shards[maphash.Comparable(c.seed, addr)%uint64(len(c.shards))]
	}
	buf := outBufs.Get().(*[]byte)
	n := copy(*buf, b)
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		outBufs.Put(buf)
		return 0, net.ErrClosed
	}
	if len(q.queue) >= batchQueueMax {
		q.mu.Unlock()
		outBufs.Put(buf)
		c.dropped.Add(1)
		return len(b), nil
	}
	q.queue = append(q.queue, outPacket{buf: buf, n: n, addr: addr})
	q.mu.Unlock()
	if c.held.Load() == 0 {
		q.send()
	}
	return len(b), nil
}

func (q *sendQueue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// flush sends queued packets until the connection is closed and the queue empty.
func (q *sendQueue) flush() {
	defer close(q.done)
	for {
		<-q.wake
		q.sendMu.Lock()
		closed := q.sendLocked()
		q.sendMu.Unlock()
		if closed {
			return
		}
	}
}

// sendLocked sends what is queued and reports whether the queue is closed. The caller
// holds sendMu.
func (q *sendQueue) sendLocked() (closed bool) {
	q.mu.Lock()
	batch := q.queue
	closed = q.closed
	if len(batch) == 0 {
		q.mu.Unlock()
		return closed
	}
	q.queue = q.spare[:0]
	q.mu.Unlock()
	for queue := batch; len(queue) > 0; {
		n := min(len(queue), batchSize)
		for i, p := range queue[:n] {
			q.w.set(i, (*p.buf)[:p.n], p.addr)
		}
		if dropped := q.w.send(n); dropped > 0 {
			q.c.dropped.Add(int64(dropped))
		}
		for _, p := range queue[:n] {
			outBufs.Put(p.buf)
		}
		queue = queue[n:]
	}
	clear(batch)
	q.spare = batch[:0]
	return closed
}

// Close sends what is queued and closes the socket.
func (c *batchConn) Close() error {
	for _, q := range c.shards {
		q.mu.Lock()
		already := q.closed
		q.closed = true
		q.mu.Unlock()
		if !already {
			q.poke()
			<-q.done
		}
	}
	return c.udp.Close()
}

func (c *batchConn) LocalAddr() net.Addr                { return c.udp.LocalAddr() }
func (c *batchConn) SetDeadline(t time.Time) error      { return c.udp.SetDeadline(t) }
func (c *batchConn) SetReadDeadline(t time.Time) error  { return c.udp.SetReadDeadline(t) }
func (c *batchConn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }
