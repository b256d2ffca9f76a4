package netcode

import (
	"net/netip"
	"testing"
	"time"
)

// kickOnAck disconnects a session from inside Acked and records every
// callback that arrives for it afterwards.
type kickOnAck struct {
	nopHandler
	s     *Server
	gone  bool
	after []string
}

func (h *kickOnAck) Acked(id SessionID, seq uint16) {
	if h.gone {
		h.after = append(h.after, "acked")
		return
	}
	h.s.Disconnect(id, ReasonKicked)
}

func (h *kickOnAck) Disconnected(SessionID, Reason) { h.gone = true }

// A handler may end a session from a callback; nothing more arrives for it,
// not even the rest of the acks in the packet being read.
func TestNoCallbackAfterDisconnectFromAcked(t *testing.T) {
	sa := netip.MustParseAddrPort("127.0.0.1:7777")
	ca := netip.MustParseAddrPort("127.0.0.2:5000")
	sp, cp := newPipes(sa, ca)
	now := time.Now()
	sh := &kickOnAck{}
	s, err := NewServer(sp, ServerConfig{Handler: sh}, now)
	if err != nil {
		t.Fatal(err)
	}
	sh.s = s
	c, err := NewClient(cp, ClientConfig{Server: sa, Handler: &nopHandler{}}, now)
	if err != nil {
		t.Fatal(err)
	}
	c.Connect(now)
	for i := 0; i < 10 && c.State() != StateConnected; i++ {
		now = now.Add(time.Millisecond)
		s.Poll(now)
		c.Poll(now)
	}
	id := c.Session()
	for range 3 {
		if _, err := s.SendUnreliable(id, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	s.Flush()
	now = now.Add(time.Millisecond)
	c.Poll(now) // one keepalive acks all three
	s.Poll(now)
	if !sh.gone {
		t.Fatal("not disconnected")
	}
	if len(sh.after) > 0 {
		t.Fatalf("callbacks after Disconnected: %v", sh.after)
	}
}

// State and Stats are documented safe from other goroutines while the owner
// polls (go test -race proves it).
func TestStateAndStatsFromOtherGoroutines(t *testing.T) {
	sa := netip.MustParseAddrPort("127.0.0.1:7777")
	ca := netip.MustParseAddrPort("127.0.0.2:5000")
	sp, cp := newPipes(sa, ca)
	now := time.Now()
	s, err := NewServer(sp, ServerConfig{Handler: &nopHandler{}}, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cp, ClientConfig{Server: sa, Handler: &nopHandler{}}, now)
	if err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = c.State()
			_ = c.Stats()
			_ = s.Stats()
		}
	}()
	c.Connect(now)
	for range 50 {
		now = now.Add(time.Millisecond)
		s.Poll(now)
		c.Poll(now)
	}
	c.Close(now)
	close(stop)
	<-done
	if c.State() != StateClosed {
		t.Fatalf("state %v", c.State())
	}
	// Both ends count the session gone.
	now = now.Add(time.Millisecond)
	s.Poll(now)
	if cs, ss := c.Stats().Sessions, s.Stats().Sessions; cs != 0 || ss != 0 {
		t.Fatalf("sessions after close: client %d, server %d", cs, ss)
	}
}

// A send queue that cannot hold one largest message is a configuration
// error: otherwise such a message ends an idle session with ReasonBacklog.
func TestSendQueueHoldsALargestMessage(t *testing.T) {
	sp, _ := newPipes(netip.MustParseAddrPort("127.0.0.1:7777"), netip.MustParseAddrPort("127.0.0.2:5000"))
	cfg := Config{SendQueue: 8, KCP: KCPConfig{SendWindow: 8}, MaxMessage: 16 << 10}
	if _, err := NewServer(sp, ServerConfig{Config: cfg, Handler: &nopHandler{}}, time.Now()); err == nil {
		t.Fatal("a send queue of 8 segments was accepted for 16 KiB messages (15 segments)")
	}
	cfg.SendQueue = 15
	if _, err := NewServer(sp, ServerConfig{Config: cfg, Handler: &nopHandler{}}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// A repeated accept (the server answers every resent response) is ignored,
// and every ignored datagram is counted.
func TestRepeatedAcceptIsCounted(t *testing.T) {
	s, c, _, _, now := connectedPair(t)
	d := make([]byte, acceptSize)
	putHeader(d, TypeAccept, uint32(c.Session()))
	inject(s.ep.conn.(*pipe), s.LocalAddr(), d)
	before := c.Stats()
	c.Poll(*now)
	after := c.Stats()
	if after.RxPackets != before.RxPackets+1 {
		t.Fatalf("rx packets %d → %d", before.RxPackets, after.RxPackets)
	}
	if after.Drops[DropState] != before.Drops[DropState]+1 {
		t.Fatalf("a repeated accept was neither acted on nor counted as dropped: %+v", after.Drops)
	}
}

func TestDisconnectWithUndefinedReasonSendsKicked(t *testing.T) {
	for _, r := range []Reason{ReasonNone, ReasonUnknown, 200} {
		s, c, _, _, now := connectedPair(t)
		s.Disconnect(c.Session(), r)
		s.Flush()
		c.Poll(*now)
		if c.State() != StateClosed || c.Reason() != ReasonKicked {
			t.Fatalf("reason %d: client %v, %v", r, c.State(), c.Reason())
		}
	}
}
