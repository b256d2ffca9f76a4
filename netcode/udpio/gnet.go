package udpio

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/flotilla/flotilla/netcode/batch"
)

// gnet timings: how long Listen waits for the engine to boot and Close for it
// to stop.
const (
	gnetBootTimeout = 5 * time.Second
	gnetStopTimeout = 5 * time.Second
)

// gnetReadBufferCap is the event loop's receive buffer (gnet rounds it up to
// 2 KiB): one byte more than MaxDatagram is enough to see that a datagram was
// longer and count it as truncated.
const gnetReadBufferCap = batch.MaxDatagram + 1

// GnetConn is the gnet backend: one gnet event loop (multicore off, one
// loop) receives and fills a preallocated hand-off ring; ReadBatch drains the
// ring on the owner's goroutine. gnet reads one datagram per readable event
// (one recvfrom, five allocations); the backend copies it into the ring and
// then, on the same event, drains the rest of the socket's queue with
// recvmmsg straight into free ring slots (Options.GnetSingleRead turns this
// off). WriteBatch does not go through gnet (its Conn.SendTo is for the
// loop's own goroutine): it sends with sendmmsg on a dup of the listening
// socket.
//
// gnet always sets SO_REUSEPORT on UDP listeners, so a second socket bound to
// the same port by the same user would silently share its traffic.
// ListenGnet first binds the address exclusively (without SO_REUSEPORT) to
// refuse a taken port and to pick the port when addr's is 0; a socket that
// binds with SO_REUSEPORT after that can still join.
//
// ReadBatch and WriteBatch belong to one goroutine; Wake, LocalAddr, Stats,
// SocketBuffers and Close are safe from any goroutine.
type GnetConn struct {
	eng   gnet.Engine
	h     *gnetHandler
	out   *net.UDPConn // dup of the listening socket, for sending
	tx    *mmsgWriter
	local netip.AddrPort
	bufs  [2]int
	ring  *ring
	st    counters

	notify  chan struct{} // cap 1: data or a Wake for a waiting ReadBatch
	waiting atomic.Bool   // a ReadBatch is about to wait or waits on notify
	woken   atomic.Bool
	closed  atomic.Bool
	closing chan struct{} // closed by Close
	timer   *time.Timer   // ReadBatch's deadline, reused

	runDone chan struct{} // closed when gnet.Run returns
	runErr  error         // gnet.Run's result, set before runDone closes

	closeOnce sync.Once
	closeErr  error
}

var _ batch.Conn = (*GnetConn)(nil)

// gnetHandler receives gnet's callbacks; it is separate so that GnetConn
// does not export them.
type gnetHandler struct {
	gnet.BuiltinEventEngine
	c      *GnetConn
	boot   chan gnet.Engine
	filler *ringFiller // nil: only gnet's one recvfrom per event
	wake   func()      // c.wakeWaiting, bound once
}

// OnBoot hands the engine to ListenGnet.
func (h *gnetHandler) OnBoot(eng gnet.Engine) gnet.Action {
	h.boot <- eng
	return gnet.None
}

// OnTraffic runs on the event loop for each datagram gnet reads. The
// gnet.Conn and its buffer are gnet's and die when this returns: the payload
// is copied into the ring at once and the peer converted without
// allocating. Then, unless Options.GnetSingleRead, the rest of the socket's
// queue is drained with recvmmsg straight into the ring (see ringFiller).
func (h *gnetHandler) OnTraffic(gc gnet.Conn) gnet.Action {
	c := h.c
	p, _ := gc.Next(-1)
	ua, ok := gc.RemoteAddr().(*net.UDPAddr)
	if !ok {
		c.st.rxDropped.Add(1)
		return gnet.None
	}
	ap := ua.AddrPort()
	if !c.ring.push(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), p) {
		c.st.rxDropped.Add(1)
		return gnet.None
	}
	// The filler signals after each batch it adds; signalling here first
	// would wake the reader for this one datagram alone.
	if h.filler == nil || h.filler.fill(gc.Fd(), c.ring, h.wake) == 0 {
		c.wakeWaiting()
	}
	return gnet.None
}

// wakeWaiting signals a ReadBatch that announced it is waiting.
func (c *GnetConn) wakeWaiting() {
	if c.waiting.Load() {
		c.signal()
	}
}

// ListenGnet opens the gnet backend on addr. Options.BatchSize sizes the
// recvmmsg and sendmmsg batches; RingSize the hand-off ring.
func ListenGnet(addr netip.AddrPort, opts Options) (*GnetConn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	network, laddr, err := udpNetwork(addr)
	if err != nil {
		return nil, err
	}
	if laddr, err = probeExclusive(network, laddr); err != nil {
		return nil, err
	}

	c := &GnetConn{
		ring:    newRing(opts.RingSize),
		notify:  make(chan struct{}, 1),
		closing: make(chan struct{}),
		timer:   time.NewTimer(time.Hour),
		runDone: make(chan struct{}),
	}
	c.timer.Stop()
	h := &gnetHandler{c: c, boot: make(chan gnet.Engine, 1), wake: c.wakeWaiting}
	if !opts.GnetSingleRead {
		h.filler = newRingFiller(opts.BatchSize)
	}
	c.h = h
	proto := network + "://" + laddr.String()
	go func() {
		c.runErr = gnet.Run(h, proto,
			gnet.WithMulticore(false),
			gnet.WithNumEventLoop(1),
			gnet.WithReusePort(true),
			gnet.WithReadBufferCap(gnetReadBufferCap),
			gnet.WithLogger(slogLogger{opts.Logger}),
		)
		close(c.runDone)
	}()

	select {
	case c.eng = <-h.boot:
	case <-c.runDone:
		if c.runErr == nil {
			c.runErr = errors.New("stopped before it booted")
		}
		return nil, fmt.Errorf("udpio: gnet: listen %s: %w", laddr, c.runErr)
	case <-time.After(gnetBootTimeout):
		go func() { // stop the engine if it ever boots
			select {
			case eng := <-h.boot:
				ctx, cancel := context.WithTimeout(context.Background(), gnetStopTimeout)
				defer cancel()
				_ = eng.Stop(ctx)
			case <-c.runDone:
			}
		}()
		return nil, fmt.Errorf("udpio: gnet: listen %s: no boot within %v", laddr, gnetBootTimeout)
	}
	if err := c.openSender(network == "udp6", opts); err != nil {
		c.Close()
		return nil, fmt.Errorf("udpio: gnet: listen %s: %w", laddr, err)
	}
	return c, nil
}

// openSender wraps a dup of the engine's listening socket as a *net.UDPConn
// for WriteBatch, sizes the socket's buffers through it (they belong to the
// socket, not the descriptor) and reads the bound address from it.
func (c *GnetConn) openSender(v6 bool, opts Options) error {
	fd, err := c.eng.Dup()
	if err != nil {
		return fmt.Errorf("dup listener: %w", err)
	}
	f := os.NewFile(uintptr(fd), "gnet-udp")
	pc, err := net.FilePacketConn(f)
	f.Close() // FilePacketConn holds its own dup
	if err != nil {
		return fmt.Errorf("wrap listener: %w", err)
	}
	out, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return fmt.Errorf("wrap listener: got %T, want *net.UDPConn", pc)
	}
	c.out = out
	if c.bufs, err = setBuffers(out, opts.RecvBuffer, opts.SendBuffer); err != nil {
		return err
	}
	if c.tx, err = newMmsgWriter(out, opts.BatchSize, v6); err != nil {
		return err
	}
	c.local = localAddrPort(out)
	return nil
}

// probeExclusive binds addr without SO_REUSEPORT and closes it again: a port
// anyone holds fails here with EADDRINUSE instead of being shared by gnet's
// SO_REUSEPORT, and port 0 becomes a free port the kernel picked.
func probeExclusive(network string, addr netip.AddrPort) (netip.AddrPort, error) {
	p, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return addr, fmt.Errorf("udpio: gnet: listen %s: %w", addr, err)
	}
	got := localAddrPort(p)
	if err := p.Close(); err != nil {
		return addr, fmt.Errorf("udpio: gnet: probe %s: %w", addr, err)
	}
	return netip.AddrPortFrom(addr.Addr(), got.Port()), nil
}

// signal wakes a waiting ReadBatch; a token already pending is enough.
func (c *GnetConn) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// ReadBatch moves up to len(ds) datagrams from the hand-off ring into ds and
// waits for the event loop when the ring is empty (see batch.Conn). A
// datagram longer than min(cap(Buf), MaxDatagram) is cut and counted in
// Stats.RxTruncated.
func (c *GnetConn) ReadBatch(ds []batch.Datagram, deadline time.Time) (int, error) {
	for {
		if c.closed.Load() {
			return 0, batch.ErrClosed
		}
		if c.woken.Swap(false) || len(ds) == 0 {
			return 0, nil
		}
		if n, bytes, trunc := c.ring.pop(ds); n > 0 {
			c.st.addRx(n, bytes, trunc)
			return n, nil
		}
		var timeout <-chan time.Time
		if !deadline.IsZero() {
			wait := time.Until(deadline)
			if wait <= 0 {
				return 0, nil
			}
			c.timer.Reset(wait)
			timeout = c.timer.C
		}
		// Announce the wait, then look again: the event loop pushes before
		// it reads waiting, so either it sees the flag or we see its datagram.
		c.waiting.Store(true)
		if !c.ring.empty() || c.woken.Load() {
			c.waiting.Store(false)
			c.timer.Stop()
			continue
		}
		select {
		case <-c.notify:
		case <-timeout:
			c.waiting.Store(false)
			return 0, nil
		case <-c.closing:
		case <-c.runDone:
			c.waiting.Store(false)
			c.timer.Stop()
			if c.closed.Load() {
				return 0, batch.ErrClosed
			}
			return 0, fmt.Errorf("udpio: gnet: event loop stopped: %w", c.runStopErr())
		}
		c.waiting.Store(false)
		c.timer.Stop()
	}
}

// runStopErr describes why gnet.Run returned on its own.
func (c *GnetConn) runStopErr() error {
	if c.runErr != nil {
		return c.runErr
	}
	return errors.New("engine shut down")
}

// WriteBatch sends ds with one sendmmsg per BatchSize datagrams on the dup of
// the listening socket. It never waits: a full send buffer drops the rest of
// the batch into Stats.TxDropped.
func (c *GnetConn) WriteBatch(ds []batch.Datagram) (int, error) {
	if c.closed.Load() {
		return 0, batch.ErrClosed
	}
	n, err := c.tx.write(ds, &c.st)
	if err != nil {
		return n, wrapErr("gnet: write", err)
	}
	return n, nil
}

// Wake makes a ReadBatch that is waiting, or the next one, return 0, nil at
// once. Safe from any goroutine.
func (c *GnetConn) Wake() {
	c.woken.Store(true)
	c.signal()
}

// LocalAddr is the bound address, IPv4 unmapped. Safe from any goroutine.
func (c *GnetConn) LocalAddr() netip.AddrPort { return c.local }

// Stats returns the counters; RxDropped counts datagrams the full ring
// refused. Safe from any goroutine.
func (c *GnetConn) Stats() batch.Stats { return c.st.snapshot() }

// SocketBuffers reports SO_RCVBUF and SO_SNDBUF as the kernel granted them.
// Safe from any goroutine.
func (c *GnetConn) SocketBuffers() (recv, send int) { return c.bufs[0], c.bufs[1] }

// Close stops the gnet engine, waits for its event loop to exit and closes
// the socket; a blocked ReadBatch returns batch.ErrClosed. Safe from any
// goroutine; later calls return the first call's result.
func (c *GnetConn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		close(c.closing)
		var errs []error
		if err := c.stopEngine(); err != nil {
			errs = append(errs, fmt.Errorf("udpio: gnet: stop: %w", err))
		} else {
			// gnet keeps every engine it ran in a package-level map, and the
			// engine keeps its handler: cut the handler loose from this conn
			// so the ring's memory is not kept with it.
			c.h.c, c.h.wake = nil, nil
		}
		if c.out != nil {
			if err := c.out.Close(); err != nil {
				errs = append(errs, fmt.Errorf("udpio: gnet: close: %w", err))
			}
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}

// stopEngine asks the engine to stop and waits for gnet.Run to return.
// Engine.Stop polls for the end every 500 ms; cancelling its context as soon
// as Run returns keeps Close from waiting out that tick.
func (c *GnetConn) stopEngine() error {
	select {
	case <-c.runDone:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), gnetStopTimeout)
	defer cancel()
	go func() {
		select {
		case <-c.runDone:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = c.eng.Stop(ctx) // ends with ctx, or just before Run returns
	select {
	case <-c.runDone:
		return nil
	case <-ctx.Done():
		select {
		case <-c.runDone: // ctx was cancelled because Run returned
			return nil
		default:
			return fmt.Errorf("event loop still running after %v", gnetStopTimeout)
		}
	}
}
