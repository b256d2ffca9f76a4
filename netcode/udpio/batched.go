package udpio

import (
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// BatchedConn reads and writes a stdlib UDP socket with one recvmmsg or
// sendmmsg per batch of up to Options.BatchSize datagrams, through raw
// syscalls on the socket's RawConn so that the Go runtime's poller still does
// the waiting and the deadlines. Outside Linux it degrades to one datagram per
// syscall.
//
// ReadBatch and WriteBatch belong to one goroutine; Wake, LocalAddr, Stats,
// SocketBuffers and Close are safe from any goroutine.
type BatchedConn struct {
	*sock
	rx *mmsgReader
	tx *mmsgWriter
}

var _ batch.Conn = (*BatchedConn)(nil)

// ListenBatched opens the batched backend on addr. Options.RingSize does not
// apply.
func ListenBatched(addr netip.AddrPort, opts Options) (*BatchedConn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	s, err := newSock(addr, opts)
	if err != nil {
		return nil, err
	}
	rx, err := newMmsgReader(s.c, opts.BatchSize)
	if err != nil {
		s.Close()
		return nil, err
	}
	tx, err := newMmsgWriter(s.c, opts.BatchSize, s.v6)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &BatchedConn{sock: s, rx: rx, tx: tx}, nil
}

// ReadBatch receives up to min(len(ds), BatchSize) datagrams with one
// recvmmsg, straight into the callers' buffers (see batch.Conn).
func (c *BatchedConn) ReadBatch(ds []batch.Datagram, deadline time.Time) (int, error) {
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
	return c.readResult(c.rx.read(ds, poll, &c.st))
}

// WriteBatch sends ds with one sendmmsg per BatchSize datagrams. It never
// waits: a full send buffer drops the rest of the batch into
// Stats.TxDropped.
func (c *BatchedConn) WriteBatch(ds []batch.Datagram) (int, error) {
	if c.closed.Load() {
		return 0, batch.ErrClosed
	}
	n, err := c.tx.write(ds, &c.st)
	if err != nil {
		return n, wrapErr("write", err)
	}
	return n, nil
}
