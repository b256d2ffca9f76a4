package udpio

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/flotilla/flotilla/netcode/batch"
)

// The backend kinds Listen accepts.
const (
	KindGnet    = "gnet"    // gnet event loop, the default
	KindBatched = "batched" // recvmmsg/sendmmsg on a stdlib socket
	KindNaive   = "naive"   // one stdlib syscall per datagram
)

// DefaultKind is the backend a binary uses when nothing else is asked for.
const DefaultKind = KindGnet

// Defaults and limits of Options.
const (
	DefaultSocketBuffer = 4 << 20 // SO_RCVBUF and SO_SNDBUF asked of the kernel
	DefaultRingSize     = 4096    // gnet hand-off ring, datagrams
	DefaultBatchSize    = 64      // datagrams per recvmmsg/sendmmsg
	MaxRingSize         = 1 << 16 // 96 MiB of slots at MaxDatagram each
	MaxBatchSize        = 1024    // the kernel's UIO_MAXIOV bound on one sendmmsg
)

var (
	// ErrUnknownKind is returned by Listen for a kind it does not know.
	ErrUnknownKind = errors.New("udpio: unknown backend kind")

	// ErrBadOptions is returned for Options outside their limits.
	ErrBadOptions = errors.New("udpio: bad options")
)

// Kinds lists the backend kinds Listen accepts, the default first; for flag
// help texts.
func Kinds() []string { return []string{KindGnet, KindBatched, KindNaive} }

// Options configure a backend. The zero value asks for the defaults.
type Options struct {
	// RecvBuffer and SendBuffer are the socket buffer sizes asked of the
	// kernel (SO_RCVBUF, SO_SNDBUF) in bytes. Zero means DefaultSocketBuffer;
	// a negative value leaves the kernel's default. On Linux a request above
	// net.core.rmem_max/wmem_max is retried with SO_RCVBUFFORCE/SO_SNDBUFFORCE,
	// which succeeds with CAP_NET_ADMIN. SocketBuffers reports what was granted.
	RecvBuffer int
	SendBuffer int

	// RingSize is the gnet backend's hand-off ring between the event loop and
	// ReadBatch, in datagrams, rounded up to a power of two. Zero means
	// DefaultRingSize. A full ring drops and counts in Stats.RxDropped.
	RingSize int

	// BatchSize is the most datagrams one recvmmsg or sendmmsg carries. Zero
	// means DefaultBatchSize.
	BatchSize int

	// GnetSingleRead makes the gnet backend read only through gnet: one
	// recvfrom (and five allocations inside gnet) per readable event. By
	// default the backend drains the socket with recvmmsg on each event.
	GnetSingleRead bool

	// Logger receives gnet's warnings and errors; its debug and info lines are
	// dropped. Nil means slog.Default(). gnet keeps one process-wide logger, so
	// the last gnet backend started sets it for all of them.
	Logger *slog.Logger
}

// withDefaults fills zero fields and checks limits.
func (o Options) withDefaults() (Options, error) {
	if o.RecvBuffer == 0 {
		o.RecvBuffer = DefaultSocketBuffer
	}
	if o.SendBuffer == 0 {
		o.SendBuffer = DefaultSocketBuffer
	}
	switch {
	case o.RingSize == 0:
		o.RingSize = DefaultRingSize
	case o.RingSize < 0 || o.RingSize > MaxRingSize:
		return o, fmt.Errorf("%w: RingSize %d not in 1..%d", ErrBadOptions, o.RingSize, MaxRingSize)
	}
	switch {
	case o.BatchSize == 0:
		o.BatchSize = DefaultBatchSize
	case o.BatchSize < 0 || o.BatchSize > MaxBatchSize:
		return o, fmt.Errorf("%w: BatchSize %d not in 1..%d", ErrBadOptions, o.BatchSize, MaxBatchSize)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Listen opens a UDP endpoint on addr with the backend named by kind
// ("gnet", "batched" or "naive"), for binaries that expose a -io flag.
func Listen(kind string, addr netip.AddrPort, opts Options) (batch.Conn, error) {
	switch kind {
	case KindGnet:
		return asConn(ListenGnet(addr, opts))
	case KindBatched:
		return asConn(ListenBatched(addr, opts))
	case KindNaive:
		return asConn(ListenNaive(addr, opts))
	}
	return nil, fmt.Errorf("%w %q (want gnet, batched or naive)", ErrUnknownKind, kind)
}

// asConn returns a nil batch.Conn with an error: a nil *GnetConn in a
// batch.Conn would not be a nil batch.Conn.
func asConn[C batch.Conn](c C, err error) (batch.Conn, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SocketBuffers reports the receive and send buffer sizes the kernel granted
// to c's socket, as getsockopt returns them (Linux reports twice the size
// asked for, the extra half being its bookkeeping). ok is false when c is not
// a udpio backend.
func SocketBuffers(c batch.Conn) (recv, send int, ok bool) {
	if s, is := c.(interface{ SocketBuffers() (int, int) }); is {
		recv, send = s.SocketBuffers()
		return recv, send, true
	}
	return 0, 0, false
}

// udpNetwork picks "udp4" or "udp6" for addr; a v4-mapped address is IPv4.
func udpNetwork(addr netip.AddrPort) (network string, local netip.AddrPort, err error) {
	a := addr.Addr().Unmap()
	if !a.IsValid() {
		return "", addr, fmt.Errorf("udpio: listen %s: no IP address", addr)
	}
	local = netip.AddrPortFrom(a, addr.Port())
	if a.Is4() {
		return "udp4", local, nil
	}
	return "udp6", local, nil
}

// listenUDP opens a stdlib UDP socket for the batched and naive backends and
// sizes its buffers.
func listenUDP(addr netip.AddrPort, opts Options) (c *net.UDPConn, local netip.AddrPort, bufs [2]int, err error) {
	network, laddr, err := udpNetwork(addr)
	if err != nil {
		return nil, local, bufs, err
	}
	c, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(laddr))
	if err != nil {
		return nil, local, bufs, fmt.Errorf("udpio: listen %s: %w", laddr, err)
	}
	if bufs, err = setBuffers(c, opts.RecvBuffer, opts.SendBuffer); err != nil {
		c.Close()
		return nil, local, bufs, err
	}
	return c, localAddrPort(c), bufs, nil
}

// localAddrPort is c's bound address with a v4-mapped address unmapped.
func localAddrPort(c *net.UDPConn) netip.AddrPort {
	ua, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// sendable reports whether d can be handed to the kernel at all: its length
// fits its buffer and its address has an IP and a port. Anything else is
// dropped and counted, never sent.
func sendable(d *batch.Datagram) bool {
	return d.N >= 0 && d.N <= cap(d.Buf) && d.Addr.Addr().IsValid() && d.Addr.Port() != 0
}

// wrapErr maps a socket error to batch.ErrClosed when the socket was closed
// and wraps anything else with the operation's name.
func wrapErr(op string, err error) error {
	if errors.Is(err, net.ErrClosed) {
		return batch.ErrClosed
	}
	return fmt.Errorf("udpio: %s: %w", op, err)
}
