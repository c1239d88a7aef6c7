package signaling

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchWriter sends batches of datagrams with sendmmsg, calling the kernel directly.
// A system call made through the Go runtime lets the scheduler hand the goroutine's
// processor to another thread while it lasts, and a call that sends dozens of
// packets lasts long enough for that to happen: on a virtual machine, the thread
// wake-ups and switches that follow cost about as much as the sending. The socket is
// non-blocking, so the call never waits; a full socket buffer is waited out with the
// runtime's poller.
type batchWriter struct {
	rc    syscall.RawConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names map[netip.AddrPort]*sockaddr
}

// sockaddr is a destination in the kernel's form.
type sockaddr struct {
	v4  unix.RawSockaddrInet4
	v6  unix.RawSockaddrInet6
	ptr *byte
	len uint32
}

// maxNames bounds the destinations remembered in their kernel form.
const maxNames = 4096

func newBatchWriter(udp *net.UDPConn, size int) *batchWriter {
	rc, err := udp.SyscallConn()
	if err != nil {
		panic(err) // a *net.UDPConn always has one
	}
	w := &batchWriter{
		rc:    rc,
		hdrs:  make([]unix.Mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make(map[netip.AddrPort]*sockaddr),
	}
	for i := range w.hdrs {
		w.hdrs[i].Hdr.Iov = &w.iovs[i]
		w.hdrs[i].Hdr.SetIovlen(1)
	}
	return w
}

// set makes b, for addr, the i'th datagram of the next batch.
func (w *batchWriter) set(i int, b []byte, addr netip.AddrPort) {
	sa := w.names[addr]
	if sa == nil {
		if len(w.names) >= maxNames {
			clear(w.names)
		}
		sa = newSockaddr(addr)
		w.names[addr] = sa
	}
	w.iovs[i].Base = &b[0]
	w.iovs[i].SetLen(len(b))
	w.hdrs[i].Hdr.Name = sa.ptr
	w.hdrs[i].Hdr.Namelen = sa.len
}

func newSockaddr(addr netip.AddrPort) *sockaddr {
	sa := &sockaddr{}
	port := addr.Port()
	if ip := addr.Addr(); ip.Is4() || ip.Is4In6() {
		sa.v4.Family = unix.AF_INET
		sa.v4.Addr = ip.Unmap().As4()
		p := (*[2]byte)(unsafe.Pointer(&sa.v4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa.ptr, sa.len = (*byte)(unsafe.Pointer(&sa.v4)), unix.SizeofSockaddrInet4
	} else {
		sa.v6.Family = unix.AF_INET6
		sa.v6.Addr = ip.As16()
		p := (*[2]byte)(unsafe.Pointer(&sa.v6.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa.ptr, sa.len = (*byte)(unsafe.Pointer(&sa.v6)), unix.SizeofSockaddrInet6
	}
	return sa
}

// send sends the first n datagrams set and returns how many were dropped: one that
// the kernel refuses is skipped, so that one bad destination costs no one else.
func (w *batchWriter) send(n int) (dropped int) {
	msgs := w.hdrs[:n]
	for len(msgs) > 0 {
		var (
			sent  int
			errno syscall.Errno
		)
		err := w.rc.Write(func(fd uintptr) bool {
			for {
				r, _, e := unix.RawSyscall6(unix.SYS_SENDMMSG, fd,
					uintptr(unsafe.Pointer(&msgs[0])), uintptr(len(msgs)), 0, 0, 0)
				switch e {
				case unix.EINTR:
					continue
				case unix.EAGAIN:
					return false // wait until the socket can take more
				}
				sent, errno = int(r), e
				return true
			}
		})
		if err != nil {
			return dropped + len(msgs) // closed
		}
		if errno != 0 || sent <= 0 {
			sent = 1
			dropped++
		}
		msgs = msgs[sent:]
	}
	return dropped
}

// batchReader reads datagrams in batches with recvmmsg, calling the kernel directly
// for the same reason as batchWriter: each system call made through the runtime also
// wakes the runtime's monitor thread, which then polls for a while. When nothing is
// waiting, the reader parks in the runtime's poller as any socket read does.
type batchReader struct {
	mu      sync.Mutex // guards all below: one reader at a time
	rc      syscall.RawConn
	hdrs    []unix.Mmsghdr
	iovs    []unix.Iovec
	names   []unix.RawSockaddrInet6 // large enough for either family
	bufs    [][]byte
	n, next int // datagrams read, and the next to hand out
}

// maxDatagram bounds what the reader takes in one datagram (pion's receive MTU).
const maxDatagram = 8192

func newBatchReader(udp *net.UDPConn, size int) *batchReader {
	rc, err := udp.SyscallConn()
	if err != nil {
		panic(err) // a *net.UDPConn always has one
	}
	r := &batchReader{
		rc:    rc,
		hdrs:  make([]unix.Mmsghdr, size),
		iovs:  make([]unix.Iovec, size),
		names: make([]unix.RawSockaddrInet6, size),
		bufs:  make([][]byte, size),
	}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, maxDatagram)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(maxDatagram)
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	return r
}

// read copies the next datagram into b and returns its length and sender.
func (r *batchReader) read(b []byte) (int, netip.AddrPort, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.next >= r.n {
		for i := range r.hdrs {
			r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
			r.hdrs[i].Hdr.Flags = 0
			r.hdrs[i].Len = 0
		}
		var (
			got   int
			errno syscall.Errno
		)
		err := r.rc.Read(func(fd uintptr) bool {
			for {
				n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, fd,
					uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(len(r.hdrs)), unix.MSG_DONTWAIT, 0, 0)
				switch e {
				case unix.EINTR:
					continue
				case unix.EAGAIN:
					return false // wait in the poller
				}
				got, errno = int(n), e
				return true
			}
		})
		if err != nil {
			return 0, netip.AddrPort{}, err
		}
		if errno != 0 {
			return 0, netip.AddrPort{}, os.NewSyscallError("recvmmsg", errno)
		}
		r.n, r.next = got, 0
	}
	i := r.next
	r.next++
	n := copy(b, r.bufs[i][:r.hdrs[i].Len])
	return n, addrPortOf(&r.names[i]), nil
}

// addrPortOf reads a sockaddr the kernel wrote.
func addrPortOf(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&v4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(v4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}
