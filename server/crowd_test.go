package server

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// crowdLink is a player's session for BenchmarkCrowd: it learns its ship
// from the join's result, acknowledges every snapshot at the next pump,
// and keeps no bytes.
type crowdLink struct {
	viewerLink
	ship uint32
}

func (l *crowdLink) SendReliable(msg []byte) error {
	var r protocol.Result
	if len(msg) > 0 && protocol.MsgType(msg[0]) == protocol.MsgResult && protocol.ParseResult(msg, &r) == nil &&
		r.Seq == 0 && r.Status == protocol.Applied {
		l.ship = r.Value
	}
	return nil
}

// BenchmarkCrowd: the road to 10,000. n players, each with a ship, in one
// world, crowded at the demo's 4 spawn points and steering once a second,
// with the crowd bound of 256 entities a view; transports are in-memory
// links that acknowledge every snapshot at once, so this is the room's
// work alone (BenchmarkTick has netcode's too, and connects too slowly for
// 10,000). Timed ticks alternate between one worker and all of them.
// Reported: per worker count the mean and p99 tick in ms and the µs of
// tick per snapshot.
func BenchmarkCrowd(b *testing.B) {
	for _, n := range []int{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("players=%d/max-view=256", n), func(b *testing.B) {
			game, err := demowire.NewGame(demowire.GameConfig{})
			if err != nil {
				b.Fatal(err)
			}
			in := NewInbox(4*n+1024, 64<<20)
			room, err := New(Config{MaxClients: n, MaxClientsPerAddr: n, MaxUnproven: n, MaxUnprovenPerAddr: n,
				ProofTimeout: time.Hour, AckTimeout: time.Hour, MaxViewEntities: 256}, game, nil, in)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(room.Close)
			workers := room.workers
			now := time.Unix(1_700_000_000, 0)
			links := make([]*crowdLink, n)
			step := 0
			pump := func() {
				step++
				for i, l := range links {
					if l == nil {
						continue
					}
					l.ack()
					if l.ship != 0 && (step+i)%30 == 0 {
						for _, a := range []protocol.Action{
							{Seq: uint32(2 * step), Kind: fleet.KindThrust, Args: [4]int32{int32(30 + i%90), 0, 0, int32(l.ship)}},
							{Seq: uint32(2*step + 1), Kind: fleet.KindTurn, Args: [4]int32{int32((step*7919 + i*104729) % 65536), 0, 0, int32(l.ship)}},
						} {
							in.Message(l, protocol.AppendAction(nil, &a))
						}
					}
				}
				if _, err := room.Poll(now); err != nil {
					b.Fatal(err)
				}
			}
			for i := range links {
				l := &crowdLink{viewerLink: viewerLink{addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 12, byte(i >> 8), byte(i)}), 1000), in: in}}
				l.self = l
				links[i] = l
				if !in.Arrive(l) {
					b.Fatal("inbox full")
				}
				if i%1000 == 999 {
					pump()
					room.Tick()
					now = now.Add(time.Second / DefaultTickHz)
				}
			}
			for range 90 { // three seconds of play
				pump()
				room.Tick()
				now = now.Add(time.Second / DefaultTickHz)
			}
			if st := room.Stats(); st.Clients != int64(n) {
				b.Fatalf("%d of %d players in the room", st.Clients, n)
			}
			ticks := map[int][]time.Duration{}
			before := room.Stats()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				pump()
				w := len(workers)
				if i%2 == 1 {
					w = 1
				}
				room.workers = workers[:w]
				b.StartTimer()
				start := time.Now()
				room.Tick()
				d := time.Since(start)
				b.StopTimer()
				now = now.Add(time.Second / DefaultTickHz)
				ticks[w] = append(ticks[w], d)
			}
			room.workers = workers
			after := room.Stats()
			sends := after.Fulls + after.Deltas + after.Heartbeats - before.Fulls - before.Deltas - before.Heartbeats
			for w, ts := range ticks {
				var sum time.Duration
				for _, d := range ts {
					sum += d
				}
				slices.Sort(ts)
				b.ReportMetric(float64(sum)/float64(len(ts))/1e6, fmt.Sprintf("ms/tick-w%d", w))
				b.ReportMetric(float64(ts[len(ts)*99/100])/1e6, fmt.Sprintf("ms/tick-p99-w%d", w))
				b.ReportMetric(float64(sum)/1e3/(float64(max(sends, 1))*float64(len(ts))/float64(b.N)), fmt.Sprintf("µs/snap-w%d", w))
			}
			b.ReportMetric(float64(sends)/float64(b.N), "snaps/tick")
			b.ReportMetric(float64(after.Prioritized-before.Prioritized)/float64(max(sends, 1)), "prioritized/snap")
		})
	}
}
