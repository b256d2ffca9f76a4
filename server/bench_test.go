package server

import (
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// loadRig is a room driven by hand (no Run loop) with n blind probes on a
// lossless simulated network in real time: the benchmark owns the room's
// goroutine and times Tick alone.
type loadRig struct {
	room    *Room
	udp     *UDP
	probes  []*probe
	tick    int
	workers []*worker               // all the room's workers; a tick may use a prefix
	ticks   map[int][]time.Duration // the timed ticks, by the workers they used
}

func newLoadRig(tb testing.TB, n int) *loadRig { return newLoadRigCfg(tb, n, Config{}) }

// newLoadRigCfg is newLoadRig with cfg's MaxViewEntities and Workers.
func newLoadRigCfg(tb testing.TB, n int, cfg Config) *loadRig {
	tb.Helper()
	net := netsim.New(netsim.Config{Seed: 9, MaxPending: 1 << 20, RecvBuffer: 1 << 16})
	conn, err := net.Listen(roomAddr)
	if err != nil {
		tb.Fatal(err)
	}
	// Setting up thousands of clients takes the room longer than its
	// proof and ack timeouts allow a real client: this is a benchmark of
	// the tick, not of admission.
	room, udp, _ := newDemoRoom(tb, conn, Config{MaxClients: n, MaxUnproven: n, MaxUnprovenPerAddr: n,
		ProofTimeout: time.Hour, AckTimeout: time.Hour, MaxViewEntities: cfg.MaxViewEntities, Workers: cfg.Workers}, demowire.GameConfig{})
	tb.Cleanup(room.Close) // ends the workers' goroutines
	g := &loadRig{room: room, udp: udp, workers: room.workers, ticks: map[int][]time.Duration{}}
	for i := range n {
		c, err := net.Listen(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 2000))
		if err != nil {
			tb.Fatal(err)
		}
		g.probes = append(g.probes, newProbe(tb, c, roomAddr, true))
	}
	deadline := time.Now().Add(10 * time.Minute)
	// Clients join once they acknowledge a proof snapshot, which the
	// tick sends.
	for room.Stats().Clients < int64(n) {
		if time.Now().After(deadline) {
			st := room.Stats()
			tb.Fatalf("%d of %d clients connected (%d unproven, %d proofs sent, sent away %v)", st.Clients, n, st.Unproven, st.Proofs, st.SentAway)
		}
		// Drain more than a tick's worth: a server poll reads at most
		// 1,024 datagrams, and thousands of handshakes wait.
		for range 8 {
			g.pump()
		}
		room.Tick()
	}
	return g
}

// pump lets the probes and the room exchange what is waiting.
func (g *loadRig) pump() {
	now := time.Now()
	for range 2 {
		if _, err := g.room.Poll(now); err != nil {
			panic(err)
		}
		for _, p := range g.probes {
			if _, err := p.nc.Poll(now); err != nil {
				panic(err)
			}
		}
	}
}

// step is one frame of load: every probe steers about once a second (a
// thrust and a turn), the room receives, and the room ticks.
func (g *loadRig) step(b *testing.B) {
	g.tick++
	for i, p := range g.probes {
		if (g.tick+i)%30 == 0 {
			if ship := p.ship(); ship != 0 {
				p.act(fleet.KindThrust, [4]int32{int32(30 + i%90), 0, 0, int32(ship)})
				p.act(fleet.KindTurn, [4]int32{int32((g.tick*7919 + i*104729) % 65536), 0, 0, int32(ship)})
			}
		}
	}
	// A poll reads at most 1,024 datagrams: thousands of clients' acks
	// need several a tick.
	for range 1 + len(g.probes)/1000 {
		g.pump()
	}
	// Timed ticks alternate between one worker and all of them, so that
	// both see the same world and the same noise.
	w := len(g.workers)
	if b != nil && g.tick%2 == 1 {
		w = 1
	}
	g.room.workers = g.workers[:w]
	if b != nil {
		b.StartTimer()
	}
	start := time.Now()
	g.room.Tick()
	g.udp.net.Flush()
	if b != nil {
		b.StopTimer()
		g.ticks[w] = append(g.ticks[w], time.Since(start))
	}
}

// BenchmarkTick: one server frame (actions, step, snapshots for the due
// clients, the sends) with n connected clients steering their ships.
// Timed ticks alternate between one snapshot worker and GOMAXPROCS of
// them (w1, w2 on a 2-core machine; ns/op is the mean of both). Reported:
// per worker count the mean and p99 tick in ms (run -benchtime 60x or
// more for the p99 to mean something) and the µs of tick per snapshot
// sent, and per snapshot datagram the UDP payload bytes at p50 and p99.
func BenchmarkTick(b *testing.B) {
	for _, tc := range []struct{ n, maxView int }{{250, 0}, {400, 0}, {1000, 0}, {1000, 256}, {5000, 0}, {5000, 256}} {
		name := fmt.Sprintf("clients=%d", tc.n)
		if tc.maxView > 0 {
			name += fmt.Sprintf("/max-view=%d", tc.maxView)
		}
		b.Run(name, func(b *testing.B) {
			g := newLoadRigCfg(b, tc.n, Config{MaxViewEntities: tc.maxView})
			for range 90 { // three seconds of game: ships spread out
				g.step(nil)
			}
			for _, p := range g.probes {
				p.sizes = p.sizes[:0]
			}
			before := g.room.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			b.StopTimer()
			for range b.N {
				g.step(b)
			}
			after := g.room.Stats()
			sends := after.Fulls + after.Deltas + after.Heartbeats - before.Fulls - before.Deltas - before.Heartbeats
			for w, ts := range g.ticks {
				if len(ts) == 0 {
					continue
				}
				var sum time.Duration
				for _, d := range ts {
					sum += d
				}
				slices.Sort(ts)
				mean := float64(sum) / float64(len(ts))
				b.ReportMetric(mean/1e6, fmt.Sprintf("ms/tick-w%d", w))
				b.ReportMetric(float64(ts[len(ts)*99/100])/1e6, fmt.Sprintf("ms/tick-p99-w%d", w))
				// Snapshots split evenly between the two kinds of tick.
				b.ReportMetric(float64(sum)/1e3/(float64(max(sends, 1))*float64(len(ts))/float64(b.N)), fmt.Sprintf("µs/snap-w%d", w))
			}
			var sizes []int
			for _, p := range g.probes {
				sizes = append(sizes, p.sizes...)
			}
			slices.Sort(sizes)
			if len(sizes) > 0 {
				b.ReportMetric(float64(sizes[len(sizes)/2]), "B/snap-p50")
				b.ReportMetric(float64(sizes[len(sizes)*99/100]), "B/snap-p99")
			}
			b.ReportMetric(float64(after.Prioritized-before.Prioritized)/float64(max(sends, 1)), "prioritized/snap")
			b.ReportMetric(float64(after.EncodesShared-before.EncodesShared)/float64(max(sends, 1)), "shared/snap")
			if tc.maxView > 0 {
				b.ReportMetric(float64(after.CrowdCoarsened-before.CrowdCoarsened)/float64(max(sends, 1)), "coarsened/snap")
			}
		})
	}
}

// BenchmarkRoomMemory reports the heap the room holds for 1,000 connected
// clients after five seconds of play: sessions (KCP included), client
// state, snapshot histories and the world; and what it still holds 5 s
// after the crowd left. The probes' own memory is taken out by measuring
// again once the room is gone.
func BenchmarkRoomMemory(b *testing.B) {
	const n = 1000
	for range b.N {
		g := newLoadRig(b, n)
		for range 150 {
			g.step(nil)
		}
		with := heapInUse()
		st := g.room.Stats()
		// The crowd leaves; the room runs on empty for 5 s.
		for _, p := range g.probes {
			p.nc.Close(time.Now())
		}
		for range 150 {
			g.pump()
			g.room.Tick()
		}
		if c := g.room.Stats().Clients; c != 0 {
			b.Fatalf("%d clients left after the crowd closed", c)
		}
		left := heapInUse()
		g.room.shutdown(time.Now())
		g.room, g.udp = nil, nil // the transport holds the room too
		without := heapInUse()
		// A fresh room with no client, for scale.
		net := netsim.New(netsim.Config{Seed: 10})
		conn, err := net.Listen(roomAddr)
		if err != nil {
			b.Fatal(err)
		}
		fresh, freshUDP, _ := newDemoRoom(b, conn, Config{}, demowire.GameConfig{})
		fresh.Tick()
		empty := heapInUse()
		runtime.KeepAlive(fresh)
		runtime.KeepAlive(freshUDP)
		b.ReportMetric(float64(with-without)/1e6, "MB/1000clients")
		b.ReportMetric(float64(left-without)/1e6, "MB-kept-after-leave")
		b.ReportMetric(float64(empty-without)/1e6, "MB-fresh-room")
		b.ReportMetric(float64(st.LiveKnowns), "live-knowns")
		b.ReportMetric(float64(st.StoredStates), "stored-states")
		b.ReportMetric(float64(st.LiveStores), "state-stores")
		runtime.KeepAlive(g.probes)
	}
}

func heapInUse() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// The tick allocates nothing in steady state (bar a pooled view growing): 200 clients whose ships fly
// on after steering, the room's step, views, encodings, prioritized
// snapshots and sends. (Each action's result is a reliable message, and
// kcp-go allocates per message: netcode's TestReliablePathAllocations.)
func TestTickAllocatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("sets up 200 clients")
	}
	g := newLoadRig(t, 200)
	for range 300 {
		g.step(nil)
	}
	for range 30 { // the last results go out; the caches reach their size
		g.pump()
		g.room.Tick()
	}
	var ms runtime.MemStats
	var before, after uint64
	for range 60 {
		g.pump()
		runtime.ReadMemStats(&ms)
		before = ms.Mallocs
		g.room.Tick()
		runtime.ReadMemStats(&ms)
		after += ms.Mallocs - before
	}
	// A pooled view may still grow to a crowd larger than any it held, a
	// shared view be made for a phase's focus the pool has no view for,
	// and a known be made for a size class whose idle ones are all in use
	// (knowns live for several ticks in histories; states.go): amortized,
	// like a slice's append, 20 to 90 in 60 ticks here, as the world
	// differs from run to run. An allocation per client, per entity or per
	// encoding would be thousands (200 clients get 8,000 snapshots in 60
	// ticks).
	if after > 120 {
		t.Errorf("%d allocations in 60 ticks of 200 clients, want at most two a tick (pools growing)", after)
	}
	t.Logf("%d allocations in 60 ticks of 200 clients", after)
}
