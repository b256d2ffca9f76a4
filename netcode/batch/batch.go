// Package batch is the one interface between Flotilla's protocol code and the
// machinery that moves datagrams: a real UDP socket driven by gnet event loops,
// a socket read and written with recvmmsg/sendmmsg, or the in-process network
// simulator. The protocol never holds a socket; it reads a batch and writes a
// batch. A kernel-bypass backend (AF_XDP) would be one more implementation.
package batch

import (
	"errors"
	"net/netip"
	"time"
)

// MaxDatagram is the largest UDP payload a Flotilla endpoint sends or accepts.
// Buffers handed to ReadBatch must have at least this capacity; longer datagrams
// are truncated by the backend and counted in Stats.RxTruncated.
const MaxDatagram = 1500

// ErrClosed is returned by ReadBatch and WriteBatch after Close.
var ErrClosed = errors.New("batch: connection closed")

// Datagram is one UDP payload and its peer. The caller owns Buf: on read the
// backend copies the payload into Buf[:cap] and sets N and Addr; on write the
// backend sends Buf[:N] to Addr. Nothing in a Datagram is retained by the
// backend after the call returns.
type Datagram struct {
	Addr netip.AddrPort
	Buf  []byte
	N    int
}

// Payload is Buf[:N].
func (d *Datagram) Payload() []byte { return d.Buf[:d.N] }

// Conn moves batches of datagrams. ReadBatch and WriteBatch are called by one
// goroutine, the owner of the protocol state; Wake, Stats, LocalAddr and Close
// are safe from any goroutine. The backends here (udpio's, netsim's) also
// allow one goroutine reading while another writes, which the bridge's
// demux and PacketConn rely on; a new backend must too, or say it does not.
type Conn interface {
	// ReadBatch fills ds[:n] with received datagrams and returns n. It waits
	// until at least one datagram is available, Wake is called, or the deadline
	// passes (a zero deadline waits without limit; a deadline in the past
	// polls). A timeout or a wake returns 0, nil. After Close it returns
	// ErrClosed.
	ReadBatch(ds []Datagram, deadline time.Time) (int, error)

	// WriteBatch sends ds[i].Buf[:ds[i].N] to ds[i].Addr for every i and
	// returns how many were handed to the network. Datagrams the network
	// refuses (a full socket buffer, an unreachable address) are dropped and
	// counted in Stats.TxDropped; they are not an error. Only a closed or
	// broken connection is.
	WriteBatch(ds []Datagram) (int, error)

	// Wake makes a ReadBatch that is waiting, or the next one, return at once.
	Wake()

	// LocalAddr is the address the connection is bound to.
	LocalAddr() netip.AddrPort

	// Stats returns the backend's counters. They count UDP payload bytes, not
	// IP or link-layer framing.
	Stats() Stats

	// Close releases the connection; a blocked ReadBatch returns ErrClosed.
	Close() error
}

// Stats are a backend's cumulative counters.
type Stats struct {
	RxDatagrams uint64 // datagrams returned by ReadBatch
	RxBytes     uint64 // UDP payload bytes returned by ReadBatch
	RxDropped   uint64 // datagrams received but dropped inside the backend (a full hand-off queue)
	RxTruncated uint64 // datagrams longer than the caller's buffer
	TxDatagrams uint64 // datagrams handed to the network by WriteBatch
	TxBytes     uint64 // UDP payload bytes handed to the network
	TxDropped   uint64 // datagrams WriteBatch could not send
}

// NewBuffers returns n datagrams, each with its own MaxDatagram-byte buffer cut
// from one allocation: the buffers a protocol endpoint owns for its lifetime.
func NewBuffers(n int) []Datagram {
	mem := make([]byte, n*MaxDatagram)
	ds := make([]Datagram, n)
	for i := range ds {
		ds[i].Buf = mem[i*MaxDatagram : (i+1)*MaxDatagram : (i+1)*MaxDatagram]
	}
	return ds
}

// AddrKey is the key under which per-address bounds count a peer: its IPv4
// address, or its IPv6 address's /64 (one subscriber's prefix, all of
// which an attacker holds). IPv4-mapped IPv6 addresses count as IPv4.
func AddrKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		if p, err := ip.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return ip
}
