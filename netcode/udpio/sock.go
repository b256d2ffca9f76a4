package udpio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// longAgo is the read deadline Wake sets to kick a blocked read.
var longAgo = time.Unix(1, 0)

// sock is what the stdlib-socket backends (batched and naive) share: the
// socket, its counters, Wake through the read deadline, and Close.
type sock struct {
	c     *net.UDPConn
	v6    bool
	local netip.AddrPort
	bufs  [2]int
	st    counters

	woken     atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func newSock(addr netip.AddrPort, opts Options) (*sock, error) {
	c, local, bufs, err := listenUDP(addr, opts)
	if err != nil {
		return nil, err
	}
	return &sock{c: c, v6: local.Addr().Is6(), local: local, bufs: bufs}, nil
}

// armRead prepares a read for deadline. A deadline already past asks for a
// poll: the stdlib attempts no read under an expired deadline, so the
// deadline is cleared and the caller makes one non-blocking attempt. woke
// reports a Wake that must be answered with 0, nil.
//
// A Wake stores its flag before it moves the deadline into the past, and the
// flag is checked after the deadline is set here, so either this call sees
// the flag or the Wake's deadline lands after ours and ends the read.
func (s *sock) armRead(deadline time.Time) (poll, woke bool, err error) {
	if s.woken.Swap(false) {
		return false, true, nil
	}
	d := deadline
	if !d.IsZero() && !time.Now().Before(d) {
		poll, d = true, time.Time{}
	}
	if err := s.c.SetReadDeadline(d); err != nil {
		return false, false, wrapErr("set read deadline", err)
	}
	if s.woken.Swap(false) {
		return false, true, nil
	}
	return poll, false, nil
}

// readResult turns a read's error into the batch.Conn contract: a passed
// deadline (a timeout or a Wake) is 0, nil; a closed socket is ErrClosed.
func (s *sock) readResult(n int, err error) (int, error) {
	if err == nil {
		return n, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.woken.Store(false)
		return 0, nil
	}
	if s.closed.Load() {
		return 0, batch.ErrClosed
	}
	return 0, wrapErr("read", err)
}

// Wake makes a ReadBatch that is waiting, or the next one, return 0, nil at
// once. Safe from any goroutine.
func (s *sock) Wake() {
	s.woken.Store(true)
	_ = s.c.SetReadDeadline(longAgo) // fails only once closed
}

// LocalAddr is the bound address, IPv4 unmapped. Safe from any goroutine.
func (s *sock) LocalAddr() netip.AddrPort { return s.local }

// Stats returns the counters. Safe from any goroutine.
func (s *sock) Stats() batch.Stats { return s.st.snapshot() }

// SocketBuffers reports SO_RCVBUF and SO_SNDBUF as the kernel granted them.
// Safe from any goroutine.
func (s *sock) SocketBuffers() (recv, send int) { return s.bufs[0], s.bufs[1] }

// Close closes the socket; a blocked ReadBatch returns batch.ErrClosed. Safe
// from any goroutine; later calls return the first call's result.
func (s *sock) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if err := s.c.Close(); err != nil {
			s.closeErr = wrapErr("close", err)
		}
	})
	return s.closeErr
}

// writeEach sends ds one WriteToUDPAddrPort at a time: the naive backend's
// send path and the fallback where sendmmsg does not exist. The stdlib waits
// for a full send buffer to drain instead of failing, so here a full buffer
// stalls the caller rather than dropping.
func writeEach(c *net.UDPConn, ds []batch.Datagram, v6 bool, st *counters) (int, error) {
	sent, bytes, dropped := 0, 0, 0
	for i := range ds {
		d := &ds[i]
		if !sendable(d) {
			dropped++
			continue
		}
		to := d.Addr
		if !v6 {
			to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
		}
		if _, err := c.WriteToUDPAddrPort(d.Buf[:d.N], to); err != nil {
			if errors.Is(err, net.ErrClosed) {
				st.addTx(sent, bytes, dropped+len(ds)-i)
				return sent, batch.ErrClosed
			}
			dropped++
			continue
		}
		sent++
		bytes += d.N
	}
	st.addTx(sent, bytes, dropped)
	return sent, nil
}

// truncated is 1 when recvmsg flags mark a datagram cut to the buffer.
func truncated(flags int) int {
	if flags&msgTrunc != 0 {
		return 1
	}
	return 0
}
