package main

import (
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// roomReader reads datagrams in batches with recvmmsg, called directly rather than
// through the runtime, whose bookkeeping around each system call also wakes its
// monitor thread: hundreds of observers share the machine with the server, and should
// take as little of it as they can. When nothing has come, it waits in the poller.
type roomReader struct {
	rc    syscall.RawConn
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet4
	bufs  [][]byte
}

func newRoomReader(udp *net.UDPConn, n int) *roomReader {
	rc, _ := udp.SyscallConn()
	r := &roomReader{
		rc:    rc,
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet4, n),
		bufs:  make([][]byte, n),
	}
	for i := range r.hdrs {
		r.bufs[i] = make([]byte, 1500)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(len(r.bufs[i]))
		r.hdrs[i].Hdr.Iov = &r.iovs[i]
		r.hdrs[i].Hdr.SetIovlen(1)
		r.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&r.names[i]))
	}
	return r
}

// read reads a batch and returns how many datagrams it holds.
func (r *roomReader) read() (int, error) {
	for i := range r.hdrs {
		r.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
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
				return false
			}
			got, errno = int(n), e
			return true
		}
	})
	if err == nil && errno != 0 {
		err = errno
	}
	return got, err
}

// datagram returns the i'th datagram of the batch.
func (r *roomReader) datagram(i int) []byte { return r.bufs[i][:r.hdrs[i].Len] }

// sender returns who sent the i'th datagram of the batch.
func (r *roomReader) sender(i int) net.Addr {
	sa := &r.names[i]
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	return &net.UDPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: int(p[0])<<8 | int(p[1])}
}

// roomThreadCPU is the calling thread's CPU time, user and system.
func roomThreadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
