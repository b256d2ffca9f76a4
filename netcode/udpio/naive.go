package udpio

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// NaiveConn is the baseline backend: one net.UDPConn, one
// ReadMsgUDPAddrPort or WriteToUDPAddrPort per datagram. ReadBatch returns at
// most one datagram. It is portable and it is what the benchmark measures the
// other backends against.
//
// ReadBatch and WriteBatch belong to one goroutine; Wake, LocalAddr, Stats,
// SocketBuffers and Close are safe from any goroutine.
type NaiveConn struct {
	*sock
	poller *mmsgReader // one slot, for polls (a deadline already past)
}

var _ batch.Conn = (*NaiveConn)(nil)

// ListenNaive opens the naive backend on addr. Options.RingSize and
// BatchSize do not apply.
func ListenNaive(addr netip.AddrPort, opts Options) (*NaiveConn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := newSock(addr, opts)
	if err != nil {
		return nil, err
	}
	poller, err := newMmsgReader(s.c, 1)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &NaiveConn{sock: s, poller: poller}, nil
}

// ReadBatch receives one datagram into ds[0] and returns 1, or 0, nil on a
// timeout or a Wake (see batch.Conn). The payload is in ds[0].Buf until the
// caller reuses it. A deadline already past makes one non-blocking attempt
// (on Linux a raw recvmmsg of one message: the stdlib cannot try a read
// under an expired deadline).
func (c *NaiveConn) ReadBatch(ds []batch.Datagram, deadline time.Time) (int, error) {
	if c.closed.Load() {
		return 0, batch.ErrClosed
	}
	if len(ds) == 0 {
		return 0, nil
	}
	poll, woke, err := c.armRead(deadline)
	if err != nil || woke {
		return 0, err
	}
	if poll {
		return c.readResult(c.poller.read(ds[:1], true, &c.st))
	}
	d := &ds[0]
	n, _, flags, from, err := c.c.ReadMsgUDPAddrPort(d.Buf[:cap(d.Buf)], nil)
	if err != nil {
		return c.readResult(0, err)
	}
	d.N = n
	d.Addr = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	c.st.addRx(1, n, truncated(flags))
	return 1, nil
}

// WriteBatch sends each datagram with its own WriteToUDPAddrPort. Unlike the
// other backends it waits when the socket's send buffer is full (the stdlib
// does), so a flood stalls the caller instead of dropping.
func (c *NaiveConn) WriteBatch(ds []batch.Datagram) (int, error) {
	if c.closed.Load() {
		return 0, batch.ErrClosed
	}
	return writeEach(c.c, ds, c.v6, &c.st)
}
