package bridge

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// IsWebRTC reports whether a datagram belongs to WebRTC (RFC 7983): STUN
// (first byte 0–3) or DTLS (20–63). Flotilla's own packets start with 0x46
// and go to netcode, which drops anything else as not its protocol.
func IsWebRTC(b []byte) bool {
	return len(b) > 0 && (b[0] <= 3 || b[0] >= 20 && b[0] <= 63)
}

// Demux shares one batch.Conn between netcode and pion. It is the
// batch.Conn netcode reads and writes (on its owner's goroutine, as
// batch.Conn requires); the WebRTC datagrams it reads are handed to
// PacketConn, which pion's UDP mux reads on its own goroutine, and whose
// writes go out through the same connection, serialized with the owner's.
//
// Bound: at most queue WebRTC datagrams wait for pion; more are dropped
// and counted (Dropped). They are read only when the owner reads: a room
// reads continuously, so they wait at most a tick.
type Demux struct {
	conn    batch.Conn
	mu      sync.Mutex // serializes writes to conn
	one     []batch.Datagram
	rtc     *rtcConn
	dropped atomic.Uint64
}

// NewDemux wraps conn. queue bounds the WebRTC datagrams waiting for pion
// (default 4096).
func NewDemux(conn batch.Conn, queue int) *Demux {
	if queue <= 0 {
		queue = 4096
	}
	d := &Demux{conn: conn, one: make([]batch.Datagram, 1)}
	d.rtc = &rtcConn{d: d, in: make(chan rtcPacket, queue), closed: make(chan struct{})}
	return d
}

// PacketConn is the WebRTC side, for ice.UDPMuxParams.UDPConn.
func (d *Demux) PacketConn() net.PacketConn { return d.rtc }

// Dropped counts WebRTC datagrams dropped because pion fell behind.
func (d *Demux) Dropped() uint64 { return d.dropped.Load() }

// ReadBatch implements batch.Conn: it returns the datagrams that are not
// WebRTC's (possibly none, like a wake) and passes the others to
// PacketConn.
func (d *Demux) ReadBatch(ds []batch.Datagram, deadline time.Time) (int, error) {
	n, err := d.conn.ReadBatch(ds, deadline)
	keep := 0
	for i := range n {
		if !IsWebRTC(ds[i].Payload()) {
			ds[keep], ds[i] = ds[i], ds[keep]
			keep++
			continue
		}
		p := rtcPacket{addr: ds[i].Addr, b: append([]byte(nil), ds[i].Payload()...)}
		select {
		case d.rtc.in <- p:
		default:
			d.dropped.Add(1)
		}
	}
	return keep, err
}

// WriteBatch implements batch.Conn.
func (d *Demux) WriteBatch(ds []batch.Datagram) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conn.WriteBatch(ds)
}

// Wake implements batch.Conn.
func (d *Demux) Wake() { d.conn.Wake() }

// LocalAddr implements batch.Conn.
func (d *Demux) LocalAddr() netip.AddrPort { return d.conn.LocalAddr() }

// Stats implements batch.Conn: the connection's counters, both sides'.
func (d *Demux) Stats() batch.Stats { return d.conn.Stats() }

// Close closes PacketConn; the caller closes the connection it wrapped.
func (d *Demux) Close() error {
	d.rtc.Close()
	return nil
}

type rtcPacket struct {
	addr netip.AddrPort
	b    []byte
}

// rtcConn is the WebRTC side of a Demux as a net.PacketConn (and ice's
// AddrPortReaderWriter, so the mux allocates no address per datagram).
type rtcConn struct {
	d        *Demux
	in       chan rtcPacket
	closed   chan struct{}
	once     sync.Once
	deadline atomic.Int64 // read deadline, unix ns; 0 none
}

var errClosed = net.ErrClosed

func (c *rtcConn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	var timeout <-chan time.Time
	if dl := c.deadline.Load(); dl != 0 {
		t := time.NewTimer(time.Until(time.Unix(0, dl)))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case p := <-c.in:
		return copy(b, p.b), p.addr, nil
	case <-c.closed:
		return 0, netip.AddrPort{}, errClosed
	case <-timeout:
		return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
	}
}

func (c *rtcConn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.closed:
		return 0, errClosed
	default:
	}
	d := c.d
	d.mu.Lock()
	defer d.mu.Unlock()
	return batch.WriteOne(d.conn, d.one, b, addr)
}

func (c *rtcConn) ReadFrom(b []byte) (int, net.Addr, error) { return batch.ReadFrom(c, b) }

func (c *rtcConn) WriteTo(b []byte, addr net.Addr) (int, error) { return batch.WriteTo(c, b, addr) }

func (c *rtcConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *rtcConn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.d.conn.LocalAddr()) }

func (c *rtcConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *rtcConn) SetReadDeadline(t time.Time) error {
	if t.IsZero() {
		c.deadline.Store(0)
	} else {
		c.deadline.Store(t.UnixNano())
	}
	return nil
}

func (c *rtcConn) SetWriteDeadline(time.Time) error { return nil }
