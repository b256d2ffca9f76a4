package netcode_test

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
)

var (
	serverAddr = netip.MustParseAddrPort("127.0.0.1:7777")
	clientAddr = netip.MustParseAddrPort("127.0.0.2:5000")
)

// recorder is a Handler that keeps what it was given.
type recorder struct {
	connected    []netcode.SessionID
	disconnected map[netcode.SessionID]netcode.Reason
	reliable     [][]byte
	unreliable   map[uint16]bool
	acked        map[uint16]bool
	onReliable   func(id netcode.SessionID, msg []byte)
	refuse       func(seq uint16) bool // when set and true, Unreliable refuses seq
	refused      map[uint16]bool
}

func newRecorder() *recorder {
	return &recorder{disconnected: map[netcode.SessionID]netcode.Reason{}, unreliable: map[uint16]bool{}, acked: map[uint16]bool{}, refused: map[uint16]bool{}}
}

func (r *recorder) Connected(id netcode.SessionID, _ netip.AddrPort) {
	r.connected = append(r.connected, id)
}
func (r *recorder) Disconnected(id netcode.SessionID, reason netcode.Reason) {
	r.disconnected[id] = reason
}
func (r *recorder) Reliable(id netcode.SessionID, msg []byte) {
	r.reliable = append(r.reliable, append([]byte(nil), msg...))
	if r.onReliable != nil {
		r.onReliable(id, msg)
	}
}
func (r *recorder) Unreliable(_ netcode.SessionID, seq uint16, _ []byte) bool {
	if r.unreliable[seq] {
		panic(fmt.Sprintf("unreliable %d delivered twice", seq))
	}
	if r.refuse != nil && r.refuse(seq) {
		r.refused[seq] = true
		return false
	}
	r.unreliable[seq] = true
	return true
}
func (r *recorder) Acked(_ netcode.SessionID, seq uint16) {
	if r.acked[seq] {
		panic(fmt.Sprintf("seq %d acked twice", seq))
	}
	r.acked[seq] = true
}

// rig is a server and clients on one simulated network, stepped together
// by one goroutine on synctest's virtual clock, so a run is repeatable.
type rig struct {
	t       *testing.T
	net     *netsim.Network
	srv     *netcode.Server
	srvRec  *recorder
	clients []*netcode.Client
	recs    []*recorder
}

func newRig(t *testing.T, nc netsim.Config, sc netcode.ServerConfig) *rig {
	t.Helper()
	r := &rig{t: t, net: netsim.New(nc), srvRec: newRecorder()}
	conn, err := r.net.Listen(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	sc.Handler = r.srvRec
	r.srv, err = netcode.NewServer(conn, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) addClient(addr netip.AddrPort, cfg netcode.ClientConfig) (*netcode.Client, *recorder) {
	r.t.Helper()
	conn, err := r.net.Listen(addr)
	if err != nil {
		r.t.Fatal(err)
	}
	rec := newRecorder()
	cfg.Server, cfg.Handler = serverAddr, rec
	c, err := netcode.NewClient(conn, cfg, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	if err := c.Connect(time.Now()); err != nil {
		r.t.Fatal(err)
	}
	r.clients = append(r.clients, c)
	r.recs = append(r.recs, rec)
	return c, rec
}

// step polls everything once, then lets a millisecond of virtual time pass.
func (r *rig) step() {
	r.t.Helper()
	now := time.Now()
	if _, err := r.srv.Poll(now); err != nil {
		r.t.Fatal(err)
	}
	for _, c := range r.clients {
		if _, err := c.Poll(now); err != nil {
			r.t.Fatal(err)
		}
	}
	time.Sleep(time.Millisecond)
}

// until steps until cond holds, failing after limit of virtual time.
func (r *rig) until(limit time.Duration, what string, cond func() bool) {
	r.t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			r.t.Fatalf("after %v: %s did not happen", limit, what)
		}
		r.step()
	}
}

func message(i int) []byte {
	// Mostly action-sized messages; every tenth up to 3,000 bytes (three
	// KCP segments), so fragments are reassembled under loss too.
	n := 1 + (i*31)%200
	if i%10 == 0 {
		n = 1 + (i*7919)%3000
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i + j)
	}
	if n >= 4 {
		binary.LittleEndian.PutUint32(b, uint32(i))
	}
	return b
}

// The conditions: 20% loss, 100 ms ± 50 ms, 5% duplicates and
// reordering. 10,000 reliable messages each way arrive exactly once and in
// order; unreliable acks name exactly what was delivered.
func TestReliableAndAcksUnderLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nc := netsim.Config{Seed: 42, Latency: 100 * time.Millisecond, Jitter: 50 * time.Millisecond,
			Loss: 0.2, Duplicate: 0.05, Reorder: 0.05}
		r := newRig(t, nc, netcode.ServerConfig{})
		c, crec := r.addClient(clientAddr, netcode.ClientConfig{})
		r.until(10*time.Second, "connect", func() bool { return c.State() == netcode.StateConnected })
		id := c.Session()

		const total = 10000
		sentUp, sentDown := 0, 0
		var seqs []uint16
		start := time.Now()
		for tick := 0; len(crec.reliable) < total || len(r.srvRec.reliable) < total; tick++ {
			if time.Since(start) > 5*time.Minute {
				t.Fatalf("after 5 virtual minutes: %d/%d up, %d/%d down", len(r.srvRec.reliable), total, len(crec.reliable), total)
			}
			// One message (about 1.2 segments) each way every 10 ms.
			// At 20% loss a lost segment holds the 128-segment window
			// for a retransmission timeout (about 400 ms here), and one
			// lost twice for about 1 s: the rate must stay well under
			// what the window carries through such stalls.
			if tick%10 == 0 {
				for k := 0; k < 1 && sentUp < total; k++ {
					if err := c.SendReliable(message(sentUp)); err != nil {
						t.Fatalf("client send %d: %v", sentUp, err)
					}
					sentUp++
				}
				for k := 0; k < 1 && sentDown < total; k++ {
					if err := r.srv.SendReliable(id, message(sentDown)); err != nil {
						t.Fatalf("server send %d: %v", sentDown, err)
					}
					sentDown++
				}
			}
			// A snapshot-like unreliable payload every 50 ms.
			if tick%50 == 0 {
				seq, err := r.srv.SendUnreliable(id, []byte("snapshot"))
				if err != nil {
					t.Fatal(err)
				}
				seqs = append(seqs, seq)
			}
			r.step()
		}
		for name, got := range map[string][][]byte{"up": r.srvRec.reliable, "down": crec.reliable} {
			if len(got) != total {
				t.Fatalf("%s: %d messages, want %d", name, len(got), total)
			}
			for i, m := range got {
				if string(m) != string(message(i)) {
					t.Fatalf("%s: message %d differs (len %d, want %d)", name, i, len(m), len(message(i)))
				}
			}
		}
		// Let the last acks come home, then compare.
		for range 500 {
			r.step()
		}
		for seq := range r.srvRec.acked {
			if !crec.unreliable[seq] {
				t.Fatalf("seq %d acked but never delivered", seq)
			}
		}
		missed := 0
		for seq := range crec.unreliable {
			if !r.srvRec.acked[seq] {
				missed++
			}
		}
		if missed > 0 {
			t.Errorf("%d of %d delivered payloads never acked", missed, len(crec.unreliable))
		}
		lost := len(seqs) - len(crec.unreliable)
		if lost == 0 || lost > len(seqs)/2 {
			t.Errorf("%d of %d unreliable payloads lost: the loss model is not at work", lost, len(seqs))
		}
		st := r.srv.Stats()
		t.Logf("virtual %v; unreliable %d sent, %d delivered, %d acked; server drops %v",
			time.Since(start).Round(time.Second), len(seqs), len(crec.unreliable), len(r.srvRec.acked), st.Drops)
		tot := r.net.Totals()
		t.Logf("network: %+v", tot)
	})
}

// A payload the handler refuses is never acknowledged, and refusing it does
// not stop the next one from being delivered and acknowledged.
func TestRefusedUnreliableIsNotAcked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, netsim.Config{Seed: 3, Latency: 10 * time.Millisecond}, netcode.ServerConfig{})
		c, crec := r.addClient(clientAddr, netcode.ClientConfig{})
		crec.refuse = func(seq uint16) bool { return seq%3 == 1 }
		r.until(5*time.Second, "connect", func() bool { return c.State() == netcode.StateConnected })
		id := c.Session()
		for range 30 {
			want, err := r.srv.NextSeq(id)
			if err != nil {
				t.Fatal(err)
			}
			if seq, err := r.srv.SendUnreliable(id, []byte("snapshot")); err != nil || seq != want {
				t.Fatalf("sent seq %d (%v), NextSeq said %d", seq, err, want)
			}
			for range 20 {
				r.step()
			}
		}
		for range 100 {
			r.step()
		}
		if len(crec.refused) != 10 || len(crec.unreliable) != 20 {
			t.Fatalf("refused %d and accepted %d of 30, want 10 and 20", len(crec.refused), len(crec.unreliable))
		}
		for seq := range crec.refused {
			if r.srvRec.acked[seq] {
				t.Errorf("refused seq %d was acked", seq)
			}
		}
		for seq := range crec.unreliable {
			if !r.srvRec.acked[seq] {
				t.Errorf("accepted seq %d was not acked", seq)
			}
		}
		if got := c.Stats().UnreliableRefused; got != 10 {
			t.Errorf("client counted %d refused, want 10", got)
		}
	})
}
