package halfopen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/flotilla/flotilla/netcode"
)

// conn is what a session needs of its socket: a datagram socket connected to
// the server, so the kernel delivers only the server's datagrams to it.
// *net.UDPConn is one. Read and Write run on the session's goroutine; Close
// may come from another and makes a blocked Read return net.ErrClosed.
type conn interface {
	Read(b []byte) (int, error)
	Write(b []byte) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// dialUDP opens a UDP socket bound to src (any address when src is not
// valid) on a port the kernel picks, connected to server.
func dialUDP(src netip.Addr, server netip.AddrPort) (conn, error) {
	var local *net.UDPAddr
	if src.IsValid() {
		local = net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	return net.DialUDP("udp", local, net.UDPAddrFromAddrPort(server))
}

// Run opens cfg.Sessions sockets, then begins their handshakes at cfg.Rate
// and keeps every accepted session alive with keepalives that acknowledge
// nothing until cfg.Duration has passed or ctx ends; with cfg.Reconnect, a
// session whose attempt ended starts over. It then closes the sockets,
// sending nothing, and reports.
//
// It returns an error, having sent nothing, when cfg is invalid or a socket
// cannot be opened (the file descriptor limit, a source address that is not
// local); every socket it opened is closed when it returns.
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	dial := cfg.dial
	if dial == nil {
		dial = dialUDP
	}
	var n counters
	runners, err := open(cfg, dial, &n)
	if err != nil {
		return Report{}, err
	}

	start := time.Now()
	pace := newPacer(cfg.Rate, start, len(runners))
	if cfg.Reconnect {
		for _, r := range runners {
			r.pace = pace
			r.delay = cfg.ReconnectDelay
		}
	}
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.Duration))
	defer cancel()
	var wg sync.WaitGroup
	turn := time.NewTimer(0)
	defer turn.Stop()
	var tick <-chan time.Time
	if cfg.OnProgress != nil {
		t := time.NewTicker(cfg.ProgressEvery)
		defer t.Stop()
		tick = t.C
	}
	var last Progress
	begun := 0
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case now := <-turn.C:
			// Begin every handshake whose turn has come; wait for the next.
			for begun < len(runners) {
				if wait := pace.rampTurn(begun).Sub(now); wait > 0 {
					turn.Reset(wait)
					break
				}
				r := runners[begun]
				begun++
				n.attempted.Add(1)
				wg.Go(r.run)
			}
		case <-tick:
			last = n.progress(time.Since(start), last)
			cfg.OnProgress(last)
		}
	}
	elapsed := time.Since(start)
	for _, r := range runners {
		r.c.Close()
	}
	wg.Wait()
	return buildReport(cfg, runners[:begun], &n, elapsed), nil
}

// open opens every session's socket before any handshake begins, so a run
// that cannot hold them all fails before it sends anything.
func open(cfg Config, dial func(netip.Addr, netip.AddrPort) (conn, error), n *counters) ([]*runner, error) {
	runners := make([]*runner, cfg.Sessions)
	for i := range runners {
		var src netip.Addr
		if len(cfg.Sources) > 0 {
			src = cfg.Sources[i%len(cfg.Sources)]
		}
		c, err := dial(src, cfg.Server)
		if err != nil {
			for _, r := range runners[:i] {
				r.c.Close()
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				err = fmt.Errorf("%w (out of file descriptors: raise RLIMIT_NOFILE or open fewer sessions)", err)
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				err = fmt.Errorf("%w (out of ports on %v: spread the sessions over more source addresses)", err, src)
			}
			return nil, fmt.Errorf("halfopen: socket %d of %d (source %v): %w", i+1, cfg.Sessions, src, err)
		}
		runners[i] = &runner{
			c: c, n: n,
			s: session{keepalive: cfg.Keepalive, handshakeTimeout: cfg.HandshakeTimeout},
		}
	}
	return runners, nil
}

// runner drives one session over its socket: the outermost loop, which
// reads the clock. Its session and past outcomes are read by Run only
// after run returns.
type runner struct {
	c  conn
	n  *counters
	s  session
	rx [netcode.MaxPacket + 1]byte // one byte over, so an oversized datagram shows
	tx [netcode.RequestSize]byte

	// Starting over (Config.Reconnect): pace is nil when the session does
	// not. An attempt that ended waits delay (restartAt), then for its turn
	// (turn, once reserved), and begins again; past holds the attempts that
	// ended before the current one.
	pace      *pacer
	delay     time.Duration
	restartAt time.Time
	turn      time.Time
	past      []outcome
}

// run begins the handshake and then reads until the socket is closed,
// sending what the session's timers ask for between reads.
func (r *runner) run() {
	r.send(r.s.begin(time.Now(), rand.Uint64(), r.tx[:0]))
	for {
		now := time.Now()
		for due := r.next(); !due.IsZero() && !now.Before(due); due = r.next() {
			r.step(now)
		}
		if err := r.c.SetReadDeadline(r.next()); err != nil {
			r.readError(err)
			return
		}
		size, err := r.c.Read(r.rx[:])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			if r.readError(err) {
				continue
			}
			return
		}
		now = time.Now()
		got := r.s.receive(r.rx[:size], now, r.tx[:0])
		r.n.received(got, size)
		if got.reply != nil {
			r.send(got.reply)
		}
		r.ended(now)
	}
}

// next is when step must next run; zero when the runner waits for nothing.
func (r *runner) next() time.Time {
	switch {
	case !r.turn.IsZero():
		return r.turn
	case !r.restartAt.IsZero():
		return r.restartAt
	}
	return r.s.next()
}

// step runs what is due at now: the session's timers, or the next stage
// of starting over. Each call moves next past now or changes what it
// waits for.
func (r *runner) step(now time.Time) {
	switch {
	case !r.turn.IsZero():
		r.turn = time.Time{}
		r.past = append(r.past, r.s.outcome())
		r.n.rehandshakes.Add(1)
		r.send(r.s.begin(now, rand.Uint64(), r.tx[:0]))
	case !r.restartAt.IsZero():
		r.restartAt = time.Time{}
		r.turn = r.pace.reserve(now)
	default:
		out, ev := r.s.tick(now, r.tx[:0])
		r.n.count(ev)
		if out != nil {
			r.send(out)
		}
		r.ended(now)
	}
}

// ended schedules the start over of an attempt that has just ended, when
// the session starts over.
func (r *runner) ended(now time.Time) {
	if r.pace != nil && r.s.over() && r.restartAt.IsZero() && r.turn.IsZero() {
		r.restartAt = now.Add(r.delay)
	}
}

// readError counts a read error and reports whether reading may go on: an
// ICMP port unreachable (the server is not listening) is reported once per
// ICMP message; a closed socket ends the run; anything else fails the
// session.
func (r *runner) readError(err error) bool {
	switch {
	case errors.Is(err, net.ErrClosed):
		return false
	case errors.Is(err, syscall.ECONNREFUSED):
		r.n.portUnreachable.Add(1)
		return true
	}
	r.n.socketErrors.Add(1)
	r.s.fail(time.Now())
	return false
}

// send writes one packet. A datagram the network refuses is counted, not
// fatal: the next read tells whether the socket still works.
func (r *runner) send(b []byte) {
	if _, err := r.c.Write(b); err != nil {
		switch {
		case errors.Is(err, net.ErrClosed):
		case errors.Is(err, syscall.ECONNREFUSED):
			r.n.portUnreachable.Add(1)
		default:
			r.n.socketErrors.Add(1)
		}
		return
	}
	r.n.sent(b)
}
