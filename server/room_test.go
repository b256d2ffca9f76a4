package server

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

var roomAddr = netip.MustParseAddrPort("10.0.0.1:7777")

// simRoom runs a room on a simulated network inside a synctest bubble and
// steps probes against it from the test goroutine.
type simRoom struct {
	t      *testing.T
	net    *netsim.Network
	room   *Room
	udp    *UDP
	game   *demowire.Game
	probes []*probe
	added  int // probes ever added: each gets its own address
	cancel context.CancelFunc
	done   chan error
}

// newDemoRoom is a room running the demo game for the clients of conn.
func newDemoRoom(t testing.TB, conn batch.Conn, cfg Config, gc demowire.GameConfig) (*Room, *UDP, *demowire.Game) {
	t.Helper()
	game, err := demowire.NewGame(gc)
	if err != nil {
		t.Fatal(err)
	}
	room, udp, err := NewWithUDP(conn, cfg, UDPConfig{}, game, nil)
	if err != nil {
		t.Fatal(err)
	}
	return room, udp, game
}

func startSimRoom(t *testing.T, nc netsim.Config, cfg Config, gc demowire.GameConfig) *simRoom {
	t.Helper()
	s := &simRoom{t: t, net: netsim.New(nc), done: make(chan error, 1)}
	conn, err := s.net.Listen(roomAddr)
	if err != nil {
		t.Fatal(err)
	}
	s.room, s.udp, s.game = newDemoRoom(t, conn, cfg, gc)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- s.room.Run(ctx) }()
	return s
}

func (s *simRoom) addProbes(n int, blind bool) {
	for range n {
		i := s.added
		s.added++
		conn, err := s.net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.0.1.%d:%d", 1+i/16, 1000+i)))
		if err != nil {
			s.t.Fatal(err)
		}
		s.probes = append(s.probes, newProbe(s.t, conn, roomAddr, blind))
	}
}

// run polls every probe each millisecond of virtual time for d, calling
// each (if set) once per probe per step.
func (s *simRoom) run(d time.Duration, each func(i int, p *probe)) {
	s.t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i, p := range s.probes {
			if _, err := p.nc.Poll(time.Now()); err != nil {
				s.t.Fatal(err)
			}
			if each != nil {
				each(i, p)
			}
		}
		time.Sleep(time.Millisecond)
	}
}

func (s *simRoom) stop() {
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("room: %v", err)
	}
}

// steer sends a thrust and a turn every 100 ms and a laser at another
// probe's ship every 300 ms.
func steer(s *simRoom, every int) func(i int, p *probe) {
	step := 0
	return func(i int, p *probe) {
		if i == 0 {
			step++
		}
		ship := p.ship()
		if ship == 0 || (step+i*7)%every != 0 {
			return
		}
		p.act(fleet.KindThrust, [4]int32{int32(40 + i*13%80), 0, 0, int32(ship)})
		p.act(fleet.KindTurn, [4]int32{int32((step*977 + i*4099) % 65536), 0, 0, int32(ship)})
		if (step/every)%3 == 0 {
			target := s.probes[(i+1)%len(s.probes)].ship()
			p.act(fleet.KindFire, [4]int32{int32(fleet.CardLaser), int32(target), 0, int32(ship)})
		}
	}
}

func checkProbes(t *testing.T, s *simRoom) {
	t.Helper()
	for i, p := range s.probes {
		if p.ship() == 0 {
			t.Errorf("probe %d has no ship (results %v)", i, p.results)
			continue
		}
		v, _, ok := p.view()
		if !ok {
			t.Errorf("probe %d rebuilt no view", i)
			continue
		}
		if v.Find(p.ship()) < 0 {
			t.Errorf("probe %d: its view of %d entities lacks its own ship %d", i, len(v.Entities), p.ship())
		}
		if p.refused["checksum"] != 0 {
			t.Errorf("probe %d: %d snapshots failed their checksum", i, p.refused["checksum"])
		}
		got := map[uint32]bool{}
		for _, r := range p.results {
			if got[r.Seq] {
				t.Errorf("probe %d: two results for action %d", i, r.Seq)
			}
			got[r.Seq] = true
		}
		for seq := uint32(1); seq < p.nextSeq; seq++ {
			if !got[seq] {
				t.Errorf("probe %d: action %d has no result", i, seq)
			}
		}
	}
}

// Clients connect, get a ship, steer and fire; every snapshot rebuilds the
// server's view exactly (the codec checks each against its checksum), and
// every action gets exactly one result.
func TestRoomServesClients(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 1, Latency: 20 * time.Millisecond}, Config{}, demowire.GameConfig{})
		s.addProbes(12, false)
		s.run(5*time.Second, steer(s, 100))
		// Stop acting; let the last results come home.
		s.run(time.Second, nil)
		checkProbes(t, s)
		st := s.room.Stats()
		s.stop()
		if st.Clients != 12 || st.Proofs < 12 || st.Deltas == 0 {
			t.Errorf("room stats: %+v", st)
		}
		// After the first, snapshots are deltas against acknowledged state.
		if st.Fulls > 2*12 {
			t.Errorf("%d full snapshots for 12 clients on a lossless network", st.Fulls)
		}
		if st.EncodesShared == 0 {
			t.Errorf("no encoding was shared among 12 clients around 4 spawn points")
		}
		applied, fizzled := 0, 0
		for _, p := range s.probes {
			for _, r := range p.results {
				if r.Status == protocol.Applied {
					applied++
				} else {
					fizzled++
				}
			}
		}
		t.Logf("room: %d full, %d delta, %d heartbeat, %d shared encodings of %d; actions %d applied, %d fizzled",
			st.Fulls, st.Deltas, st.Heartbeats, st.EncodesShared, st.Encodes, applied, fizzled)
		if applied == 0 {
			t.Error("no action applied")
		}
	})
}

// The harsh network: 10% loss and 80 ms jitter. State still
// converges and nothing acknowledged is lost.
func TestRoomUnderLossAndJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 2, Latency: 60 * time.Millisecond, Jitter: 80 * time.Millisecond, Loss: 0.1}, Config{}, demowire.GameConfig{})
		s.addProbes(12, false)
		s.run(8*time.Second, steer(s, 100))
		s.run(3*time.Second, nil)
		checkProbes(t, s)
		st := s.room.Stats()
		s.stop()
		t.Logf("room: %d full, %d delta, %d heartbeat; probes refused %v", st.Fulls, st.Deltas, st.Heartbeats, s.probes[0].refused)
	})
}

// An idle client in an idle world gets heartbeats of at most 4 payload
// bytes once its view stops changing.
func TestIdleHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 3, Latency: 10 * time.Millisecond}, Config{}, demowire.GameConfig{Interest: demowire.TileInterest()})
		s.addProbes(1, false)
		s.run(6*time.Second, nil)
		p := s.probes[0]
		st := s.room.Stats()
		s.stop()
		// A heartbeat's history entry holds the tick's states, not the
		// baseline's: the stores of the tick the ship came to rest are
		// not kept for as long as it rests.
		if st.OldestStoreFrames > int64(maxUnackedAge*DefaultTickHz) {
			t.Errorf("the oldest live state store is %d frames old", st.OldestStoreFrames)
		}
		if p.forms[protocol.Heartbeat] < 20 {
			t.Fatalf("forms %v: want heartbeats once the ship is at rest", p.forms)
		}
		last := p.sizes[len(p.sizes)-1] - udpOverhead
		if last > protocol.MaxHeartbeat {
			t.Errorf("idle snapshot payload %d bytes, want ≤ %d", last, protocol.MaxHeartbeat)
		}
	})
}

// A tight budget in a crowd: most snapshots go through the priority
// accumulator. Each is priced exactly (no miss), fills most of its room,
// and rebuilds the server's view bit for bit (the probes check every
// checksum).
func TestPrioritizedSnapshotsFillAndRebuild(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const bps, hz = 2000, 20
		s := startSimRoom(t, netsim.Config{Seed: 4, Latency: 20 * time.Millisecond}, Config{BytesPerSec: bps, SnapshotHz: hz}, demowire.GameConfig{})
		s.addProbes(40, false)
		s.run(4*time.Second, steer(s, 100))
		s.run(time.Second, nil)
		checkProbes(t, s)
		st := s.room.Stats()
		s.stop()
		t.Logf("room: %d full, %d delta, %d heartbeat, %d prioritized, %d exact sums, %d deferred entities, %d skips, %d misses",
			st.Fulls, st.Deltas, st.Heartbeats, st.Prioritized, st.Measures, st.Deferred, st.PrioritySkips, st.PriceMisses)
		if st.Prioritized < (st.Fulls+st.Deltas)/2 {
			t.Errorf("%d of %d snapshots prioritized: the budget should force most", st.Prioritized, st.Fulls+st.Deltas)
		}
		if st.PriceMisses != 0 {
			t.Errorf("%d prioritized views did not fit their price", st.PriceMisses)
		}
		// The room each snapshot gets is about bps/hz bytes of UDP
		// payload; the prioritized ones fill most of it.
		var sizes []int
		for _, p := range s.probes {
			sizes = append(sizes, p.sizes[len(p.sizes)/2:]...)
		}
		slices.Sort(sizes)
		p50 := sizes[len(sizes)/2]
		t.Logf("snapshot datagrams p50 %d B of %d B a snapshot", p50, bps/hz)
		if p50 < bps/hz*3/4 || p50 > bps/hz*2 {
			t.Errorf("snapshot datagram p50 %d B, want most of the %d B a snapshot may take", p50, bps/hz)
		}
	})
}

// A client's Detail keeps the game's coarser levels of detail out of its
// view (and so out of its bytes), and another Detail brings them back;
// the other clients' views do not change.
func TestDetailNarrowsTheView(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := startSimRoom(t, netsim.Config{Seed: 5, Latency: 10 * time.Millisecond}, Config{}, demowire.GameConfig{})
		s.addProbes(24, false)
		s.run(2*time.Second, nil)
		coarse := func(p *probe) (n, coarser int) {
			v, _, ok := p.view()
			if !ok {
				t.Fatal("no view")
			}
			for _, e := range v.Entities {
				if e.LOD > codec.LODFull {
					coarser++
				}
			}
			return len(v.Entities), coarser
		}
		all, coarser := coarse(s.probes[0])
		if coarser == 0 {
			t.Fatalf("probe 0 sees %d entities, none below full detail: nothing to narrow", all)
		}
		detail := func(tiers uint8) {
			if err := s.probes[0].nc.SendReliable(protocol.AppendDetail(nil, &protocol.Detail{Tiers: tiers})); err != nil {
				t.Fatal(err)
			}
			s.run(time.Second, nil)
		}
		detail(1)
		n, c := coarse(s.probes[0])
		v, _, _ := s.probes[0].view()
		if c != 0 || n == 0 || v.Find(s.probes[0].ship()) < 0 {
			t.Errorf("with one tier: %d entities, %d below full detail, own ship in view: %v", n, c, v.Find(s.probes[0].ship()) >= 0)
		}
		if _, c := coarse(s.probes[1]); c == 0 {
			t.Error("another probe's view lost its coarser entities too")
		}
		detail(protocol.MaxDetail)
		if n, c := coarse(s.probes[0]); c == 0 {
			t.Errorf("all tiers again: %d entities, none below full detail", n)
		}
		checkProbes(t, s)
		s.stop()
	})
}

// MaxViewEntities coarsens crowded views: the coarsest tiers leave first,
// so each client's view fits the bound or holds full detail alone (from
// the snapshot after the crowd formed), and every client still sees its
// own ship.
func TestCrowdCoarsensViews(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const most = 12
		s := startSimRoom(t, netsim.Config{Seed: 6, Latency: 10 * time.Millisecond}, Config{MaxViewEntities: most}, demowire.GameConfig{})
		s.addProbes(24, false)
		s.run(2*time.Second, steer(s, 50))
		s.run(time.Second, nil)
		checkProbes(t, s)
		for i, p := range s.probes {
			v, _, ok := p.view()
			if !ok {
				continue // checkProbes said so
			}
			coarse := 0
			for _, e := range v.Entities {
				if e.LOD > codec.LODFull {
					coarse++
				}
			}
			if len(v.Entities) > most && coarse > 0 {
				t.Errorf("probe %d: %d entities, %d of them below full detail, over the bound of %d", i, len(v.Entities), coarse, most)
			}
		}
		st := s.room.Stats()
		s.stop()
		if st.CrowdCoarsened == 0 {
			t.Error("no view coarsened: the crowd did not reach the bound")
		}
	})
}
