package netcode_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
)

var lossy = netsim.Config{Seed: 7, Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond,
	Loss: 0.2, Duplicate: 0.05, Reorder: 0.05}

func TestDeadPeerTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, lossy, netcode.ServerConfig{Config: netcode.Config{Timeout: 2 * time.Second}})
		c, crec := r.addClient(clientAddr, netcode.ClientConfig{})
		r.until(10*time.Second, "connect", func() bool { return c.State() == netcode.StateConnected })
		id := c.Session()
		// Idle but alive: keepalives hold the session for many timeouts.
		for range 10000 {
			r.step()
		}
		if c.State() != netcode.StateConnected || len(r.srvRec.disconnected) != 0 {
			t.Fatalf("idle session ended: client %v, server %v", c.State(), r.srvRec.disconnected)
		}
		r.net.Partition(serverAddr, clientAddr)
		cut := time.Now()
		r.until(3*time.Second, "server timeout", func() bool { _, ok := r.srvRec.disconnected[id]; return ok })
		if got := r.srvRec.disconnected[id]; got != netcode.ReasonTimeout {
			t.Fatalf("server reason %v", got)
		}
		if waited := time.Since(cut); waited < 2*time.Second-300*time.Millisecond {
			t.Fatalf("timed out after %v, before the 2 s timeout", waited)
		}
		r.until(3*time.Second, "client timeout", func() bool { return c.State() == netcode.StateTimedOut })
		if c.Reason() != netcode.ReasonTimeout || crec.disconnected[id] != netcode.ReasonTimeout {
			t.Fatalf("client reason %v / %v", c.Reason(), crec.disconnected[id])
		}
		if r.srv.Stats().Sessions != 0 {
			t.Fatal("session still held after timeout")
		}
	})
}

func TestCloseAndShutdownTellThePeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, lossy, netcode.ServerConfig{})
		a, _ := r.addClient(clientAddr, netcode.ClientConfig{})
		b, brec := r.addClient(netip.MustParseAddrPort("127.0.0.3:5000"), netcode.ClientConfig{})
		r.until(10*time.Second, "connect", func() bool {
			return a.State() == netcode.StateConnected && b.State() == netcode.StateConnected
		})
		a.Close(time.Now())
		r.until(2*time.Second, "server sees close", func() bool { return len(r.srvRec.disconnected) == 1 })
		if got := r.srvRec.disconnected[a.Session()]; got != netcode.ReasonClosed {
			t.Fatalf("server reason %v", got)
		}
		r.srv.Shutdown(time.Now())
		r.until(2*time.Second, "client sees shutdown", func() bool { return b.State() == netcode.StateClosed })
		if b.Reason() != netcode.ReasonShutdown || brec.disconnected[b.Session()] != netcode.ReasonShutdown {
			t.Fatalf("client reason %v", b.Reason())
		}
		// A shut-down server refuses newcomers.
		c, _ := r.addClient(netip.MustParseAddrPort("127.0.0.4:5000"), netcode.ClientConfig{})
		r.until(5*time.Second, "refusal", func() bool { return c.State() == netcode.StateRefused })
		if c.Reason() != netcode.ReasonFull {
			t.Fatalf("refused for %v", c.Reason())
		}
	})
}

func TestServerFullRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, lossy, netcode.ServerConfig{MaxSessions: 1})
		a, _ := r.addClient(clientAddr, netcode.ClientConfig{})
		r.until(10*time.Second, "connect", func() bool { return a.State() == netcode.StateConnected })
		b, _ := r.addClient(netip.MustParseAddrPort("127.0.0.3:5000"), netcode.ClientConfig{})
		r.until(10*time.Second, "refusal", func() bool { return b.State() == netcode.StateRefused })
		if b.Reason() != netcode.ReasonFull {
			t.Fatalf("refused for %v", b.Reason())
		}
		if st := r.srv.Stats(); st.Sessions != 1 || st.Refused[netcode.ReasonFull] == 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestHandshakeTimesOutWithoutServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{}, netcode.ServerConfig{})
		r.net.Partition(serverAddr, clientAddr)
		c, _ := r.addClient(clientAddr, netcode.ClientConfig{HandshakeTimeout: time.Second})
		r.until(2*time.Second, "handshake timeout", func() bool { return c.State() == netcode.StateHandshakeTimedOut })
	})
}

// raw is a bare endpoint on the simulated network that speaks bytes.
type raw struct {
	t  *testing.T
	ep *netsim.Endpoint
	ds []batch.Datagram
}

func newRaw(t *testing.T, n *netsim.Network, addr netip.AddrPort) *raw {
	ep, err := n.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	return &raw{t: t, ep: ep, ds: batch.NewBuffers(16)}
}

func (r *raw) send(to netip.AddrPort, b []byte) {
	d := batch.Datagram{Addr: to, Buf: b, N: len(b)}
	if _, err := r.ep.WriteBatch([]batch.Datagram{d}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) recv() [][]byte {
	n, err := r.ep.ReadBatch(r.ds, time.Unix(0, 1))
	if err != nil {
		r.t.Fatal(err)
	}
	var out [][]byte
	for i := range n {
		out = append(out, append([]byte(nil), r.ds[i].Payload()...))
	}
	return out
}

// pollRaw lets the server handle what x sent and returns its replies.
func (r *rig) pollRaw(x *raw) [][]byte {
	time.Sleep(time.Millisecond)
	if _, err := r.srv.Poll(time.Now()); err != nil {
		r.t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	return x.recv()
}

func header(version uint8, typ netcode.Type, session uint32, size int) []byte {
	b := make([]byte, size)
	binary.LittleEndian.PutUint16(b, netcode.ProtocolID)
	b[2], b[3] = version, byte(typ)
	binary.LittleEndian.PutUint32(b[4:], session)
	return b
}

// A refused client is told why: another version, a forged cookie. The reply
// to an unverified address is never larger than what it sent, and malformed
// datagrams are counted by reason without creating a session.
func TestRefusalsAndMalformedDatagrams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{}, netcode.ServerConfig{})
		x := newRaw(t, r.net, clientAddr)
		poll := func() [][]byte { return r.pollRaw(x) }
		reasonOf := func(b []byte) netcode.Reason {
			h, err := netcode.ParseHeader(b)
			if err != nil || h.Type != netcode.TypeDisconnect {
				t.Fatalf("reply %x is not a disconnect", b)
			}
			return netcode.Reason(b[netcode.HeaderSize])
		}

		req := header(netcode.Version+1, netcode.TypeRequest, 0, netcode.RequestSize)
		x.send(serverAddr, req)
		got := poll()
		if len(got) != 1 || reasonOf(got[0]) != netcode.ReasonVersion || len(got[0]) > len(req) {
			t.Fatalf("version reply %x", got)
		}

		req = header(netcode.Version, netcode.TypeRequest, 0, netcode.RequestSize)
		binary.LittleEndian.PutUint64(req[netcode.HeaderSize:], 99)
		x.send(serverAddr, req)
		got = poll()
		if len(got) != 1 || len(got[0]) > len(req) {
			t.Fatalf("challenge %x", got)
		}
		if h, _ := netcode.ParseHeader(got[0]); h.Type != netcode.TypeChallenge {
			t.Fatalf("got %v, want a challenge", h.Type)
		}
		resp := append([]byte(nil), got[0]...)
		resp[3] = byte(netcode.TypeResponse)
		resp[len(resp)-1] ^= 1 // forge one bit of the MAC
		x.send(serverAddr, resp)
		got = poll()
		if len(got) != 1 || reasonOf(got[0]) != netcode.ReasonCookie || len(got[0]) > len(resp) {
			t.Fatalf("cookie reply %x", got)
		}
		if binary.LittleEndian.Uint64(got[0][netcode.HeaderSize+1:]) != 99 {
			t.Fatal("refusal does not echo the nonce")
		}
		// The genuine cookie from another address fails too.
		y := newRaw(t, r.net, netip.MustParseAddrPort("127.0.0.9:5000"))
		resp[len(resp)-1] ^= 1
		y.send(serverAddr, resp)
		poll()
		if got := y.recv(); len(got) != 1 || reasonOf(got[0]) != netcode.ReasonCookie {
			t.Fatalf("replayed cookie reply %x", got)
		}

		before := r.srv.Stats().Drops
		bad := map[netcode.Drop][]byte{
			netcode.DropShort:    {1, 2, 3},
			netcode.DropProtocol: {0, 0, 1, 6, 1, 0, 0, 0, 9},
			netcode.DropType:     header(netcode.Version, 200, 0, 20),
			netcode.DropLength:   header(netcode.Version, netcode.TypeRequest, 0, 100),
			netcode.DropSession:  header(netcode.Version, netcode.TypeKeepalive, 1234, netcode.HeaderSize+netcode.AckSize),
		}
		for _, b := range bad {
			x.send(serverAddr, b)
		}
		x.send(serverAddr, header(netcode.Version, netcode.TypeChallenge, 0, 36)) // server never receives challenges
		if got := poll(); len(got) != 0 {
			t.Fatalf("malformed datagrams got replies %x", got)
		}
		st := r.srv.Stats()
		for d := range bad {
			if d != netcode.DropType && st.Drops[d]-before[d] != 1 {
				t.Errorf("drop %v counted %d, want 1", d, st.Drops[d]-before[d])
			}
		}
		if st.Drops[netcode.DropType]-before[netcode.DropType] != 2 {
			t.Errorf("type drops %d, want 2", st.Drops[netcode.DropType]-before[netcode.DropType])
		}
		if st.Sessions != 0 || st.Connects != 0 {
			t.Fatalf("a session was created: %+v", st)
		}
	})
}

// A session that acknowledges an unreliable payload it was never sent
// (naming sequences blindly, without receiving) is ended with reason
// protocol; the server's first sequences are random, so a blind guess
// lands on a sent one about (sent + 1) times in 65,535.
func TestBlindAckEndsTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{}, netcode.ServerConfig{})
		x := newRaw(t, r.net, clientAddr)
		poll := func() [][]byte { return r.pollRaw(x) }
		req := header(netcode.Version, netcode.TypeRequest, 0, netcode.RequestSize)
		binary.LittleEndian.PutUint64(req[netcode.HeaderSize:], 7)
		x.send(serverAddr, req)
		got := poll()
		if len(got) != 1 {
			t.Fatalf("no challenge: %x", got)
		}
		resp := append([]byte(nil), got[0]...)
		resp[3] = byte(netcode.TypeResponse)
		x.send(serverAddr, resp)
		got = poll()
		if len(got) != 1 || len(r.srvRec.connected) != 1 {
			t.Fatalf("no accept: %x", got)
		}
		id := r.srvRec.connected[0]
		// The server sends two payloads; the client reads none of them and
		// claims sequences 0..32 as received.
		for range 2 {
			if _, err := r.srv.SendUnreliable(id, []byte{1}); err != nil {
				t.Fatal(err)
			}
		}
		poll()
		next, _ := r.srv.NextSeq(id)
		ka := header(netcode.Version, netcode.TypeKeepalive, uint32(id), netcode.HeaderSize+netcode.AckSize)
		blind := next + 40 // surely never sent
		binary.LittleEndian.PutUint16(ka[netcode.HeaderSize:], blind)
		binary.LittleEndian.PutUint32(ka[netcode.HeaderSize+2:], ^uint32(0))
		x.send(serverAddr, ka)
		got = poll()
		if r.srvRec.disconnected[id] != netcode.ReasonProtocol || len(r.srvRec.acked) != 0 {
			t.Fatalf("after a blind ack: disconnected %v, acked %v", r.srvRec.disconnected, r.srvRec.acked)
		}
		if st := r.srv.Stats(); st.Drops[netcode.DropAck] != 1 || st.Sessions != 0 {
			t.Errorf("drops %v, sessions %d", st.Drops, st.Sessions)
		}
		told := false
		for _, b := range got {
			if h, _ := netcode.ParseHeader(b); h.Type == netcode.TypeDisconnect && netcode.Reason(b[netcode.HeaderSize]) == netcode.ReasonProtocol {
				told = true
			}
		}
		if !told {
			t.Error("the client was not told why")
		}
	})
}

// The application's Admit refuses a verified client before any session
// exists: one disconnect packet, the reason it gave, nothing kept.
func TestAdmitRefusesWithoutASession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var asked []netip.AddrPort
		r := newRig(t, netsim.Config{}, netcode.ServerConfig{Admit: func(addr netip.AddrPort) netcode.Reason {
			asked = append(asked, addr)
			if addr == clientAddr {
				return netcode.ReasonThrottled
			}
			return netcode.ReasonNone
		}})
		c, _ := r.addClient(clientAddr, netcode.ClientConfig{})
		r.until(5*time.Second, "refusal", func() bool { return c.State() == netcode.StateRefused })
		if c.Reason() != netcode.ReasonThrottled {
			t.Errorf("refused with %v, want throttled", c.Reason())
		}
		other := netip.MustParseAddrPort("127.0.0.3:4000")
		d, _ := r.addClient(other, netcode.ClientConfig{})
		r.until(5*time.Second, "the other client connects", func() bool { return d.State() == netcode.StateConnected })
		st := r.srv.Stats()
		if st.Refused[netcode.ReasonThrottled] != 1 || st.Connects != 1 || len(r.srvRec.connected) != 1 {
			t.Errorf("refused %v, connects %d", st.Refused, st.Connects)
		}
		if len(asked) != 2 || asked[0] != clientAddr || asked[1] != other {
			t.Errorf("Admit asked about %v", asked)
		}
	})
}
