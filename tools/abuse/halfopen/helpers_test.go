package halfopen

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
)

// watch is a server Handler that counts what the server's sessions saw. Its
// methods run on the server's goroutine; the test reads it under mu.
type watch struct {
	mu           sync.Mutex
	g            gate
	srv          *netcode.Server // for the gate; set before the first Poll
	connected    int
	live         map[netcode.SessionID]time.Time // when each connected
	disconnected map[netcode.Reason]int
	acked        int
	delivered    int // reliable messages and unreliable payloads from clients
}

// gate makes the test server treat sessions that acknowledge nothing as
// the room does: each is sent away with ReasonTimeout proofTimeout after it
// connected (checked every send interval), and a session that connects
// while maxLive are live is sent away at once with ReasonThrottled. The
// zero gate keeps every session.
type gate struct {
	proofTimeout time.Duration
	maxLive      int
}

func newWatch(g gate) *watch {
	return &watch{g: g, live: map[netcode.SessionID]time.Time{}, disconnected: map[netcode.Reason]int{}}
}

// Connected may end the session: the lock is not held then, since the
// server calls Disconnected from inside Disconnect.
func (w *watch) Connected(id netcode.SessionID, _ netip.AddrPort) {
	w.mu.Lock()
	w.connected++
	throttle := w.g.maxLive > 0 && len(w.live) >= w.g.maxLive
	w.live[id] = time.Now()
	w.mu.Unlock()
	if throttle {
		w.srv.Disconnect(id, netcode.ReasonThrottled)
	}
}

func (w *watch) Disconnected(id netcode.SessionID, r netcode.Reason) {
	w.mu.Lock()
	delete(w.live, id)
	w.disconnected[r]++
	w.mu.Unlock()
}

// expire sends away the sessions past the gate's proof timeout.
func (w *watch) expire(now time.Time, ids []netcode.SessionID) []netcode.SessionID {
	if w.g.proofTimeout == 0 {
		return ids
	}
	ids = ids[:0]
	w.mu.Lock()
	for id, at := range w.live {
		if now.Sub(at) >= w.g.proofTimeout {
			ids = append(ids, id)
		}
	}
	w.mu.Unlock()
	for _, id := range ids {
		w.srv.Disconnect(id, netcode.ReasonTimeout)
	}
	return ids
}

func (w *watch) Reliable(netcode.SessionID, []byte) {
	w.mu.Lock()
	w.delivered++
	w.mu.Unlock()
}

func (w *watch) Unreliable(netcode.SessionID, uint16, []byte) bool {
	w.mu.Lock()
	w.delivered++
	w.mu.Unlock()
	return true
}

func (w *watch) Acked(netcode.SessionID, uint16) {
	w.mu.Lock()
	w.acked++
	w.mu.Unlock()
}

// snapshot returns the counts and a copy of the disconnect reasons.
func (w *watch) snapshot() (connected, live, acked, delivered int, disconnected map[netcode.Reason]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	disconnected = make(map[netcode.Reason]int, len(w.disconnected))
	for r, n := range w.disconnected {
		disconnected[r] = n
	}
	return w.connected, len(w.live), w.acked, w.delivered, disconnected
}

// testServer is a netcode server on conn, run by its own goroutine, that
// sends every session an unreliable payload every interval (as a game sends
// snapshots) and asks for acks of them.
type testServer struct {
	srv  *netcode.Server
	w    *watch
	stop func() error // ends the loop and returns its error
}

func startServer(t *testing.T, conn batch.Conn, cfg netcode.ServerConfig, every time.Duration) *testServer {
	t.Helper()
	return startGatedServer(t, conn, cfg, every, gate{})
}

// startGatedServer is startServer whose sessions pass g.
func startGatedServer(t *testing.T, conn batch.Conn, cfg netcode.ServerConfig, every time.Duration, g gate) *testServer {
	t.Helper()
	w := newWatch(g)
	cfg.Handler = w
	srv, err := netcode.NewServer(conn, cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		payload := []byte("snapshot")
		var ids []netcode.SessionID
		nextSend := time.Now()
		for ctx.Err() == nil {
			now := time.Now()
			if !now.Before(nextSend) {
				ids = w.expire(now, ids)
				w.mu.Lock()
				ids = ids[:0]
				for id := range w.live {
					ids = append(ids, id)
				}
				w.mu.Unlock()
				for _, id := range ids {
					if _, err := srv.SendUnreliable(id, payload); err != nil && !errors.Is(err, netcode.ErrNoSession) {
						done <- err
						return
					}
				}
				nextSend = now.Add(every)
			}
			next, err := srv.Poll(now)
			if err != nil {
				done <- err
				return
			}
			deadline := nextSend
			if !next.IsZero() && next.Before(deadline) {
				deadline = next
			}
			if err := srv.Wait(deadline); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return &testServer{srv: srv, w: w, stop: func() error {
		cancel()
		srv.Wake()
		return <-done
	}}
}

// simConn is a session's socket on the network simulator, connected as a
// UDP socket is: it hears only the server.
type simConn struct {
	ep       *netsim.Endpoint
	server   netip.AddrPort
	in, out  []batch.Datagram
	deadline time.Time
}

func simDialer(n *netsim.Network) func(netip.Addr, netip.AddrPort) (conn, error) {
	return func(src netip.Addr, server netip.AddrPort) (conn, error) {
		if !src.IsValid() {
			src = netip.MustParseAddr("127.0.0.1")
		}
		ep, err := n.Listen(netip.AddrPortFrom(src, 0))
		if err != nil {
			return nil, err
		}
		return &simConn{ep: ep, server: server, in: batch.NewBuffers(1), out: make([]batch.Datagram, 1)}, nil
	}
}

func (c *simConn) Read(b []byte) (int, error) {
	for {
		n, err := c.ep.ReadBatch(c.in, c.deadline)
		if errors.Is(err, batch.ErrClosed) {
			return 0, net.ErrClosed
		}
		if err != nil {
			return 0, err
		}
		if n == 0 {
			if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
				return 0, os.ErrDeadlineExceeded
			}
			continue
		}
		if c.in[0].Addr == c.server {
			return copy(b, c.in[0].Payload()), nil
		}
	}
}

func (c *simConn) Write(b []byte) (int, error) {
	c.out[0] = batch.Datagram{Addr: c.server, Buf: b, N: len(b)}
	if _, err := c.ep.WriteBatch(c.out); err != nil {
		return 0, net.ErrClosed
	}
	return len(b), nil
}

func (c *simConn) SetReadDeadline(t time.Time) error { c.deadline = t; return nil }
func (c *simConn) Close() error                      { return c.ep.Close() }
