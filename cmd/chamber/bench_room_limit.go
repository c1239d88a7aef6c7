package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/net/ipv4"
)

// The limit.
//
// What forwarding one packet to one subscriber must cost at least: encrypting it for
// that subscriber (SRTP, AEAD_AES_128_GCM, the profile the server prefers) and handing
// it to the kernel, with sendmmsg in batches of up to roomLimitBatch. The loop sends the
// packets the publishers sent, at the pace they sent them, to as many receivers as
// there were observers, with nothing in between: one thread that wakes for each
// published packet (or those due together), writes each receiver's copies one after
// another and flushes. Its CPU time per packet is the limit the server's figure is
// compared with.

const (
	roomLimitBatch = 64 // packets per sendmmsg
	roomLimitBurst = 16 // packets due together sent to each receiver in one go
)

type roomLimitResult struct {
	packets     int
	cpu         time.Duration
	usPerPacket float64
}

// measureRoomLimit sends packets (again from the start when they run out) to receivers
// for d and measures the sending thread's CPU time.
func measureRoomLimit(ctx context.Context, packets []roomPacket, receivers int, d time.Duration, host string) (roomLimitResult, error) {
	if len(packets) == 0 {
		return roomLimitResult{}, errors.New("no packets to send")
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}

	// Receivers, each drained so that their queues never fill.
	var (
		socks []*net.UDPConn
		wg    sync.WaitGroup
	)
	defer func() {
		for _, s := range socks {
			s.Close()
		}
		wg.Wait()
	}()
	dests := make([]*net.UDPAddr, receivers)
	for i := range receivers {
		s, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
		if err != nil {
			return roomLimitResult{}, fmt.Errorf("limit: receiver: %w", err)
		}
		s.SetReadBuffer(1 << 20)
		socks = append(socks, s)
		dests[i] = s.LocalAddr().(*net.UDPAddr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			roomDrain(s)
		}()
	}

	out, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	if err != nil {
		return roomLimitResult{}, fmt.Errorf("limit: sender: %w", err)
	}
	defer out.Close()
	out.SetWriteBuffer(4 << 20)
	pc := ipv4.NewPacketConn(out)

	type dest struct {
		ctx  *srtp.Context
		ssrc uint32
		seq  uint16
		addr *net.UDPAddr
	}
	ds := make([]dest, receivers)
	for i := range ds {
		var key [16]byte
		var salt [12]byte
		rand.Read(key[:])
		rand.Read(salt[:])
		c, err := srtp.CreateContext(key[:], salt[:], srtp.ProtectionProfileAeadAes128Gcm)
		if err != nil {
			return roomLimitResult{}, fmt.Errorf("limit: srtp: %w", err)
		}
		ds[i] = dest{ctx: c, ssrc: uint32(i + 1), addr: dests[i]}
	}

	res := make(chan roomLimitResult, 1)
	errc := make(chan error, 1)
	go func() {
		// The thread's CPU clock counts this goroutine alone while it is locked here.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		msgs := make([]ipv4.Message, roomLimitBatch)
		for i := range msgs {
			msgs[i].Buffers = [][]byte{make([]byte, 1600)}
		}
		var hdr rtp.Header
		span := packets[len(packets)-1].at + 20*time.Millisecond
		// at is when the i'th packet to send (counting on through the repeats) is due.
		at := func(i int) time.Duration { return time.Duration(i/len(packets))*span + packets[i%len(packets)].at }
		burst := make([]roomPacket, 0, roomLimitBurst)
		cpu0 := roomThreadCPU()
		start := time.Now()
		sent := 0
		for i := 0; ; {
			if at(i) >= d {
				cpu := roomThreadCPU() - cpu0
				res <- roomLimitResult{packets: sent, cpu: cpu, usPerPacket: float64(cpu) / 1e3 / float64(max(sent, 1))}
				return
			}
			if wait := time.Until(start.Add(at(i))); wait > 0 {
				time.Sleep(wait)
			}
			if ctx.Err() != nil {
				errc <- ctx.Err()
				return
			}
			// Everything due by now goes as one burst, as the forwarder sends what has
			// arrived while it was busy.
			burst = burst[:0]
			for now := time.Since(start); len(burst) < roomLimitBurst && at(i) <= now && at(i) < d; i++ {
				burst = append(burst, packets[i%len(packets)])
			}
			k := 0
			for j := range ds {
				r := &ds[j]
				for _, p := range burst {
					h := p.hdr
					h.SSRC, h.SequenceNumber = r.ssrc, r.seq
					r.seq++
					buf := msgs[k].Buffers[0][:cap(msgs[k].Buffers[0])]
					n, err := h.MarshalTo(buf)
					if err != nil {
						errc <- err
						return
					}
					n += copy(buf[n:], p.payload)
					enc, err := r.ctx.EncryptRTP(buf, buf[:n], &hdr)
					if err != nil {
						errc <- fmt.Errorf("limit: encrypt: %w", err)
						return
					}
					msgs[k].Buffers[0] = enc
					msgs[k].Addr = r.addr
					k++
					if k == roomLimitBatch {
						roomWriteAll(pc, msgs[:k])
						sent += k
						k = 0
					}
				}
			}
			roomWriteAll(pc, msgs[:k])
			sent += k
		}
	}()
	select {
	case r := <-res:
		return r, nil
	case err := <-errc:
		return roomLimitResult{}, err
	}
}

// roomWriteAll sends msgs with as few sendmmsg calls as it can.
func roomWriteAll(pc *ipv4.PacketConn, msgs []ipv4.Message) {
	for len(msgs) > 0 {
		n, err := pc.WriteBatch(msgs, 0)
		if err != nil && n <= 0 {
			n = 1
		}
		msgs = msgs[n:]
	}
}

func roomDrain(s *net.UDPConn) {
	pc := ipv4.NewPacketConn(s)
	msgs := make([]ipv4.Message, 16)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1600)}
	}
	for {
		if _, err := pc.ReadBatch(msgs, 0); err != nil {
			return
		}
	}
}
