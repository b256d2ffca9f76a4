package netcode_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
)

var (
	peerKey   = bytes.Repeat([]byte{7}, netcode.PeerKeySize)
	otherKey  = bytes.Repeat([]byte{8}, netcode.PeerKeySize)
	peerAddrB = netip.MustParseAddrPort("127.0.0.2:7000")
)

// peerServer is a second server on the rig's network.
func (r *rig) peerServer(addr netip.AddrPort, key []byte) (*netcode.Server, *recorder) {
	r.t.Helper()
	conn, err := r.net.Listen(addr)
	if err != nil {
		r.t.Fatal(err)
	}
	rec := newRecorder()
	s, err := netcode.NewServer(conn, netcode.ServerConfig{Handler: rec, PeerKey: key}, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	return s, rec
}

// Two servers that share a peer key open a session from their own
// sockets, under loss, and both know it for a peer's: reliable messages
// go both ways. A client on the same server is not a peer.
func TestServersDialEachOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 3, Latency: 50 * time.Millisecond, Jitter: 25 * time.Millisecond, Loss: 0.1}, netcode.ServerConfig{PeerKey: peerKey})
		b, bRec := r.peerServer(peerAddrB, peerKey)
		_, cRec := r.addClient(netip.MustParseAddrPort("127.0.0.3:6000"), netcode.ClientConfig{Server: serverAddr})
		if err := r.srv.Dial(peerAddrB); err != nil {
			t.Fatal(err)
		}
		step := func() {
			if _, err := b.Poll(time.Now()); err != nil {
				t.Fatal(err)
			}
			r.step()
		}
		end := time.Now().Add(5 * time.Second)
		for len(r.srvRec.connected) < 2 || len(bRec.connected) < 1 || len(cRec.connected) < 1 {
			if time.Now().After(end) {
				t.Fatalf("sessions: a %d, b %d, client %d; dials %v", len(r.srvRec.connected), len(bRec.connected), len(cRec.connected), r.srv.Stats().Dials)
			}
			step()
		}
		var toB netcode.SessionID
		peers := 0
		for _, id := range r.srvRec.connected {
			if r.srv.IsPeer(id) {
				toB = id
				peers++
			}
		}
		if peers != 1 {
			t.Fatalf("%d of a's %d sessions are peers, want 1 (the client's is not)", peers, len(r.srvRec.connected))
		}
		toA := bRec.connected[0]
		if !b.IsPeer(toA) {
			t.Fatal("b does not know a's session for a peer's")
		}
		if err := r.srv.SendReliable(toB, []byte("batch from a")); err != nil {
			t.Fatal(err)
		}
		if err := b.SendReliable(toA, []byte("batch from b")); err != nil {
			t.Fatal(err)
		}
		end = time.Now().Add(5 * time.Second)
		for len(bRec.reliable) == 0 || !contains(r.srvRec.reliable, "batch from b") {
			if time.Now().After(end) {
				t.Fatal("peer messages did not arrive")
			}
			step()
		}
		if string(bRec.reliable[0]) != "batch from a" {
			t.Errorf("b got %q", bRec.reliable[0])
		}
		if st := r.srv.Stats(); st.Dials[1] != 1 || st.PeerSessions != 1 {
			t.Errorf("a's dials %v, peer sessions %d", st.Dials, st.PeerSessions)
		}
		if err := r.srv.Dial(peerAddrB); !errors.Is(err, netcode.ErrSession) {
			t.Errorf("a second dial to b: %v", err)
		}
	})
}

// A server with another key, or none, gets no peer session: the proof does
// not verify, and its dial is refused.
func TestDialWithTheWrongKeyIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 4}, netcode.ServerConfig{PeerKey: otherKey})
		b, bRec := r.peerServer(peerAddrB, peerKey)
		if err := r.srv.Dial(peerAddrB); err != nil {
			t.Fatal(err)
		}
		for range 500 {
			if _, err := b.Poll(time.Now()); err != nil {
				t.Fatal(err)
			}
			r.step()
		}
		if len(bRec.connected) != 0 || len(r.srvRec.connected) != 0 {
			t.Fatal("a session was made with the wrong key")
		}
		if d := b.Stats().Drops[netcode.DropProof]; d == 0 {
			t.Error("no proof drop counted")
		}
		if d := r.srv.Stats().Dials; d[2] == 0 {
			t.Errorf("the dial was not counted refused: %v", d)
		}
		// Without a key there is no dialing at all.
		r2 := newRig(t, netsim.Config{Seed: 5}, netcode.ServerConfig{})
		if err := r2.srv.Dial(peerAddrB); !errors.Is(err, netcode.ErrNoPeerKey) {
			t.Errorf("a dial without a key: %v", err)
		}
	})
}

// A dial to an address where no server answers is given up after 5 s, and
// counted.
func TestDialTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 6}, netcode.ServerConfig{PeerKey: peerKey})
		if err := r.srv.Dial(netip.MustParseAddrPort("127.0.0.4:7000")); err != nil {
			t.Fatal(err)
		}
		for range 6000 {
			r.step()
		}
		if d := r.srv.Stats().Dials; d[3] != 1 {
			t.Errorf("dials %v, want one timed out", d)
		}
	})
}

func contains(msgs [][]byte, s string) bool {
	for _, m := range msgs {
		if string(m) == s {
			return true
		}
	}
	return false
}

// Two peers that send each other one message a frame, out of phase: with
// PeerAckDelay each frame costs one datagram each way, the acks riding with
// the next message; without it, kcp-go flushes the acks of a message as soon
// as the message acknowledges the receiver's own, a second datagram. Under
// loss every message still arrives, in order.
func TestPeerAcksRideWithMessages(t *testing.T) {
	const frames = 300
	run := func(t *testing.T, delay time.Duration, loss float64) (perMsgA, perMsgB float64) {
		synctest.Test(t, func(t *testing.T) {
			cfg := netcode.Config{PeerAckDelay: delay}
			r := newRig(t, netsim.Config{Seed: 9, Latency: 5 * time.Millisecond, Loss: loss}, netcode.ServerConfig{Config: cfg, PeerKey: peerKey})
			conn, err := r.net.Listen(peerAddrB)
			if err != nil {
				t.Fatal(err)
			}
			bRec := newRecorder()
			b, err := netcode.NewServer(conn, netcode.ServerConfig{Config: cfg, Handler: bRec, PeerKey: peerKey}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			step := func() {
				if _, err := b.Poll(time.Now()); err != nil {
					t.Fatal(err)
				}
				r.step()
			}
			if err := r.srv.Dial(peerAddrB); err != nil {
				t.Fatal(err)
			}
			for len(r.srvRec.connected) < 1 || len(bRec.connected) < 1 {
				step()
			}
			toB, toA := r.srvRec.connected[0], bRec.connected[0]
			a0, b0 := r.srv.Stats().TxPackets, b.Stats().TxPackets
			// a sends at 0 ms of each 33 ms frame, b at 12 ms.
			start := time.Now()
			for f := range frames {
				frame := start.Add(time.Duration(f) * 33 * time.Millisecond)
				for time.Now().Before(frame) {
					step()
				}
				if err := r.srv.SendReliable(toB, []byte{byte(f)}); err != nil {
					t.Fatal(err)
				}
				for time.Now().Before(frame.Add(12 * time.Millisecond)) {
					step()
				}
				if err := b.SendReliable(toA, []byte{byte(f)}); err != nil {
					t.Fatal(err)
				}
			}
			for len(bRec.reliable) < frames || len(r.srvRec.reliable) < frames {
				step()
			}
			for i := range frames {
				if bRec.reliable[i][0] != byte(i) || r.srvRec.reliable[i][0] != byte(i) {
					t.Fatalf("message %d out of order", i)
				}
			}
			perMsgA = float64(r.srv.Stats().TxPackets-a0) / frames
			perMsgB = float64(b.Stats().TxPackets-b0) / frames
		})
		return perMsgA, perMsgB
	}
	a, b := run(t, 0, 0)
	t.Logf("acks flushed by KCP: %.2f and %.2f datagrams a message", a, b)
	if a+b < 2.5 {
		t.Errorf("without PeerAckDelay: %.2f + %.2f datagrams a message; the rig no longer shows what the delay is for", a, b)
	}
	a, b = run(t, 41*time.Millisecond, 0)
	t.Logf("acks held for the next message: %.2f and %.2f datagrams a message", a, b)
	if a > 1.1 || b > 1.1 {
		t.Errorf("with PeerAckDelay: %.2f and %.2f datagrams a message, want about 1", a, b)
	}
	a, b = run(t, 41*time.Millisecond, 0.1)
	t.Logf("under 10%% loss: %.2f and %.2f datagrams a message", a, b)
}
