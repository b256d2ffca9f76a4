package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server/mesh"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// peerNet is an in-memory transport of peer sessions between rooms driven
// on one goroutine: reliable and ordered, each message delivered at its
// room's delay-th poll after it was sent. (The real one is netcode's KCP
// channel; this one lets the tests look at the lockstep alone.)
type peerNet struct {
	mu    sync.Mutex
	ends  map[netip.AddrPort]*peerTransport
	pairs map[[2]netip.AddrPort]*peerEnd // a's end of the session a–b
	delay int
}

type peerTransport struct {
	net     *peerNet
	addr    netip.AddrPort
	ev      PeerEvents
	polls   int
	pending []peerDelivery
}

type peerDelivery struct {
	at    int
	link  *peerEnd
	msg   []byte
	kind  uint8 // 0 message, 1 arrive, 2 leave
	bytes int
}

// peerEnd is one side of a peer session: local's link to remote.
type peerEnd struct {
	local, remote *peerTransport
	other         *peerEnd
	closed        bool
}

func (e *peerEnd) Addr() netip.AddrPort { return e.remote.addr }

func (e *peerEnd) SendReliable(msg []byte) error {
	e.local.net.mu.Lock()
	defer e.local.net.mu.Unlock()
	if e.closed {
		return errors.New("closed")
	}
	e.remote.pending = append(e.remote.pending, peerDelivery{at: e.remote.polls + e.local.net.delay, link: e.other, msg: append([]byte(nil), msg...)})
	return nil
}

func (e *peerEnd) Close(Reason) {
	e.local.net.mu.Lock()
	defer e.local.net.mu.Unlock()
	if e.closed {
		return
	}
	e.closed, e.other.closed = true, true
	e.remote.pending = append(e.remote.pending, peerDelivery{at: e.remote.polls, link: e.other, kind: 2})
}

func newPeerNet(delay int) *peerNet {
	return &peerNet{ends: map[netip.AddrPort]*peerTransport{}, pairs: map[[2]netip.AddrPort]*peerEnd{}, delay: delay}
}

// cut ends the session between a and b as a network failure would: both
// sides see it leave, and what was in flight is lost.
func (n *peerNet) cut(a, b netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ea := n.pairs[[2]netip.AddrPort{a, b}]
	ea.closed, ea.other.closed = true, true
	for _, t := range []*peerTransport{ea.local, ea.remote} {
		keep := t.pending[:0]
		for _, d := range t.pending {
			if d.link != ea && d.link != ea.other {
				keep = append(keep, d)
			}
		}
		t.pending = keep
	}
	ea.local.pending = append(ea.local.pending, peerDelivery{at: ea.local.polls, link: ea, kind: 2})
	ea.remote.pending = append(ea.remote.pending, peerDelivery{at: ea.remote.polls, link: ea.other, kind: 2})
}

func (n *peerNet) transport(addr netip.AddrPort) *peerTransport {
	t := &peerTransport{net: n, addr: addr}
	n.ends[addr] = t
	return t
}

// connect opens a session between a and b: both see it arrive.
func (n *peerNet) connect(a, b netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ta, tb := n.ends[a], n.ends[b]
	ea, eb := &peerEnd{local: ta, remote: tb}, &peerEnd{local: tb, remote: ta}
	ea.other, eb.other = eb, ea
	n.pairs[[2]netip.AddrPort{a, b}] = ea
	ta.pending = append(ta.pending, peerDelivery{at: ta.polls, link: ea, kind: 1})
	tb.pending = append(tb.pending, peerDelivery{at: tb.polls, link: eb, kind: 1})
}

func (t *peerTransport) Bind(ev Events, _ func()) { t.ev = ev.(PeerEvents) }
func (t *peerTransport) Shutdown(time.Time)       {}

func (t *peerTransport) Poll(time.Time) (time.Time, error) {
	t.net.mu.Lock()
	t.polls++
	var due []peerDelivery
	keep := t.pending[:0]
	for _, d := range t.pending {
		if d.at <= t.polls {
			due = append(due, d)
		} else {
			keep = append(keep, d)
		}
	}
	t.pending = keep
	t.net.mu.Unlock()
	for _, d := range due {
		switch d.kind {
		case 1:
			t.ev.PeerArrive(d.link)
		case 2:
			t.ev.PeerLeave(d.link)
		default:
			if !d.link.closed {
				t.ev.PeerMessage(d.link, d.msg)
			}
		}
	}
	return time.Time{}, nil
}

// meshRig is n rooms of the fleet game forming a mesh over a peerNet, each
// with its own in-memory clients, driven tick by tick on one goroutine.
type meshRig struct {
	t       *testing.T
	net     *peerNet
	members []mesh.Member
	rooms   []*Room
	inboxes []*Inbox
	clients [][]*memClient
	now     time.Time
	tick    int
}

func newMeshRig(t *testing.T, n, clientsEach, delay int) *meshRig {
	t.Helper()
	pn := newPeerNet(delay)
	var members []mesh.Member
	for i := range n {
		members = append(members, mesh.Member{ID: uint16(i + 1), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 7, byte(i + 1)}), 7000)})
	}
	g := &meshRig{t: t, now: time.Unix(1_700_000_000, 0), net: pn, members: members}
	for i := range n {
		game, err := demowire.NewGame(demowire.GameConfig{})
		if err != nil {
			t.Fatal(err)
		}
		in := NewInbox(1024, 1<<20)
		room, err := New(Config{Mesh: &MeshConfig{Self: uint16(i + 1), Members: members}}, game, nil, in, pn.transport(members[i].Addr))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(room.Close)
		g.rooms = append(g.rooms, room)
		g.inboxes = append(g.inboxes, in)
		var cs []*memClient
		for k := range clientsEach {
			cs = append(cs, newMemClient(t, in, game.Schema(), fmt.Sprintf("192.0.%d.%d:1000", i+1, k+1)))
		}
		g.clients = append(g.clients, cs)
	}
	for i := range members {
		for j := i + 1; j < len(members); j++ {
			pn.connect(members[i].Addr, members[j].Addr)
		}
	}
	return g
}

// step is one tick of every room: its clients read what they were sent
// and some steer, then the room polls and ticks.
func (g *meshRig) step() {
	g.tick++
	for i, room := range g.rooms {
		for k, c := range g.clients[i] {
			c.poll()
			if c.avatar != 0 && (g.tick+k+7*i)%20 == 0 {
				for _, a := range []protocol.Action{
					{Seq: c.nextSeq, Kind: fleet.KindThrust, Args: [4]int32{int32(40 + k*10), 0, 0, int32(c.avatar)}},
					{Seq: c.nextSeq + 1, Kind: fleet.KindTurn, Args: [4]int32{int32((g.tick*7919 + k*104729 + i*31) % 65536), 0, 0, int32(c.avatar)}},
				} {
					if !g.inboxes[i].Message(c.link, protocol.AppendAction(nil, &a)) {
						g.t.Fatal("inbox full")
					}
				}
				c.nextSeq += 2
			}
		}
		if _, err := room.Poll(g.now); err != nil {
			g.t.Fatal(err)
		}
		room.Tick()
	}
	g.now = g.now.Add(time.Second / DefaultTickHz)
}

// Three servers step one world: every frame's hash is compared between
// every two of them and none differs, every action is answered by its own
// server, and a client of one server sees the ships of the others'
// clients move.
func TestMeshStepsOneWorld(t *testing.T) {
	const servers, each = 3, 4
	g := newMeshRig(t, servers, each, 1)
	for range 300 {
		g.step()
	}
	frames := map[uint64]bool{}
	for i, room := range g.rooms {
		ms := room.MeshStats()
		if !ms.Formed || ms.Mismatches != 0 {
			t.Errorf("server %d: formed %v, %d hash mismatches", i+1, ms.Formed, ms.Mismatches)
		}
		for _, p := range ms.Peers {
			if !p.Up || p.HashChecks < 250 || p.Batches < 250 {
				t.Errorf("server %d, peer %d: up %v, %d hashes compared, %d batches", i+1, p.Member, p.Up, p.HashChecks, p.Batches)
			}
		}
		frames[room.Stats().Frame] = true
		t.Logf("server %d: frame %d, %+v", i+1, room.Stats().Frame, ms)
	}
	// Every client got its ship and every action its result, from its own
	// server.
	ships := map[uint32]int{}
	for i, cs := range g.clients {
		for k, c := range cs {
			if c.avatar == 0 {
				t.Fatalf("server %d client %d has no ship", i+1, k)
			}
			ships[c.avatar] = i
			for seq := uint32(1); seq < c.nextSeq; seq++ {
				if _, ok := c.results[seq]; !ok && seq+20 < c.nextSeq {
					t.Errorf("server %d client %d: action %d unanswered", i+1, k, seq)
				}
			}
		}
	}
	if len(ships) != servers*each {
		t.Fatalf("%d distinct ships for %d clients", len(ships), servers*each)
	}
	// A client of server 1 sees every other server's clients' ships.
	seen := 0
	c := g.clients[0][0]
	for id, server := range ships {
		if server == 0 || c.newest == nil {
			continue
		}
		if c.newest.v.Find(id) >= 0 {
			seen++
		}
	}
	if seen == 0 {
		t.Errorf("a client of server 1 sees none of the %d ships of the other servers' clients", (servers-1)*each)
	}
	t.Logf("a client of server 1 sees %d of the %d ships of the other servers' clients", seen, (servers-1)*each)
}

// A world changed on one server alone (an action applied there that no
// batch carried) is caught at the next hash comparison, by every member,
// naming the frame.
func TestMeshDetectsADivergedWorld(t *testing.T) {
	g := newMeshRig(t, 3, 2, 1)
	for range 60 {
		g.step()
	}
	r := g.rooms[1]
	c := g.clients[1][0]
	if c.avatar == 0 {
		t.Fatal("no ship to perturb")
	}
	// Server 2 applies a thrust of its own client's ship that its peers
	// never hear of.
	rogue := sim.Action{Frame: r.frame + 1, Origin: r.origin, Client: c.welcome.Client, Seq: 1 << 30, Kind: fleet.KindThrust, Args: [4]int32{100, 0, 0, int32(c.avatar)}}
	if !r.queue.pushControlAt(rogue) {
		t.Fatal("rogue action refused")
	}
	for range 10 {
		g.step()
	}
	for i, room := range g.rooms {
		if ms := room.MeshStats(); ms.Mismatches == 0 {
			t.Errorf("server %d saw no mismatch", i+1)
		}
	}
}

// Peers slower than the input delay make the mesh wait, visibly, and
// never diverge.
func TestMeshWaitsForLateBatches(t *testing.T) {
	g := newMeshRig(t, 3, 2, 5) // batches take 5 polls: more than the input delay of 2
	for range 200 {
		g.step()
	}
	for i, room := range g.rooms {
		ms := room.MeshStats()
		if ms.Mismatches != 0 || ms.StalledTicks == 0 {
			t.Errorf("server %d: %d mismatches, %d stalled ticks", i+1, ms.Mismatches, ms.StalledTicks)
		}
		waited := time.Duration(0)
		for _, p := range ms.Peers {
			waited += p.Waited
		}
		if waited == 0 {
			t.Errorf("server %d: no wait counted against its peers", i+1)
		}
		t.Logf("server %d: frame %d of 200 ticks, stalled %d ticks", i+1, room.Stats().Frame, ms.StalledTicks)
	}
}

// The mesh on its real transport: 3 servers in one process, each a room on
// its own simulated UDP socket serving its netcode clients and its peers,
// with 10% loss and 50 ± 25 ms on every path. Peers find each other from
// the membership and the shared peer key; every frame's hashes agree, each
// server's clients keep a view that rebuilds exactly, every action is
// answered, and a client of server 1 sees the other servers' clients'
// ships.
func TestMeshOverUDP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const servers, each = 3, 4
		// An input delay of 6 frames (200 ms) hides most of these paths'
		// latency and retransmissions: with the default 2 the mesh ran
		// 178 frames in these 13 s, with 4 242, with 8 324 (it waits,
		// visibly, for the batches; it never diverges).
		net := netsim.New(netsim.Config{Seed: 11, Latency: 50 * time.Millisecond, Jitter: 25 * time.Millisecond, Loss: 0.1})
		key := bytes.Repeat([]byte{42}, netcode.PeerKeySize)
		var members []mesh.Member
		for i := range servers {
			members = append(members, mesh.Member{ID: uint16(i + 1), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 9, byte(i + 1)}), 7000)})
		}
		rigs := make([]*simRoom, servers)
		for i := range servers {
			conn, err := net.Listen(members[i].Addr)
			if err != nil {
				t.Fatal(err)
			}
			game, err := demowire.NewGame(demowire.GameConfig{})
			if err != nil {
				t.Fatal(err)
			}
			room, udp, err := NewWithUDP(conn, Config{InputDelay: 6, Mesh: &MeshConfig{Self: uint16(i + 1), Members: members}}, UDPConfig{PeerKey: key}, game, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := &simRoom{t: t, net: net, room: room, udp: udp, game: game, done: make(chan error, 1)}
			ctx, cancel := context.WithCancel(context.Background())
			s.cancel = cancel
			go func() { s.done <- room.Run(ctx) }()
			rigs[i] = s
		}
		for i, s := range rigs {
			for k := range each {
				conn, err := net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:1000", i+1, k+1)))
				if err != nil {
					t.Fatal(err)
				}
				s.probes = append(s.probes, newProbe(t, conn, members[i].Addr, false))
			}
		}
		run := func(d time.Duration, act bool) {
			steers := make([]func(int, *probe), servers)
			for i, s := range rigs {
				steers[i] = steer(s, 150)
			}
			end := time.Now().Add(d)
			for time.Now().Before(end) {
				for i, s := range rigs {
					for k, p := range s.probes {
						if _, err := p.nc.Poll(time.Now()); err != nil {
							t.Fatal(err)
						}
						if act {
							steers[i](k, p)
						}
					}
				}
				time.Sleep(time.Millisecond)
			}
		}
		run(10*time.Second, true)
		run(3*time.Second, false) // the last results come home
		for i, s := range rigs {
			checkProbes(t, s)
			ms := s.room.MeshStats()
			if !ms.Formed || ms.Mismatches != 0 {
				t.Errorf("server %d: formed %v, %d mismatches", i+1, ms.Formed, ms.Mismatches)
			}
			for _, p := range ms.Peers {
				if !p.Up || p.HashChecks < 100 {
					t.Errorf("server %d, peer %d: up %v, %d hashes compared", i+1, p.Member, p.Up, p.HashChecks)
				}
				// 50 ± 25 ms each way, plus the peer's wait for its next
				// batch and KCP's retransmissions under loss.
				if p.RTT < 50*time.Millisecond || p.RTT > time.Second {
					t.Errorf("server %d, peer %d: round trip %v, want about 100 ms", i+1, p.Member, p.RTT)
				}
			}
			t.Logf("server %d: frame %d, stalled ticks %d, peers %+v", i+1, s.room.Stats().Frame, ms.StalledTicks, ms.Peers)
		}
		// A client of server 1 sees the ships of the other servers' clients.
		others := map[uint32]bool{}
		for _, s := range rigs[1:] {
			for _, p := range s.probes {
				others[p.ship()] = true
			}
		}
		seen := 0
		if v, _, ok := rigs[0].probes[0].view(); ok {
			for id := range others {
				if v.Find(id) >= 0 {
					seen++
				}
			}
		}
		if seen == 0 {
			t.Errorf("a client of server 1 sees none of the %d ships of the other servers' clients", len(others))
		}
		// Server 3 leaves, under the same loss, and stops the way the
		// binary does once the leave is done: the others must have its last
		// batch by then, or they would wait for it for ever.
		done := rigs[2].room.LeaveMesh()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("server 3's leave did not complete")
		}
		rigs[2].stop()
		before := rigs[0].room.Stats().Frame
		run(3*time.Second, false)
		if after := rigs[0].room.Stats().Frame; after < before+60 {
			t.Errorf("after server 3 left, server 1 ran %d frames in 3 s", after-before)
		}
		for _, s := range rigs[:2] {
			if ms := s.room.MeshStats(); ms.Mismatches != 0 {
				t.Errorf("%d mismatches after the leave", ms.Mismatches)
			}
			s.stop()
		}
	})
}

// A member that leaves gracefully (SIGTERM) says so in its last batch: its
// clients' ships leave the world at that frame on every member, and the
// others go on from there, with equal hashes, without waiting for it.
func TestMeshMemberLeavesGracefully(t *testing.T) {
	g := newMeshRig(t, 3, 2, 1)
	for range 60 {
		g.step()
	}
	leaving := g.rooms[2]
	gone := g.clients[2]
	for _, c := range gone {
		if c.avatar == 0 || g.rooms[0].game.Avatar(3, c.welcome.Client) != c.avatar {
			t.Fatalf("server 1 does not see server 3's client %d with its ship %d", c.welcome.Client, c.avatar)
		}
	}
	done := leaving.LeaveMesh()
	for range 20 {
		g.step()
	}
	select {
	case <-done:
	default:
		t.Fatal("server 3 did not finish leaving")
	}
	last := leaving.Stats().Frame
	g.rooms, g.clients, g.inboxes = g.rooms[:2], g.clients[:2], g.inboxes[:2]
	for range 60 {
		g.step()
	}
	for i, room := range g.rooms {
		ms := room.MeshStats()
		if ms.Mismatches != 0 || room.Stats().Frame < last+50 {
			t.Errorf("server %d: frame %d (server 3 left at %d), %d mismatches", i+1, room.Stats().Frame, last, ms.Mismatches)
		}
		if room.mesh.lock.Members() != 2 {
			t.Errorf("server %d counts %d members", i+1, room.mesh.lock.Members())
		}
	}
	for i, room := range g.rooms {
		for _, c := range gone {
			if room.game.Avatar(3, c.welcome.Client) != 0 {
				t.Errorf("server %d still has server 3's client %d's ship", i+1, c.welcome.Client)
			}
		}
	}
	for _, c := range gone {
		if _, _, closed := c.link.take(); closed != ReasonShutdown {
			t.Errorf("server 3's client %d was sent away with %v, want shutdown", c.welcome.Client, closed)
		}
	}
}

// A peer session that fails mid-run (what was in flight lost, a batch
// perhaps half in) and comes back: the members resend what the other has
// not run, the half batch from its first chunk, and the mesh goes on with
// equal hashes.
func TestMeshSessionComesBack(t *testing.T) {
	g := newMeshRig(t, 3, 2, 1) // batches arrive ahead of their frames: some are held whole when the session fails
	for range 60 {
		g.step()
	}
	// Server 2 loses both its sessions; the one with server 1 comes back
	// first, while server 2 still waits for server 3: it holds some of
	// server 1's batches whole, which server 1 resends.
	m1, m2, m3 := g.members[0].Addr, g.members[1].Addr, g.members[2].Addr
	g.net.cut(m2, m3) // server 2 waits for server 3, and holds what server 1 sends
	for range 5 {
		g.step()
	}
	g.net.cut(m1, m2)
	for range 5 {
		g.step()
	}
	stalled := g.rooms[0].Stats().Frame
	g.net.connect(m1, m2)
	for range 10 {
		g.step()
	}
	g.net.connect(m2, m3)
	for range 80 {
		g.step()
	}
	for i, room := range g.rooms {
		ms := room.MeshStats()
		if ms.Mismatches != 0 || room.Stats().Frame < stalled+60 {
			t.Errorf("server %d: frame %d (stalled at %d), %d mismatches", i+1, room.Stats().Frame, stalled, ms.Mismatches)
		}
		for _, p := range ms.Peers {
			if !p.Up {
				t.Errorf("server %d: peer %d is not back", i+1, p.Member)
			}
		}
		t.Logf("server %d: frame %d, %d resent chunks held already", i+1, room.Stats().Frame, ms.Duplicates)
	}
	if g.rooms[1].MeshStats().Duplicates == 0 {
		t.Error("server 2 was resent nothing it held: the test missed its case")
	}
}

// The redirect rule, native clients' and browsers' alike: above the mean
// of the members' loads by the margin, to the least loaded peer.
func TestPickRedirect(t *testing.T) {
	peers := func(loads ...int) []peerLoad {
		ps := make([]peerLoad, len(loads))
		for i, l := range loads {
			ps[i] = peerLoad{mesh.Member{ID: uint16(i + 2)}, l}
		}
		return ps
	}
	for _, c := range []struct {
		own    int
		peers  []peerLoad
		margin int
		want   int // -1: no redirect
	}{
		{20, peers(0), 8, 0},         // mean 10, 20 ≥ 18
		{17, peers(3), 8, -1},        // mean 10, 17 < 18
		{30, peers(10, 5, 20), 8, 1}, // mean 16.25, 30 ≥ 24.25: to the least loaded
		{4, peers(0), 1, 0},          // the page test's mesh
		{0, peers(0), 1, -1},         // nobody above the mean
		{50, nil, 8, -1},             // no peer said its load
		{12, peers(12, 12), 1, -1},   // balanced
	} {
		i, ok := pickRedirect(c.own, c.peers, c.margin)
		got := -1
		if ok {
			got = i
		}
		if got != c.want {
			t.Errorf("own %d, peers %v, margin %d: redirect to %d, want %d", c.own, c.peers, c.margin, got, c.want)
		}
	}
}
