//go:build !linux

package udpio

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// pollWindow is how long a poll waits outside Linux, where the stdlib cannot
// attempt a read under an expired deadline and the raw syscalls are not used.
const pollWindow = time.Millisecond

// mmsgReader outside Linux reads one datagram per call through the stdlib:
// recvmmsg is Linux-only.
type mmsgReader struct{ c *net.UDPConn }

func newMmsgReader(c *net.UDPConn, _ int) (*mmsgReader, error) { return &mmsgReader{c: c}, nil }

// read receives one datagram into ds[0]. A poll waits at most pollWindow.
func (r *mmsgReader) read(ds []batch.Datagram, poll bool, st *counters) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	if poll {
		if err := r.c.SetReadDeadline(time.Now().Add(pollWindow)); err != nil {
			return 0, err
		}
	}
	d := &ds[0]
	n, _, flags, addr, err := r.c.ReadMsgUDPAddrPort(d.Buf[:cap(d.Buf)], nil)
	if err != nil {
		if poll && errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, nil
		}
		return 0, err
	}
	d.N = n
	d.Addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	st.addRx(1, n, truncated(flags))
	return 1, nil
}

// mmsgWriter outside Linux sends one datagram per syscall through the stdlib.
type mmsgWriter struct {
	c  *net.UDPConn
	v6 bool
}

func newMmsgWriter(c *net.UDPConn, _ int, v6 bool) (*mmsgWriter, error) {
	return &mmsgWriter{c: c, v6: v6}, nil
}

func (w *mmsgWriter) write(ds []batch.Datagram, st *counters) (int, error) {
	return writeEach(w.c, ds, w.v6, st)
}

// ringFiller outside Linux does nothing: gnet reads one datagram per event.
type ringFiller struct{}

func newRingFiller(int) *ringFiller { return &ringFiller{} }

func (*ringFiller) fill(int, *ring, func()) int { return 0 }
