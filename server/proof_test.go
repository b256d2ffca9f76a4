package server

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// deaf is a client that completes the handshake and keeps its session
// alive (netcode sends keepalives) but acknowledges nothing: it refuses
// every snapshot, as a half-open session does.
type deaf struct {
	nc     *netcode.Client
	reason netcode.Reason
	ended  bool
	snaps  int
}

func (d *deaf) Connected(netcode.SessionID, netip.AddrPort) {}
func (d *deaf) Disconnected(_ netcode.SessionID, r netcode.Reason) {
	d.reason, d.ended = r, true
}
func (d *deaf) Reliable(netcode.SessionID, []byte) {}
func (d *deaf) Acked(netcode.SessionID, uint16)    {}
func (d *deaf) Unreliable(netcode.SessionID, uint16, []byte) bool {
	d.snaps++
	return false
}

func (s *simRoom) addDeaf(t *testing.T, addr string) *deaf {
	conn, err := s.net.Listen(netip.MustParseAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	d := &deaf{}
	d.nc, err = netcode.NewClient(conn, netcode.ClientConfig{Server: roomAddr, Handler: d}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.nc.Connect(time.Now()); err != nil {
		t.Fatal(err)
	}
	return d
}

func pollDeaf(t *testing.T, ds []*deaf) {
	for _, d := range ds {
		if _, err := d.nc.Poll(time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// A session that never acknowledges a snapshot costs little: no ship, no
// view of its own, only the shared proof snapshot; it is sent away after
// ProofTimeout although its keepalives keep the transport's session alive.
// Beyond MaxUnprovenPerAddr from one address, sessions are throttled.
func TestUnprovenSessionsCostLittleAndExpire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 7, Latency: 10 * time.Millisecond},
			Config{MaxUnprovenPerAddr: 3, ProofTimeout: 2 * time.Second}, demowire.GameConfig{})
		var ds []*deaf
		for i := range 4 { // one address: the fourth is throttled
			ds = append(ds, s.addDeaf(t, fmt.Sprintf("10.0.5.1:%d", 100+i)))
		}
		s.addProbes(1, false) // a real client beside them
		for range 100 {       // 1 s
			pollDeaf(t, ds)
			s.run(10*time.Millisecond, nil)
		}
		st := s.room.Stats()
		if st.Unproven != 3 || st.Clients != 1 || st.Throttled != 1 {
			t.Errorf("after 1 s: %d unproven, %d clients, %d throttled; want 3, 1, 1", st.Unproven, st.Clients, st.Throttled)
		}
		throttled := 0
		for _, d := range ds {
			if d.nc.State() == netcode.StateRefused && d.nc.Reason() == netcode.ReasonThrottled {
				throttled++
			}
		}
		if throttled != 1 {
			t.Errorf("%d deaf clients refused as throttled, want 1", throttled)
		}
		if st := s.udp.Stats(); st.Refused[netcode.ReasonThrottled] != 1 || st.Connects != 4 {
			t.Errorf("netcode refused %v and created %d sessions: the throttled one must cost no session", st.Refused, st.Connects)
		}
		for range 200 { // 2 s more: past the proof timeout
			pollDeaf(t, ds)
			s.run(10*time.Millisecond, nil)
		}
		st = s.room.Stats()
		s.stop()
		// The deaf sessions were sent proofs, and nothing else: one ship in
		// the world, the probe's. (The world is read once the room's
		// goroutine has stopped.)
		ships := 0
		for _, sh := range s.game.Fleet().Ships() {
			if sh.Owner != 0 {
				ships++
			}
		}
		if ships != 1 {
			t.Errorf("%d client ships in the world, want 1 (the proven client's)", ships)
		}
		if st.Unproven != 0 || st.ProofTimeouts != 3 || st.SentAway[ReasonTimeout] != 3 {
			t.Errorf("after 3 s: %d unproven, %d proof timeouts, sent away %v", st.Unproven, st.ProofTimeouts, st.SentAway)
		}
		for i, d := range ds {
			if d.nc.State() == netcode.StateRefused {
				continue
			}
			if !d.ended || d.snaps == 0 {
				t.Errorf("deaf client %d: ended %v (%v), %d snapshots", i, d.ended, d.reason, d.snaps)
			}
		}
		checkProbes(t, s)
	})
}

// Beyond MaxClients, a client that proves itself is told the room is full.
func TestRoomFullAfterProof(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 8, Latency: 10 * time.Millisecond}, Config{MaxClients: 2}, demowire.GameConfig{})
		s.addProbes(3, false)
		s.run(2*time.Second, nil)
		st := s.room.Stats()
		s.stop()
		if st.Clients != 2 || st.Full != 1 || st.SentAway[ReasonFull] != 1 {
			t.Errorf("clients %d, full %d, sent away %v", st.Clients, st.Full, st.SentAway)
		}
	})
}

// Clients may not send the server's own actions: a join or a leave from a
// client fizzles as reserved and spawns nothing.
func TestClientsCannotJoinOrLeaveThemselves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 9, Latency: 10 * time.Millisecond}, Config{}, demowire.GameConfig{})
		s.addProbes(1, false)
		s.run(time.Second, nil)
		p := s.probes[0]
		join := p.act(fleet.KindJoin, [4]int32{-1, 0})
		leave := p.act(fleet.KindLeave, [4]int32{})
		s.run(time.Second, nil)
		s.stop()
		for _, r := range p.results {
			if (r.Seq == join || r.Seq == leave) && (r.Status != protocol.Fizzled || r.Reason != protocol.ReasonReserved) {
				t.Errorf("action %d: %+v, want fizzled as reserved", r.Seq, r)
			}
		}
		if n := len(s.game.Fleet().Ships()); n != 1 {
			t.Errorf("%d ships, want the client's one", n)
		}
		checkProbes(t, s)
	})
}

// stallGame is the demo game with one frame that takes 2 s to step: the
// room falls far behind its clock while clients come and go.
type stallGame struct {
	*demowire.Game
	at uint32
}

func (g *stallGame) Step(frame uint32, actions []sim.Action, dst []sim.Result) ([]sim.Result, error) {
	if frame == g.at {
		time.Sleep(2 * time.Second)
	}
	return g.Game.Step(frame, actions, dst)
}

// The room stalls for 2 s while clients leave and others arrive: every
// departed client's ship is gone afterwards and every joined client has
// its ship; every action is answered.
func TestStallWhileClientsComeAndGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw := netsim.New(netsim.Config{Seed: 10, Latency: 10 * time.Millisecond})
		conn, err := nw.Listen(roomAddr)
		if err != nil {
			t.Fatal(err)
		}
		dg, err := demowire.NewGame(demowire.GameConfig{})
		if err != nil {
			t.Fatal(err)
		}
		game := &stallGame{Game: dg, at: 45} // 1.5 s in
		udp, err := NewUDP(conn, UDPConfig{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		room, err := New(Config{}, game, nil, udp)
		if err != nil {
			t.Fatal(err)
		}
		s := &simRoom{t: t, net: nw, room: room, udp: udp, game: dg, done: make(chan error, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		go func() { s.done <- s.room.Run(ctx) }()
		s.addProbes(10, false)
		s.run(1400*time.Millisecond, steer(s, 100))
		// The room stalls at 1.5 s. Meanwhile five clients leave and five
		// arrive.
		s.run(200*time.Millisecond, nil)
		for _, p := range s.probes[:5] {
			p.nc.Close(time.Now())
		}
		left := s.probes[:5]
		s.probes = s.probes[5:]
		s.addProbes(5, false)
		s.run(4*time.Second, steer(s, 100))
		s.run(time.Second, nil)
		st := s.room.Stats()
		s.stop()
		if st.FramesSkipped == 0 {
			t.Fatal("the room never fell behind: the stall did not happen")
		}
		owners := map[uint32]uint32{} // ship id → owner
		for _, sh := range dg.Fleet().Ships() {
			if sh.Owner != 0 {
				owners[sh.ID] = sh.Owner
			}
		}
		for i, p := range left {
			if id := p.ship(); id == 0 || owners[id] != 0 {
				t.Errorf("departed client %d: ship %d still in the world (owner %d)", i, id, owners[id])
			}
		}
		for i, p := range s.probes {
			if id := p.ship(); id == 0 || owners[id] != p.welcome.Client {
				t.Errorf("client %d: ship %d, owner %d, want its own (client %d)", i, id, owners[id], p.welcome.Client)
			}
		}
		if len(owners) != 10 {
			t.Errorf("%d client ships in the world, want 10", len(owners))
		}
		checkProbes(t, s)
		t.Logf("room: %d frames caught up without snapshots", st.FramesSkipped)
	})
}

// One address cannot fill the room: beyond MaxClientsPerAddr its clients
// are sent away as throttled once they prove themselves. Shutting the room
// down reports no departures of its own making.
func TestProvenClientsPerAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 11, Latency: 10 * time.Millisecond}, Config{MaxClientsPerAddr: 2}, demowire.GameConfig{})
		s.addProbes(3, false) // one address
		s.run(2*time.Second, nil)
		st := s.room.Stats()
		s.stop()
		// The third is refused at arrival or sent away once proven,
		// whichever its timing meets.
		if st.Clients != 2 || st.Throttled != 1 {
			t.Errorf("clients %d, throttled %d, sent away %v; want 2, 1", st.Clients, st.Throttled, st.SentAway)
		}
		if after := s.room.Stats(); after.Disconnects != st.Disconnects {
			t.Errorf("shutdown reported %d departures", after.Disconnects-st.Disconnects)
		}
	})
}

// When the unproven pool is full, a new session takes the place of the
// oldest unproven one: sessions that never prove themselves cannot lock
// real clients out, however many addresses they come from.
func TestFullUnprovenPoolEvictsTheOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 12, Latency: 10 * time.Millisecond},
			Config{MaxUnproven: 3, ProofTimeout: 10 * time.Second}, demowire.GameConfig{})
		var ds []*deaf
		for i := range 3 {
			ds = append(ds, s.addDeaf(t, fmt.Sprintf("10.0.6.%d:100", i+1)))
			for range 10 { // they arrive in order
				pollDeaf(t, ds)
				s.run(10*time.Millisecond, nil)
			}
		}
		if st := s.room.Stats(); st.Unproven != 3 {
			t.Fatalf("%d unproven, want the pool's 3", st.Unproven)
		}
		s.addProbes(1, false)
		for range 100 {
			pollDeaf(t, ds)
			s.run(10*time.Millisecond, nil)
		}
		st := s.room.Stats()
		s.stop()
		if st.Clients != 1 || st.Evicted != 1 || st.Unproven != 2 {
			t.Errorf("clients %d, evicted %d, unproven %d; want 1, 1, 2", st.Clients, st.Evicted, st.Unproven)
		}
		if !ds[0].ended || ds[0].reason != netcode.ReasonThrottled || ds[1].ended || ds[2].ended {
			t.Errorf("the oldest must go, the others stay: %v %v, %v, %v", ds[0].ended, ds[0].reason, ds[1].ended, ds[2].ended)
		}
		checkProbes(t, s)
	})
}

// Eviction spares the session of an address that holds only one: a flood
// from a few addresses loses its own sessions first.
func TestEvictionSparesLoneSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 13, Latency: 10 * time.Millisecond},
			Config{MaxUnproven: 3, ProofTimeout: 10 * time.Second}, demowire.GameConfig{})
		var ds []*deaf
		for _, addr := range []string{"10.0.7.1:100", "10.0.7.2:100", "10.0.7.2:101", "10.0.7.3:100"} {
			ds = append(ds, s.addDeaf(t, addr))
			for range 10 {
				pollDeaf(t, ds)
				s.run(10*time.Millisecond, nil)
			}
		}
		s.stop()
		// The fourth arrival evicts the oldest session of 10.0.7.2 (which
		// holds two), not the older lone session of 10.0.7.1.
		if ds[0].ended || !ds[1].ended || ds[1].reason != netcode.ReasonThrottled || ds[2].ended {
			t.Errorf("ended: %v %v(%v) %v; want only the second", ds[0].ended, ds[1].ended, ds[1].reason, ds[2].ended)
		}
	})
}
