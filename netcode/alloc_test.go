package netcode

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// pipe is a lossless in-memory batch.Conn pair for unit tests: a bounded
// ring of preallocated datagrams per direction, no goroutines, no clock.
type pipe struct {
	addr  netip.AddrPort
	peer  *pipe
	ring  []batch.Datagram
	head  int
	count int
}

func newPipes(a, b netip.AddrPort) (*pipe, *pipe) {
	pa := &pipe{addr: a, ring: batch.NewBuffers(256)}
	pb := &pipe{addr: b, ring: batch.NewBuffers(256)}
	pa.peer, pb.peer = pb, pa
	return pa, pb
}

func (p *pipe) ReadBatch(ds []batch.Datagram, _ time.Time) (int, error) {
	n := 0
	for n < len(ds) && p.count > 0 {
		src := &p.ring[p.head]
		ds[n].Addr = src.Addr
		ds[n].N = copy(ds[n].Buf[:cap(ds[n].Buf)], src.Payload())
		p.head = (p.head + 1) % len(p.ring)
		p.count--
		n++
	}
	return n, nil
}

func (p *pipe) WriteBatch(ds []batch.Datagram) (int, error) {
	q := p.peer
	for i := range ds {
		if q.count == len(q.ring) {
			continue
		}
		dst := &q.ring[(q.head+q.count)%len(q.ring)]
		dst.Addr = p.addr
		dst.N = copy(dst.Buf[:cap(dst.Buf)], ds[i].Payload())
		q.count++
	}
	return len(ds), nil
}

func (p *pipe) Wake()                     {}
func (p *pipe) LocalAddr() netip.AddrPort { return p.addr }
func (p *pipe) Stats() batch.Stats        { return batch.Stats{} }
func (p *pipe) Close() error              { return nil }

type nopHandler struct{ acked, unreliable, reliable int }

func (h *nopHandler) Connected(SessionID, netip.AddrPort)       {}
func (h *nopHandler) Disconnected(SessionID, Reason)            {}
func (h *nopHandler) Reliable(SessionID, []byte)                { h.reliable++ }
func (h *nopHandler) Unreliable(SessionID, uint16, []byte) bool { h.unreliable++; return true }
func (h *nopHandler) Acked(SessionID, uint16)                   { h.acked++ }

// connectedPair returns a server and a client, connected over pipes, and a
// clock the caller advances.
func connectedPair(t testing.TB) (*Server, *Client, *nopHandler, *nopHandler, *time.Time) {
	sa := netip.MustParseAddrPort("127.0.0.1:7777")
	ca := netip.MustParseAddrPort("127.0.0.2:5000")
	sp, cp := newPipes(sa, ca)
	now := time.Now()
	sh, ch := &nopHandler{}, &nopHandler{}
	s, err := NewServer(sp, ServerConfig{Handler: sh}, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cp, ClientConfig{Server: sa, Handler: ch}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(now); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10 && c.State() != StateConnected; i++ {
		now = now.Add(time.Millisecond)
		s.Poll(now)
		c.Poll(now)
	}
	if c.State() != StateConnected {
		t.Fatalf("state %v", c.State())
	}
	return s, c, sh, ch, &now
}

// One unreliable datagram server → client, delivered, acked by an ack-only
// packet, the ack applied: 0 allocations on both sides.
func TestUnreliablePathAllocatesNothing(t *testing.T) {
	s, c, sh, ch, now := connectedPair(t)
	id := c.Session()
	payload := make([]byte, 600)
	step := func() {
		*now = now.Add(time.Millisecond)
		if _, err := s.SendUnreliable(id, payload); err != nil {
			t.Fatal(err)
		}
		s.Flush()
		c.Poll(*now)
		s.Poll(*now)
	}
	for range 300 { // past the send window's first turn
		step()
	}
	allocs := testing.AllocsPerRun(2000, step)
	if allocs != 0 {
		t.Fatalf("%v allocations per unreliable datagram and its ack", allocs)
	}
	if ch.unreliable < 2000 || sh.acked < 2000 {
		t.Fatalf("delivered %d, acked %d", ch.unreliable, sh.acked)
	}
}

// Keepalives and timers for idle sessions allocate nothing either.
func TestIdleSessionAllocatesNothing(t *testing.T) {
	s, c, _, _, now := connectedPair(t)
	step := func() {
		*now = now.Add(50 * time.Millisecond)
		c.Poll(*now)
		s.Poll(*now)
	}
	for range 50 {
		step()
	}
	before := s.Stats().TxByType[TypeKeepalive]
	allocs := testing.AllocsPerRun(500, step)
	if allocs != 0 {
		t.Fatalf("%v allocations per idle poll", allocs)
	}
	if s.Stats().TxByType[TypeKeepalive] == before {
		t.Fatal("no keepalives were sent")
	}
}

// The reliable path goes through kcp-go, whose internals allocate. A memory
// profile of this test (go test -run TestReliablePathAllocations
// -memprofile m.out -memprofilerate=1 ./netcode; go tool pprof
// -sample_index=alloc_objects -top m.out) puts all 4 allocations of a
// one-segment message in kcp-go: 2 in bufferPool.Put (a []byte put into a
// sync.Pool is boxed: once when the sender's segment is acked, once when the
// receiver's is read) and 2 in its receive heap (container/heap boxes each
// segment on Push and Pop, even in order). netcode's own code adds none; the
// unreliable path, which carries snapshots, allocates nothing at all.
// KCP reads its own clock, so this test runs on synctest's virtual clock and
// passes time.Now, as real callers do.
func TestReliablePathAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race: kcp-go's allocation count varies")
	}
	synctest.Test(t, reliablePathAllocations)
}

func reliablePathAllocations(t *testing.T) {
	s, c, sh, _, now := connectedPair(t)
	msg := make([]byte, 100)
	step := func() {
		if err := c.SendReliable(msg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Millisecond)
		*now = time.Now()
		c.Poll(*now)
		s.Poll(*now)
		c.Poll(*now)
	}
	for range 200 {
		step()
	}
	allocs := testing.AllocsPerRun(1000, step)
	t.Logf("%.2f allocations per reliable message round (send, segment, ack)", allocs)
	if allocs > 4 {
		t.Fatalf("%v allocations per reliable message", allocs)
	}
	if sh.reliable < 1000 {
		t.Fatalf("delivered %d", sh.reliable)
	}
}
