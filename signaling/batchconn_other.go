//go:build !linux

package signaling

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// batchWriter sends batches of datagrams with sendmmsg where the platform has it,
// or one at a time.
type batchWriter struct {
	pc    *ipv4.PacketConn
	msgs  []ipv4.Message
	addrs map[netip.AddrPort]*net.UDPAddr
}

// maxNames bounds the destinations remembered as *net.UDPAddr.
const maxNames = 4096

func newBatchWriter(udp *net.UDPConn, size int) *batchWriter {
	w := &batchWriter{
		pc:    ipv4.NewPacketConn(udp),
		msgs:  make([]ipv4.Message, size),
		addrs: make(map[netip.AddrPort]*net.UDPAddr),
	}
	for i := range w.msgs {
		w.msgs[i].Buffers = make([][]byte, 1)
	}
	return w
}

// set makes b, for addr, the i'th datagram of the next batch.
func (w *batchWriter) set(i int, b []byte, addr netip.AddrPort) {
	ua := w.addrs[addr]
	if ua == nil {
		if len(w.addrs) >= maxNames {
			clear(w.addrs)
		}
		ua = net.UDPAddrFromAddrPort(addr)
		w.addrs[addr] = ua
	}
	w.msgs[i].Buffers[0] = b
	w.msgs[i].Addr = ua
}

// send sends the first n datagrams set and returns how many were dropped: one that
// fails is skipped, so that one bad destination costs no one else.
func (w *batchWriter) send(n int) (dropped int) {
	msgs := w.msgs[:n]
	for len(msgs) > 0 {
		k, err := w.pc.WriteBatch(msgs, 0)
		if err != nil {
			if k <= 0 {
				k = 1
			}
			dropped++
		}
		msgs = msgs[k:]
	}
	return dropped
}

// batchReader reads one datagram at a time.
type batchReader struct{ udp *net.UDPConn }

func newBatchReader(udp *net.UDPConn, _ int) *batchReader { return &batchReader{udp: udp} }

// read copies the next datagram into b and returns its length and sender.
func (r *batchReader) read(b []byte) (int, netip.AddrPort, error) {
	return r.udp.ReadFromUDPAddrPort(b)
}
