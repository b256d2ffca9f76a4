package batch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// PacketConn is c as a net.PacketConn, for libraries that want one (pion's
// ICE UDP mux): a WebRTC client on a netsim endpoint, or on a socket bound
// to a chosen source address. It reads one datagram per call; reads and
// writes may come from different goroutines (each serialized by its own
// lock), so c must allow ReadBatch and WriteBatch at once (see Conn; udpio's
// and netsim's do). Close closes c.
func PacketConn(c Conn) *PacketConnAdapter {
	a := &PacketConnAdapter{c: c, rd: NewBuffers(1), wr: make([]Datagram, 1)}
	return a
}

// PacketConnAdapter is what PacketConn returns; it also implements
// ReadFromAddrPort and WriteToAddrPort, which allocate no address.
type PacketConnAdapter struct {
	c        Conn
	rmu, wmu sync.Mutex
	rd, wr   []Datagram
	deadline atomic.Int64 // read deadline, unix ns; 0: none
	closed   atomic.Bool
}

// ReadFromAddrPort reads one datagram into b (truncated to len(b)).
func (a *PacketConnAdapter) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	a.rmu.Lock()
	defer a.rmu.Unlock()
	for {
		var dl time.Time
		if ns := a.deadline.Load(); ns != 0 {
			dl = time.Unix(0, ns)
			if !time.Now().Before(dl) {
				return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
			}
		}
		n, err := a.c.ReadBatch(a.rd, dl)
		if err != nil {
			if errors.Is(err, ErrClosed) || a.closed.Load() {
				return 0, netip.AddrPort{}, net.ErrClosed
			}
			return 0, netip.AddrPort{}, err
		}
		if a.closed.Load() {
			return 0, netip.AddrPort{}, net.ErrClosed
		}
		if n == 1 {
			d := &a.rd[0]
			return copy(b, d.Payload()), d.Addr, nil
		}
		// A wake or the deadline: look again.
	}
}

// WriteToAddrPort sends b to addr.
func (a *PacketConnAdapter) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if a.closed.Load() {
		return 0, net.ErrClosed
	}
	if len(b) > MaxDatagram {
		return 0, errors.New("batch: datagram over MaxDatagram")
	}
	a.wmu.Lock()
	defer a.wmu.Unlock()
	n, err := WriteOne(a.c, a.wr, b, addr)
	if errors.Is(err, ErrClosed) {
		return 0, net.ErrClosed
	}
	return n, err
}

// ReadFrom implements net.PacketConn.
func (a *PacketConnAdapter) ReadFrom(b []byte) (int, net.Addr, error) { return ReadFrom(a, b) }

// WriteTo implements net.PacketConn; addr must be a *net.UDPAddr.
func (a *PacketConnAdapter) WriteTo(b []byte, addr net.Addr) (int, error) { return WriteTo(a, b, addr) }

// WriteOne sends b to addr on c as a batch of one, in one[0], which it
// clears afterwards (so that it keeps no reference to b). The caller
// serializes its writes. It returns len(b), or c's error.
func WriteOne(c Conn, one []Datagram, b []byte, addr netip.AddrPort) (int, error) {
	one[0] = Datagram{Addr: addr, Buf: b, N: len(b)}
	_, err := c.WriteBatch(one[:1])
	one[0] = Datagram{}
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

// AddrPortConn is a packet connection with the allocation-free address
// forms; ReadFrom and WriteTo give it net.PacketConn's.
type AddrPortConn interface {
	ReadFromAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error)
}

// ReadFrom is c.ReadFromAddrPort with a *net.UDPAddr.
func ReadFrom(c AddrPortConn, b []byte) (int, net.Addr, error) {
	n, addr, err := c.ReadFromAddrPort(b)
	if err != nil {
		return 0, nil, err
	}
	return n, net.UDPAddrFromAddrPort(addr), nil
}

// WriteTo is c.WriteToAddrPort for a *net.UDPAddr (another net.Addr is an
// error).
func WriteTo(c AddrPortConn, b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, fmt.Errorf("batch: %T is not a UDP address", addr)
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// Close closes the connection; a blocked read returns net.ErrClosed.
func (a *PacketConnAdapter) Close() error {
	if a.closed.Swap(true) {
		return nil
	}
	return a.c.Close()
}

// LocalAddr implements net.PacketConn.
func (a *PacketConnAdapter) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(a.c.LocalAddr()) }

// SetDeadline sets the read deadline (writes do not block).
func (a *PacketConnAdapter) SetDeadline(t time.Time) error { return a.SetReadDeadline(t) }

// SetReadDeadline bounds reads; the zero time removes the bound. A read
// already waiting sees the new deadline after its current wait.
func (a *PacketConnAdapter) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	a.deadline.Store(ns)
	a.c.Wake()
	return nil
}

// SetWriteDeadline does nothing: writes do not block.
func (a *PacketConnAdapter) SetWriteDeadline(time.Time) error { return nil }
