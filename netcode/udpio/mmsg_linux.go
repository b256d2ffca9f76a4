//go:build linux

package udpio

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/flotilla/flotilla/netcode/batch"
)

// mmsgHeaders are the preallocated mmsghdr, iovec and sockaddr arrays one
// recvmmsg or sendmmsg call uses: entry i's header points at iovec i and at
// sockaddr slot i for the call's whole life, so a call only fills in buffer
// pointers, lengths and addresses.
type mmsgHeaders struct {
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6
}

func newMmsgHeaders(n int) mmsgHeaders {
	h := mmsgHeaders{
		hdrs:  make([]unix.Mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n),
	}
	for i := range h.hdrs {
		h.hdrs[i].Hdr.Iov = &h.iovs[i]
		h.hdrs[i].Hdr.SetIovlen(1)
		h.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&h.names[i]))
	}
	return h
}

// setBuf points iovec i at b[:cap(b)] (read) or b (write).
func (h *mmsgHeaders) setBuf(i int, b []byte) {
	if cap(b) == 0 {
		h.iovs[i].Base = nil
	} else {
		h.iovs[i].Base = unsafe.SliceData(b)
	}
	h.iovs[i].SetLen(len(b))
}

// release drops the pointers to the caller's buffers so the backend retains
// nothing after a call.
func (h *mmsgHeaders) release(k int) {
	for i := range k {
		h.iovs[i].Base = nil
	}
}

// mmsgReader receives with recvmmsg(2) straight into the caller's buffers and
// decodes the peer addresses from its own sockaddr array: no allocation per
// call. x/net's ipv4.PacketConn.ReadBatch makes the same syscall but builds a
// *net.UDPAddr and its net.IP for every message (two allocations each).
type mmsgReader struct {
	rc    syscall.RawConn
	h     mmsgHeaders
	k     int           // messages armed for this call
	n     int           // messages received
	errno syscall.Errno // recvmmsg failure other than EAGAIN
	wait  func(fd uintptr) bool
	poll  func(fd uintptr) bool
}

func newMmsgReader(c *net.UDPConn, size int) (*mmsgReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("udpio: raw conn: %w", err)
	}
	r := &mmsgReader{rc: rc, h: newMmsgHeaders(size)}
	r.wait = func(fd uintptr) bool { return r.recv(fd, true) }
	r.poll = func(fd uintptr) bool { return r.recv(fd, false) }
	return r, nil
}

// read fills ds with up to len(r.h.hdrs) datagrams in one recvmmsg. With poll
// it makes one non-blocking attempt and returns 0 if nothing is queued;
// without, it waits under the socket's read deadline (the caller sets it).
// RawConn errors, the deadline's among them, come back unwrapped.
func (r *mmsgReader) read(ds []batch.Datagram, poll bool, st *counters) (int, error) {
	k := min(len(ds), len(r.h.hdrs))
	if k == 0 {
		return 0, nil
	}
	for i := range k {
		r.h.setBuf(i, ds[i].Buf[:cap(ds[i].Buf)])
		r.h.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
		r.h.hdrs[i].Hdr.Flags = 0
		r.h.hdrs[i].Len = 0
	}
	r.k, r.n, r.errno = k, 0, 0
	f := r.wait
	if poll {
		f = r.poll
	}
	err := r.rc.Read(f)
	r.h.release(k)
	if err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, os.NewSyscallError("recvmmsg", r.errno)
	}
	bytes, truncated := 0, 0
	for i := range r.n {
		d := &ds[i]
		hdr := &r.h.hdrs[i]
		d.N = min(int(hdr.Len), cap(d.Buf))
		if hdr.Hdr.Flags&unix.MSG_TRUNC != 0 {
			truncated++
		}
		d.Addr = sockaddrAddrPort(&r.h.names[i])
		bytes += d.N
	}
	st.addRx(r.n, bytes, truncated)
	return r.n, nil
}

// recv is the RawConn.Read callback: true ends the read, false asks the
// runtime to wait for readability.
func (r *mmsgReader) recv(fd uintptr, wait bool) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd,
			uintptr(unsafe.Pointer(&r.h.hdrs[0])), uintptr(r.k), 0, 0, 0)
		switch e {
		case 0:
			r.n = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return !wait
		default:
			r.errno = e
			return true
		}
	}
}

// mmsgWriter sends with sendmmsg(2) from the caller's buffers, encoding
// addresses into its own sockaddr array: no allocation per call. It never
// waits for the socket to become writable: a full send buffer drops the rest
// of the batch, as the batch.Conn contract asks.
type mmsgWriter struct {
	rc      syscall.RawConn
	h       mmsgHeaders
	v6      bool // the socket is AF_INET6: IPv4 peers go out v4-mapped
	ds      []batch.Datagram
	sent    int
	bytes   int
	dropped int
	errno   syscall.Errno
	send    func(fd uintptr) bool
}

func newMmsgWriter(c *net.UDPConn, size int, v6 bool) (*mmsgWriter, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("udpio: raw conn: %w", err)
	}
	w := &mmsgWriter{rc: rc, h: newMmsgHeaders(size), v6: v6}
	w.send = w.sendAll
	return w, nil
}

// write sends every datagram of ds it can and returns how many went out.
func (w *mmsgWriter) write(ds []batch.Datagram, st *counters) (int, error) {
	w.ds, w.sent, w.bytes, w.dropped, w.errno = ds, 0, 0, 0, 0
	err := w.rc.Write(w.send)
	w.ds = nil
	st.addTx(w.sent, w.bytes, w.dropped)
	if err != nil {
		return w.sent, err
	}
	if w.errno != 0 {
		return w.sent, os.NewSyscallError("sendmmsg", w.errno)
	}
	return w.sent, nil
}

// sendAll is the RawConn.Write callback; it always ends the write.
func (w *mmsgWriter) sendAll(fd uintptr) bool {
	ds := w.ds
	for len(ds) > 0 {
		k, used := 0, 0
		for used < len(ds) && k < len(w.h.hdrs) {
			d := &ds[used]
			used++
			if !sendable(d) {
				w.dropped++
				continue
			}
			namelen := putSockaddr(&w.h.names[k], d.Addr, w.v6)
			if namelen == 0 {
				w.dropped++
				continue
			}
			w.h.hdrs[k].Hdr.Namelen = namelen
			w.h.setBuf(k, d.Buf[:d.N])
			k++
		}
		ds = ds[used:]
		stop := w.sendHeaders(fd, k)
		w.h.release(k)
		if stop {
			w.dropped += len(ds)
			return true
		}
	}
	return true
}

// sendHeaders sends headers [0,k). A message the kernel refuses on its own
// account (unreachable, bad address, too big) is dropped and the rest go on;
// a full buffer drops the rest; a broken socket stops with w.errno set.
func (w *mmsgWriter) sendHeaders(fd uintptr, k int) (stop bool) {
	i := 0
	for i < k {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd,
			uintptr(unsafe.Pointer(&w.h.hdrs[i])), uintptr(k-i), 0, 0, 0)
		switch e {
		case 0:
			for j := i; j < i+int(n); j++ {
				w.bytes += int(w.h.iovs[j].Len)
			}
			w.sent += int(n)
			i += int(n)
		case unix.EINTR:
		case unix.EAGAIN, unix.ENOBUFS:
			w.dropped += k - i
			return true
		case unix.EBADF, unix.ENOTSOCK, unix.EFAULT:
			w.dropped += k - i
			w.errno = e
			return true
		default:
			w.dropped++
			i++
		}
	}
	return false
}

// putSockaddr encodes ap into sa for a socket of the given family and returns
// the sockaddr's length, or 0 when ap cannot be sent from that socket.
// IPv6 zones are not carried: a scoped link-local peer gets no scope id.
func putSockaddr(sa *unix.RawSockaddrInet6, ap netip.AddrPort, v6 bool) uint32 {
	a := ap.Addr()
	if !a.IsValid() {
		return 0
	}
	if !v6 {
		a = a.Unmap()
		if !a.Is4() {
			return 0
		}
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		s4.Family = unix.AF_INET
		putPort(&s4.Port, ap.Port())
		s4.Addr = a.As4()
		s4.Zero = [8]uint8{}
		return unix.SizeofSockaddrInet4
	}
	sa.Family = unix.AF_INET6
	putPort(&sa.Port, ap.Port())
	sa.Flowinfo = 0
	sa.Addr = a.As16()
	sa.Scope_id = 0
	return unix.SizeofSockaddrInet6
}

// sockaddrAddrPort decodes a sockaddr the kernel filled in; v4-mapped
// addresses come back as IPv4.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		s4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(s4.Addr), getPort(&s4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), getPort(&sa.Port))
	}
	return netip.AddrPort{}
}

// putPort and getPort store a port in network byte order whatever the host's.
func putPort(p *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(p))
	b[0], b[1] = byte(port>>8), byte(port)
}

func getPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// msgTrunc is the recvmsg flag for a datagram longer than the buffer.
const msgTrunc = unix.MSG_TRUNC

// ringFiller is the gnet event loop's batch reader: after gnet's own
// recvfrom of one datagram, OnTraffic drains what else is queued on the
// socket with recvmmsg straight into free ring slots. gnet allocates five
// objects per datagram it reads and calls back once per datagram; the filler
// allocates nothing and reads up to a batch per syscall.
type ringFiller struct {
	h mmsgHeaders
}

// ringFillRounds bounds one readable event's draining, so that gnet's event
// loop gets back to its own tasks (shutdown among them) under a flood.
const ringFillRounds = 16

func newRingFiller(size int) *ringFiller { return &ringFiller{h: newMmsgHeaders(size)} }

// fill reads datagrams from fd (non-blocking; gnet's listening socket) into
// r until the socket is empty, r is full or ringFillRounds syscalls were
// made, calling published after each batch. It returns how many it read.
func (f *ringFiller) fill(fd int, r *ring, published func()) (total int) {
	for range ringFillRounds {
		t, free := r.reserve()
		k := min(free, len(f.h.hdrs))
		if k == 0 {
			return total
		}
		for i := range k {
			f.h.setBuf(i, r.slotAt(t+uint64(i)))
			f.h.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
			f.h.hdrs[i].Hdr.Flags = 0
		}
		var n uintptr
		var e syscall.Errno
		for {
			n, _, e = unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd),
				uintptr(unsafe.Pointer(&f.h.hdrs[0])), uintptr(k), 0, 0, 0)
			if e != unix.EINTR {
				break
			}
		}
		f.h.release(k)
		if e != 0 { // EAGAIN: drained; anything else: gnet's next recvfrom reports it
			return total
		}
		for i := range int(n) {
			size := int(f.h.hdrs[i].Len)
			if f.h.hdrs[i].Hdr.Flags&unix.MSG_TRUNC != 0 {
				size = batch.MaxDatagram + 1 // longer than the slot: pop counts it cut
			}
			r.fill(t+uint64(i), sockaddrAddrPort(&f.h.names[i]), size)
		}
		r.publish(t + uint64(n))
		total += int(n)
		published()
		if int(n) < k {
			return total
		}
	}
	return total
}
