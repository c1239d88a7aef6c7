//go:build !linux

package main

import (
	"net"
	"time"

	"golang.org/x/net/ipv4"
)

// roomReader reads datagrams in batches where the platform can.
type roomReader struct {
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
}

func newRoomReader(udp *net.UDPConn, n int) *roomReader {
	r := &roomReader{pc: ipv4.NewPacketConn(udp), msgs: make([]ipv4.Message, n)}
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	return r
}

// read reads a batch and returns how many datagrams it holds.
func (r *roomReader) read() (int, error) { return r.pc.ReadBatch(r.msgs, 0) }

// datagram returns the i'th datagram of the batch.
func (r *roomReader) datagram(i int) []byte { return r.msgs[i].Buffers[0][:r.msgs[i].N] }

// sender returns who sent the i'th datagram of the batch.
func (r *roomReader) sender(i int) net.Addr { return r.msgs[i].Addr }

// roomThreadCPU is 0: the limit is measured on Linux only.
func roomThreadCPU() time.Duration { return 0 }
