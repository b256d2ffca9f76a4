package server

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// workersRun drives a room by hand on a fixed clock, with n in-memory
// clients that rebuild and acknowledge every snapshot (the codec checks
// each checksum) and steer, for ticks frames, and returns per client the
// hash of every snapshot payload it was sent, in order, and the room's
// stats.
func workersRun(t *testing.T, workers, n, ticks int) ([]uint64, StatsSnapshot) {
	t.Helper()
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	in := NewInbox(4*n+64, 1<<20)
	// A small budget: most snapshots go through the priority accumulator,
	// the per-client stage's costliest path.
	room, err := New(Config{Workers: workers, BytesPerSec: 4000, MaxClients: n}, game, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	defer room.Close()
	for _, w := range room.workers {
		// Every baseline's recorded checksum, loaded from the state
		// stores, is checked against its states.
		w.codec.VerifyBaselines(true)
	}
	now := time.Unix(1_700_000_000, 0)
	var cs []*memClient
	digests := make([]*xxhash.Digest, n)
	for i := range n {
		cs = append(cs, newMemClient(t, in, game.Schema(), fmt.Sprintf("192.0.2.%d:%d", 1+i/16, 1000+i)))
		cs[i].link.log = func(p []byte) { digests[i].Write(p) }
		digests[i] = xxhash.New()
	}
	for tick := range ticks {
		for i, c := range cs {
			c.poll()
			if c.avatar != 0 && (tick+i)%15 == 0 {
				for _, a := range []protocol.Action{
					{Seq: c.nextSeq, Kind: fleet.KindThrust, Args: [4]int32{int32(40 + i%60), 0, 0, int32(c.avatar)}},
					{Seq: c.nextSeq + 1, Kind: fleet.KindTurn, Args: [4]int32{int32((tick*7919 + i*104729) % 65536), 0, 0, int32(c.avatar)}},
				} {
					if !in.Message(c.link, protocol.AppendAction(nil, &a)) {
						t.Fatal("inbox full")
					}
				}
				c.nextSeq += 2
			}
		}
		if _, err := room.Poll(now); err != nil {
			t.Fatal(err)
		}
		room.Tick()
		now = now.Add(time.Second / DefaultTickHz)
	}
	sums := make([]uint64, n)
	for i, d := range digests {
		sums[i] = d.Sum64()
	}
	return sums, room.Stats()
}

// The bytes sent do not depend on the number of workers: every client
// gets the same snapshots, byte for byte, from 1, 2 and 3 workers.
func TestSnapshotBytesDoNotDependOnWorkers(t *testing.T) {
	const n, ticks = 64, 150
	one, st := workersRun(t, 1, n, ticks)
	if st.Clients != n || st.Prioritized == 0 || st.Deltas == 0 {
		t.Fatalf("the run proves little: %d clients, %d prioritized, %d deltas", st.Clients, st.Prioritized, st.Deltas)
	}
	t.Logf("1 worker: %d full, %d delta, %d heartbeat, %d prioritized, %d states stored again", st.Fulls, st.Deltas, st.Heartbeats, st.Prioritized, st.StatesRestored)
	for _, w := range []int{2, 3} {
		got, _ := workersRun(t, w, n, ticks)
		if !slices.Equal(got, one) {
			diff := 0
			for i := range got {
				if got[i] != one[i] {
					diff++
				}
			}
			t.Errorf("%d workers: %d of %d clients were sent other bytes than with 1", w, diff, n)
		}
	}
}

// The crowd bound's decision: coarser levels go while the view is over
// the bound, come back only well under it, and never beyond what the
// client asked for.
func TestCrowdDetail(t *testing.T) {
	tiers := [4]int32{100, 50, 50, 200} // 400 entities in all
	for _, tc := range []struct {
		d, asked uint8
		most     int
		want     uint8
	}{
		{0, 0, 500, 0},  // fits: all
		{0, 0, 300, 3},  // 400 > 300: blips go (200 left)
		{0, 0, 120, 1},  // down to full detail
		{0, 0, 50, 1},   // never below full detail
		{3, 0, 300, 3},  // 200 ≤ 300, but 400 > 225: stays
		{3, 0, 600, 0},  // 400 ≤ 450: back to all
		{1, 0, 200, 2},  // 150 ≤ 150: medium back; 200 > 150: no more
		{0, 2, 1000, 0}, // asked for 2: 0 means that
		{2, 2, 1000, 0}, // same
		{0, 2, 120, 1},  // 150 > 120
		{1, 3, 1000, 0}, // back up to what it asked for, not beyond
	} {
		if got := crowdDetail(&tiers, tc.d, tc.asked, tc.most); got != tc.want {
			t.Errorf("crowdDetail(%v, d %d, asked %d, most %d) = %d, want %d", tiers, tc.d, tc.asked, tc.most, got, tc.want)
		}
	}
}

// Each client keeps its rate, and a crowd's snapshots spread evenly over
// the ticks: at 20 Hz of 30, two thirds of the clients each tick instead
// of all of them on two ticks of three.
func TestSnapshotsSpreadOverTicks(t *testing.T) {
	for _, hz := range []int{1, 7, 10, 15, 20, 30} {
		const tickHz, n = 30, 300
		perFrame := make([]int, tickHz)
		cfg := Config{TickHz: tickHz}.WithDefaults()
		for id := 1; id <= n; id++ {
			c := &client{id: ClientID(id)}
			c.setBudget(&cfg, hz, 0)
			count := 0
			for f := range uint32(tickHz) {
				if c.snapDue(1000+f, tickHz) {
					count++
					perFrame[f]++
				}
			}
			if count != hz {
				t.Fatalf("%d Hz: client %d due %d times in a second", hz, id, count)
			}
		}
		lo, hi := slices.Min(perFrame), slices.Max(perFrame)
		if want := n * hz / tickHz; hz >= 10 && (lo < want*9/10 || hi > want*11/10) {
			t.Errorf("%d Hz: %d to %d clients due a frame, want about %d", hz, lo, hi, want)
		}
	}
}

// Closing a room while its workers build a tick neither hangs the tick
// nor the ones after it (which build on the room's goroutine alone), and
// ends the workers' goroutines.
func TestCloseDuringTicks(t *testing.T) {
	for trial := range 30 {
		game, err := demowire.NewGame(demowire.GameConfig{})
		if err != nil {
			t.Fatal(err)
		}
		in := NewInbox(1024, 1<<20)
		room, err := New(Config{Workers: 3, MaxClients: 64}, game, nil, in)
		if err != nil {
			t.Fatal(err)
		}
		var links []*viewerLink
		for i := range 48 {
			l := &viewerLink{addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 11, byte(i >> 8), byte(i)}), 1000), in: in}
			links = append(links, l)
			if !in.Arrive(l) {
				t.Fatal("inbox full")
			}
		}
		now := time.Unix(1_700_000_000, 0)
		tick := func() {
			for _, l := range links {
				l.ack()
			}
			if _, err := room.Poll(now); err != nil {
				t.Error(err)
			}
			room.Tick()
			now = now.Add(time.Second / DefaultTickHz)
		}
		for range 10 {
			tick() // the clients are proven and due: the crew works
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-room.stop:
					tick() // one more after Close, as a Poll/Tick driver may
					return
				default:
				}
				tick()
			}
		}()
		time.Sleep(time.Duration(trial%7) * 300 * time.Microsecond)
		room.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("trial %d: the ticks hung after Close", trial)
		}
	}
}
