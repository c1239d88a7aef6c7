package signaling

import (
	"hash/maphash"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// batchConn is the media socket. Reads go straight to the socket; writes are copied
// into queues that goroutines send in batches with sendmmsg (where the platform has
// it), since the kernel's per-call cost, not encryption, is most of what a forwarded
// packet costs. There is one queue and sending goroutine per CPU; a destination always
// uses the same one, so its packets stay in order. A write never blocks: when the
// queue is full the packet is dropped, as the network could have dropped it.
//
// It implements ice.AddrPortReaderWriter, which pion's UDP mux uses when present.
type batchConn struct {
	udp     *net.UDPConn
	pc      *ipv4.PacketConn
	dropped atomic.Int64
	shards  []*sendQueue
	seed    maphash.Seed
}

// sendQueue is one sending goroutine's queue.
type sendQueue struct {
	c      *batchConn
	mu     sync.Mutex // guards queue, closed
	queue  []outPacket
	closed bool
	wake   chan struct{}
	done   chan struct{}
}

type outPacket struct {
	buf  *[]byte
	n    int
	addr netip.AddrPort
}

const (
	batchSize     = 64   // packets per sendmmsg
	batchQueueMax = 8192 // packets waiting before writes are dropped
	outBufSize    = 1500
)

var outBufs = sync.Pool{New: func() any { b := make([]byte, outBufSize); return &b }}

func newBatchConn(udp *net.UDPConn, shards int) *batchConn {
	c := &batchConn{udp: udp, pc: ipv4.NewPacketConn(udp), seed: maphash.MakeSeed()}
	for range max(shards, 1) {
		q := &sendQueue{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
		c.shards = append(c.shards, q)
		go q.flush()
	}
	return c
}

func (c *batchConn) ReadFrom(b []byte) (int, net.Addr, error) { return c.udp.ReadFrom(b) }

func (c *batchConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.udp.ReadFromUDPAddrPort(b)
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
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return len(b), nil
}

// flush sends queued packets until the connection is closed and the queue empty.
func (q *sendQueue) flush() {
	defer close(q.done)
	var (
		spare []outPacket
		msgs  = make([]ipv4.Message, batchSize)
		addrs = make(map[netip.AddrPort]*net.UDPAddr)
	)
	for i := range msgs {
		msgs[i].Buffers = make([][]byte, 1)
	}
	for {
		<-q.wake
		q.mu.Lock()
		batch, closed := q.queue, q.closed
		q.queue = spare[:0]
		q.mu.Unlock()
		queue := batch
		for len(queue) > 0 {
			n := min(len(queue), batchSize)
			for i, p := range queue[:n] {
				ua := addrs[p.addr]
				if ua == nil {
					if len(addrs) > 4096 {
						clear(addrs)
					}
					ua = net.UDPAddrFromAddrPort(p.addr)
					addrs[p.addr] = ua
				}
				msgs[i].Buffers[0] = (*p.buf)[:p.n]
				msgs[i].Addr = ua
			}
			q.c.writeBatch(msgs[:n])
			for _, p := range queue[:n] {
				outBufs.Put(p.buf)
			}
			queue = queue[n:]
		}
		spare = batch[:0]
		if closed {
			return
		}
	}
}

// writeBatch sends msgs, one call at a time if the batch call fails part-way.
func (c *batchConn) writeBatch(msgs []ipv4.Message) {
	for len(msgs) > 0 {
		n, err := c.pc.WriteBatch(msgs, 0)
		if err != nil {
			// One bad destination must not cost the rest: skip it.
			if n <= 0 {
				n = 1
			}
			c.dropped.Add(1)
		}
		msgs = msgs[n:]
	}
}

// Close sends what is queued and closes the socket.
func (c *batchConn) Close() error {
	for _, q := range c.shards {
		q.mu.Lock()
		already := q.closed
		q.closed = true
		q.mu.Unlock()
		if !already {
			select {
			case q.wake <- struct{}{}:
			default:
			}
			<-q.done
		}
	}
	return c.udp.Close()
}

func (c *batchConn) LocalAddr() net.Addr                { return c.udp.LocalAddr() }
func (c *batchConn) SetDeadline(t time.Time) error      { return c.udp.SetDeadline(t) }
func (c *batchConn) SetReadDeadline(t time.Time) error  { return c.udp.SetReadDeadline(t) }
func (c *batchConn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }
