package server

import (
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// viewerLink is a spectator's session for the hot-tile benchmark: it
// acknowledges every snapshot at the next pump and notes when the room
// handed it the last one, keeping no bytes.
type viewerLink struct {
	addr netip.AddrPort
	in   *Inbox
	self Link // the Link the room knows, when a type embeds this one; nil: this
	mu   sync.Mutex
	seqs []uint16
	sent time.Time // when the newest snapshot was sent
}

func (l *viewerLink) Addr() netip.AddrPort          { return l.addr }
func (l *viewerLink) Overhead() int                 { return 16 }
func (l *viewerLink) SendReliable(msg []byte) error { return nil }
func (l *viewerLink) Close(Reason)                  { l.in.Forget(l.link()) }

func (l *viewerLink) link() Link {
	if l.self != nil {
		return l.self
	}
	return l
}

func (l *viewerLink) SendSnapshot(seq uint16, _ []byte) error {
	l.mu.Lock()
	l.seqs = append(l.seqs, seq)
	l.sent = time.Now()
	l.mu.Unlock()
	return nil
}

// ack acknowledges what was sent since the last call.
func (l *viewerLink) ack() {
	l.mu.Lock()
	seqs := l.seqs
	l.seqs = l.seqs[:0]
	l.mu.Unlock()
	for _, s := range seqs {
		l.in.Acked(l.link(), s)
	}
}

// BenchmarkHotTile: the worst case of a famous battle, as the issue puts
// it. n spectators watch the same 7 tiles (the centre and its ring) where
// 200 ships fight: the demo game gives the first 200 clients a ship each
// and the others none, so they watch the centre of the world, and the
// fighters spawn within its rings. Transports are in-memory links that
// acknowledge each snapshot at once: this measures the room's fan-out,
// not a network. Reported per tick: the mean and p99 in ms, and from the
// tick's start (when the world changes) to the room handing the last due
// spectator its snapshot, the p99 in ms ("change to last datagram"; the
// transport's own write comes after it). The allocations reported are the
// fighters' in-memory links copying each snapshot and result they get.
func BenchmarkHotTile(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			const fighters = 200
			game, err := demowire.NewGame(demowire.GameConfig{Fleet: fleet.Config{MaxShips: fighters}})
			if err != nil {
				b.Fatal(err)
			}
			total := n + fighters
			in := NewInbox(4*total+1024, 64<<20)
			room, err := New(Config{MaxClients: total, MaxClientsPerAddr: total, MaxUnproven: total, MaxUnprovenPerAddr: total,
				ProofTimeout: time.Hour, AckTimeout: time.Hour}, game, nil, in)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(room.Close)
			now := time.Unix(1_700_000_000, 0)
			tick := func() {
				if _, err := room.Poll(now); err != nil {
					b.Fatal(err)
				}
				room.Tick()
				now = now.Add(time.Second / DefaultTickHz)
			}
			var fs []*memClient
			for i := range fighters {
				fs = append(fs, newMemClient(b, in, game.Schema(), fmt.Sprintf("10.9.%d.%d:1000", i>>8, i&255)))
				if i%100 == 99 {
					tick() // the Inbox holds a bounded number of arrivals
				}
			}
			tick()
			for _, f := range fs {
				f.poll() // the proof acknowledged: each gets its ship
			}
			viewers := make([]*viewerLink, n)
			for i := range viewers {
				l := &viewerLink{addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 10, byte(i >> 8), byte(i)}), 1000), in: in}
				viewers[i] = l
				if !in.Arrive(l) {
					b.Fatal("inbox full")
				}
				if i%1000 == 999 {
					tick()
					for _, v := range viewers[:i+1] {
						v.ack()
					}
				}
			}
			step := 0
			play := func() {
				step++
				for i, f := range fs {
					f.poll()
					if f.avatar != 0 && (step+i)%15 == 0 {
						target := fs[(i+1+step)%fighters].avatar
						for _, a := range []protocol.Action{
							{Seq: f.nextSeq, Kind: fleet.KindThrust, Args: [4]int32{60, 0, 0, int32(f.avatar)}},
							{Seq: f.nextSeq + 1, Kind: fleet.KindTurn, Args: [4]int32{int32((step*7919 + i*104729) % 65536), 0, 0, int32(f.avatar)}},
							{Seq: f.nextSeq + 2, Kind: fleet.KindFire, Args: [4]int32{int32(fleet.CardLaser), int32(target), 0, int32(f.avatar)}},
						} {
							in.Message(f.link, protocol.AppendAction(nil, &a))
						}
						f.nextSeq += 3
					}
				}
				for _, v := range viewers {
					v.ack()
				}
			}
			for range 90 { // three seconds of battle
				play()
				tick()
			}
			if st := room.Stats(); st.Clients != int64(total) {
				b.Fatalf("%d of %d clients in the room", st.Clients, total)
			}
			before := room.Stats()
			var ticks, lasts []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				play()
				if _, err := room.Poll(now); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				room.Tick()
				end := time.Now()
				b.StopTimer()
				now = now.Add(time.Second / DefaultTickHz)
				ticks = append(ticks, end.Sub(start))
				var last time.Time
				for _, v := range viewers {
					if v.sent.After(last) {
						last = v.sent
					}
				}
				if last.After(start) {
					lasts = append(lasts, last.Sub(start))
				}
			}
			after := room.Stats()
			sends := after.Fulls + after.Deltas + after.Heartbeats - before.Fulls - before.Deltas - before.Heartbeats
			p99 := func(ds []time.Duration) float64 {
				if len(ds) == 0 {
					return 0
				}
				slices.Sort(ds)
				return float64(ds[len(ds)*99/100]) / 1e6
			}
			var sum time.Duration
			for _, d := range ticks {
				sum += d
			}
			b.ReportMetric(float64(sum)/float64(len(ticks))/1e6, "ms/tick")
			b.ReportMetric(p99(ticks), "ms/tick-p99")
			b.ReportMetric(p99(lasts), "ms/change-to-last-p99")
			b.ReportMetric(float64(sends)/float64(b.N), "snaps/tick")
			b.ReportMetric(float64(after.EncodesShared-before.EncodesShared)/float64(max(sends, 1)), "shared/snap")
			b.ReportMetric(float64(after.Prioritized-before.Prioritized)/float64(max(sends, 1)), "prioritized/snap")
		})
	}
}
