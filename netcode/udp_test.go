package netcode_test

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
)

// echo is a server handler that sends every reliable message back and
// answers every unreliable payload with one of its own.
type echo struct {
	srv          *netcode.Server
	mu           sync.Mutex
	disconnected map[netcode.SessionID]netcode.Reason
}

func (e *echo) Connected(netcode.SessionID, netip.AddrPort) {}
func (e *echo) Disconnected(id netcode.SessionID, r netcode.Reason) {
	e.mu.Lock()
	e.disconnected[id] = r
	e.mu.Unlock()
}
func (e *echo) Reliable(id netcode.SessionID, msg []byte) { e.srv.SendReliable(id, msg) }
func (e *echo) Unreliable(id netcode.SessionID, _ uint16, p []byte) bool {
	e.srv.SendUnreliable(id, p)
	return true
}
func (e *echo) Acked(netcode.SessionID, uint16) {}

// End to end over real loopback UDP sockets, for each server backend: a
// client dials, 2,000 reliable messages come back in order, unreliable
// payloads are echoed and acked, and a clean close reaches the server.
func TestRealUDP(t *testing.T) {
	for _, kind := range udpio.Kinds() {
		t.Run(kind, func(t *testing.T) { realUDP(t, kind) })
	}
}

func realUDP(t *testing.T, kind string) {
	conn, err := udpio.Listen(kind, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	h := &echo{disconnected: map[netcode.SessionID]netcode.Reason{}}
	srv, err := netcode.NewServer(conn, netcode.ServerConfig{Handler: h}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { // the server's owner goroutine
		for ctx.Err() == nil {
			next, err := srv.Poll(time.Now())
			if err != nil {
				done <- err
				return
			}
			deadline := time.Now().Add(20 * time.Millisecond)
			if !next.IsZero() && next.Before(deadline) {
				deadline = next
			}
			if err := srv.Wait(deadline); err != nil {
				done <- err
				return
			}
		}
		srv.Shutdown(time.Now())
		done <- nil
	}()
	defer func() {
		cancel()
		srv.Wake()
		if err := <-done; err != nil {
			t.Errorf("server loop: %v", err)
		}
	}()

	cconn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cconn.Close()
	rec := newRecorder()
	dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer dcancel()
	c, err := netcode.Dial(dctx, cconn, netcode.ClientConfig{Server: srv.LocalAddr(), Handler: rec})
	if err != nil {
		t.Fatal(err)
	}

	const total = 2000
	sent, unreliableSent := 0, 0
	end := time.Now().Add(30 * time.Second)
	for len(rec.reliable) < total || len(rec.unreliable) < 50 {
		if time.Now().After(end) {
			t.Fatalf("after 30 s: %d/%d reliable, %d unreliable echoed", len(rec.reliable), total, len(rec.unreliable))
		}
		for sent < total && c.Pending() < 256 {
			if err := c.SendReliable(message(sent)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		// Bounded, so the 16-bit sequence cannot wrap: the recorder keys
		// deliveries by sequence.
		if unreliableSent < 10000 {
			var p [4]byte
			binary.LittleEndian.PutUint32(p[:], uint32(sent))
			if _, err := c.SendUnreliable(p[:]); err != nil {
				t.Fatal(err)
			}
			unreliableSent++
		}
		next, err := c.Poll(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Millisecond)
		if !next.IsZero() && next.Before(deadline) {
			deadline = next
		}
		if err := c.Wait(deadline); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range rec.reliable {
		if string(m) != string(message(i)) {
			t.Fatalf("message %d differs", i)
		}
	}
	if len(rec.acked) == 0 {
		t.Fatal("no unreliable payload acked")
	}
	id := c.Session()
	c.Close(time.Now())
	deadline := time.Now().Add(2 * time.Second)
	for {
		h.mu.Lock()
		r, ok := h.disconnected[id]
		h.mu.Unlock()
		if ok {
			if r != netcode.ReasonClosed {
				t.Fatalf("server saw %v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server never saw the close")
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := srv.Stats()
	bs := conn.Stats()
	// The protocol's counters and the socket's agree: every datagram the
	// protocol wrote was sent or counted as dropped, and the protocol
	// accepted no more than the socket received.
	if st.RxPackets == 0 || bs.RxDatagrams < st.RxPackets || bs.RxBytes < st.RxBytes ||
		st.TxPackets != bs.TxDatagrams+bs.TxDropped || (bs.TxDropped == 0 && st.TxBytes != bs.TxBytes) {
		t.Errorf("protocol %d/%d packets in/out (%d/%d B), backend %d/%d (+%d dropped) (%d/%d B)",
			st.RxPackets, st.TxPackets, st.RxBytes, st.TxBytes, bs.RxDatagrams, bs.TxDatagrams, bs.TxDropped, bs.RxBytes, bs.TxBytes)
	}
}
