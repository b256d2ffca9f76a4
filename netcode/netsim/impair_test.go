package netsim

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

func TestLossRate(t *testing.T) {
	const count, p = 20_000, 0.2
	for _, seed := range []uint64{1, 2, 3} {
		synctest.Test(t, func(t *testing.T) {
			got, st := run(t, New(Config{Seed: seed, Loss: p}), count, 10*time.Microsecond, 16, time.Millisecond)
			if !within(st.Lost, count, p, 5) {
				t.Errorf("seed %d: lost %d of %d, want %v±5σ", seed, st.Lost, count, p)
			}
			if uint64(len(got)) != count-st.Lost {
				t.Errorf("seed %d: received %d, want %d", seed, len(got), count-st.Lost)
			}
		})
	}
}

func TestDuplicateRate(t *testing.T) {
	const count, p = 20_000, 0.1
	synctest.Test(t, func(t *testing.T) {
		got, st := run(t, New(Config{Seed: 5, Duplicate: p, Latency: time.Millisecond, Jitter: time.Millisecond}),
			count, 10*time.Microsecond, 16, 10*time.Millisecond)
		if !within(st.Duplicated, count, p, 5) {
			t.Errorf("duplicated %d of %d, want %v±5σ", st.Duplicated, count, p)
		}
		seen := make(map[uint32]int)
		for _, a := range got {
			seen[a.seq]++
		}
		twice := 0
		for _, k := range seen {
			if k == 2 {
				twice++
			} else if k != 1 {
				t.Fatalf("a datagram arrived %d times", k)
			}
		}
		if len(seen) != count || uint64(twice) != st.Duplicated {
			t.Errorf("%d distinct, %d twice; link says %d duplicated", len(seen), twice, st.Duplicated)
		}
	})
}

// TestReorderHoldsBack checks the documented meaning of Reorder: a held-back
// datagram arrives ReorderDelay late and everything sent soon after it
// overtakes it.
func TestReorderHoldsBack(t *testing.T) {
	const count, p = 20_000, 0.1
	const latency = 20 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		got, st := run(t, New(Config{Seed: 9, Latency: latency, Reorder: p}), count, time.Millisecond, 16, time.Second)
		if !within(st.Reordered, count, p, 5) {
			t.Errorf("reordered %d of %d, want %v±5σ", st.Reordered, count, p)
		}
		late, held := 0, 0
		var newest uint32
		for i, a := range got {
			switch a.delay() {
			case latency:
			case 2 * latency: // default ReorderDelay: max(Latency, 1ms) + 2*Jitter
				held++
			default:
				t.Fatalf("seq %d took %v", a.seq, a.delay())
			}
			if i > 0 && a.seq < newest {
				late++
			}
			newest = max(newest, a.seq)
		}
		if uint64(held) != st.Reordered {
			t.Errorf("%d held back, link says %d", held, st.Reordered)
		}
		// Only a hold-back among the last datagrams sent can go un-overtaken.
		if late > held || late < held-3 {
			t.Errorf("%d arrived after a later datagram, %d held back", late, held)
		}
	})
}

func TestLatencyJitterBounds(t *testing.T) {
	const lat, jit, hold = 50 * time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Seed: 3, Latency: lat, Jitter: jit, Reorder: 0.05, ReorderDelay: hold, Duplicate: 0.05})
		got, st := run(t, n, 20_000, 100*time.Microsecond, 16, time.Second)
		if uint64(len(got)) != st.Sent+st.Duplicated {
			t.Fatalf("received %d of %d+%d", len(got), st.Sent, st.Duplicated)
		}
		lo, hi := time.Hour, time.Duration(0)
		var sum time.Duration
		plain := 0
		for _, a := range got {
			d := a.delay()
			switch {
			case d >= lat-jit && d <= lat+jit:
				lo, hi = min(lo, d), max(hi, d)
				sum += d
				plain++
			case d >= lat-jit+hold && d <= lat+jit+hold:
			default:
				t.Fatalf("seq %d took %v, outside %v±%v (+%v if held back)", a.seq, d, lat, jit, hold)
			}
		}
		// Uniform over the whole ±jitter range, centred on the latency.
		if lo > lat-jit+time.Millisecond || hi < lat+jit-time.Millisecond {
			t.Errorf("delays span [%v, %v], want close to [%v, %v]", lo, hi, lat-jit, lat+jit)
		}
		if mean := sum / time.Duration(plain); mean < lat-time.Millisecond || mean > lat+time.Millisecond {
			t.Errorf("mean delay %v, want %v", mean, lat)
		}
	})
}

func TestBandwidthCap(t *testing.T) {
	const capBps, size, lat = 100_000, 1000, 10 * time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Seed: 1, Latency: lat, BandwidthBps: capBps})
		// Offer 150% of the cap for 5 s.
		got, st := run(t, n, 750, time.Second/150, size, time.Second)
		if st.BandwidthDropped == 0 {
			t.Fatalf("offered 150%% of the cap and nothing was dropped: %+v", st)
		}
		// Any one-second window carries at most the cap plus the one datagram
		// whose serialisation straddles the window's start.
		for i := range got {
			bytes, j := 0, i
			for ; j < len(got) && got[j].at < got[i].at+time.Second; j++ {
				bytes += got[j].n
			}
			if bytes > capBps+size {
				t.Fatalf("%d bytes delivered in the second from %v", bytes, got[i].at)
			}
		}
		// Saturated, the link runs at the cap.
		bytes := 0
		for _, a := range got {
			if a.at >= time.Second && a.at < 5*time.Second {
				bytes += a.n
			}
		}
		if bytes < 4*capBps*95/100 {
			t.Errorf("%d bytes in 4 saturated seconds, want about %d", bytes, 4*capBps)
		}
		// The queue in front of the cap holds DefaultBufferDelay of traffic.
		for _, a := range got {
			if d := a.delay(); d > lat+DefaultBufferDelay+2*time.Duration(size)*time.Second/capBps {
				t.Fatalf("seq %d queued %v", a.seq, d)
			}
		}
	})
}

func TestQueueLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Latency: 100 * time.Millisecond, QueueLimit: 10})
		a, b := listen(t, n, addrA), listen(t, n, addrB)
		out := batch.NewBuffers(25)
		for i := range out {
			stamp(&out[i], addrB, uint32(i), 0, 16)
		}
		if k, err := a.WriteBatch(out); k != 25 || err != nil {
			t.Fatalf("WriteBatch = %d, %v; a queue drop is not a refusal", k, err)
		}
		if st := n.LinkStats(addrA, addrB); st.Delivered != 10 || st.QueueDropped != 15 {
			t.Fatalf("%+v, want 10 delivered, 15 queue-dropped", st)
		}
		ds := batch.NewBuffers(64)
		if k, _ := b.ReadBatch(ds, time.Time{}); k != 10 || ds[0].Buf[0] != 0 || ds[9].Buf[0] != 9 {
			t.Fatalf("read %d, first %d, last %d", k, ds[0].Buf[0], ds[9].Buf[0])
		}
		// Delivered copies leave the queue: the link takes 10 more.
		a.WriteBatch(out)
		if st := n.LinkStats(addrA, addrB); st.Delivered != 20 {
			t.Fatalf("after delivery: %+v", st)
		}
	})
}

func TestRecvBufferOverflow(t *testing.T) {
	n := New(Config{RecvBuffer: 5})
	a, b := listen(t, n, addrA), listen(t, n, addrB)
	out := batch.NewBuffers(8)
	for i := range out {
		stamp(&out[i], addrB, uint32(i), 0, 16)
	}
	a.WriteBatch(out)
	ds := batch.NewBuffers(16)
	k, err := b.ReadBatch(ds, time.Time{})
	if k != 5 || err != nil || ds[4].Buf[0] != 4 {
		t.Fatalf("ReadBatch = %d, %v; want the first 5", k, err)
	}
	if st := b.Stats(); st.RxDropped != 3 || st.RxDatagrams != 5 {
		t.Fatalf("%+v, want 3 dropped by the full receive buffer", st)
	}
}

func TestPoolBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := New(Config{Latency: time.Millisecond, MaxPending: 4})
		a, b := listen(t, n, addrA), listen(t, n, addrB)
		out := batch.NewBuffers(6)
		for i := range out {
			stamp(&out[i], addrB, uint32(i), 0, 16)
		}
		a.WriteBatch(out)
		if st := n.LinkStats(addrA, addrB); st.Delivered != 4 || st.PoolDropped != 2 {
			t.Fatalf("%+v, want 4 delivered, 2 pool-dropped", st)
		}
		ds := batch.NewBuffers(8)
		if k, _ := b.ReadBatch(ds, time.Time{}); k != 4 {
			t.Fatalf("read %d", k)
		}
		// Read copies return to the pool.
		a.WriteBatch(out[:4])
		if st := n.LinkStats(addrA, addrB); st.Delivered != 8 {
			t.Fatalf("after reading: %+v", st)
		}
	})
}

// exchanged sends one datagram each way between a and b and reports which
// arrived.
func exchanged(t *testing.T, a, b *Endpoint) (ab, ba bool) {
	t.Helper()
	out := batch.NewBuffers(1)
	ds := batch.NewBuffers(4)
	stamp(&out[0], b.LocalAddr(), 0, 0, 8)
	a.WriteBatch(out)
	stamp(&out[0], a.LocalAddr(), 0, 0, 8)
	b.WriteBatch(out)
	kb, _ := b.ReadBatch(ds, time.Now().Add(-1))
	ka, _ := a.ReadBatch(ds, time.Now().Add(-1))
	return kb == 1, ka == 1
}

func TestPartitionAndSetLink(t *testing.T) {
	n := New(Config{})
	a, b := listen(t, n, addrA), listen(t, n, addrB)
	n.Partition(addrA, addrB)
	if ab, ba := exchanged(t, a, b); ab || ba {
		t.Fatalf("partitioned, yet a->b %v, b->a %v", ab, ba)
	}
	if n.LinkStats(addrA, addrB).Cut != 1 || n.LinkStats(addrB, addrA).Cut != 1 || !n.Link(addrA, addrB).Down {
		t.Fatal("partition not counted as Cut")
	}
	n.Heal(addrA, addrB)
	if ab, ba := exchanged(t, a, b); !ab || !ba {
		t.Fatalf("healed, yet a->b %v, b->a %v", ab, ba)
	}
	// One direction lossy, the other clean.
	n.SetLink(addrA, addrB, LinkConfig{Loss: 1})
	if ab, ba := exchanged(t, a, b); ab || !ba {
		t.Fatalf("a->b lossy: a->b %v, b->a %v", ab, ba)
	}
	if n.Link(addrA, addrB).Loss != 1 || n.Link(addrB, addrA).Loss != 0 {
		t.Fatal("Link does not report SetLink's config")
	}
}

func TestIsolateDeadPeer(t *testing.T) {
	n := New(Config{})
	a, b, c := listen(t, n, addrA), listen(t, n, addrB), listen(t, n, addrC)
	n.Isolate(addrB)
	if ab, ba := exchanged(t, a, b); ab || ba {
		t.Fatalf("b isolated, yet a->b %v, b->a %v", ab, ba)
	}
	if ac, ca := exchanged(t, a, c); !ac || !ca {
		t.Fatalf("isolating b cut a<->c: %v %v", ac, ca)
	}
	n.Rejoin(addrB)
	if ab, ba := exchanged(t, a, b); !ab || !ba {
		t.Fatalf("b rejoined, yet a->b %v, b->a %v", ab, ba)
	}
	if st := n.Totals(); st.Cut != 2 || st.Delivered != 4 {
		t.Fatalf("totals %+v", st)
	}
}

// TestDeafEndpointHoldsLittle: an endpoint that never reads keeps at most
// RecvBuffer copies, so it cannot drain the network's pool.
func TestDeafEndpointHoldsLittle(t *testing.T) {
	n := New(Config{RecvBuffer: 5, MaxPending: 20})
	a, b := listen(t, n, addrA), listen(t, n, addrB)
	out := batch.NewBuffers(10)
	for i := range out {
		stamp(&out[i], addrB, uint32(i), 0, 16)
	}
	for range 10 {
		a.WriteBatch(out)
	}
	if st := n.LinkStats(addrA, addrB); st.PoolDropped != 0 || st.Delivered != 100 {
		t.Fatalf("%+v, want all 100 handed over", st)
	}
	if k, _ := b.ReadBatch(batch.NewBuffers(16), time.Now()); k != 5 {
		t.Fatalf("read %d, want the 5 that fit", k)
	}
	if st := b.Stats(); st.RxDropped != 95 {
		t.Fatalf("%+v, want 95 dropped by the receive buffer", st)
	}
}
