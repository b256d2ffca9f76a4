package netsim

import (
	"encoding/binary"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// impaired exercises every stage of a link at once: loss, duplicates,
// hold-backs, jitter, a cap the traffic exceeds and a queue it fills.
func impaired(seed uint64) Config {
	return Config{
		Seed:         seed,
		Latency:      30 * time.Millisecond,
		Jitter:       10 * time.Millisecond,
		Loss:         0.05,
		Duplicate:    0.05,
		Reorder:      0.05,
		BandwidthBps: 1_500_000,
		BufferBytes:  40_000,
		QueueLimit:   450,
	}
}

func schedule(t *testing.T, seed uint64) ([]arrival, LinkStats) {
	var got []arrival
	var st LinkStats
	synctest.Test(t, func(t *testing.T) {
		got, st = run(t, New(impaired(seed)), 10_000, 100*time.Microsecond, 200, time.Second)
	})
	return got, st
}

func TestSameSeedSameSchedule(t *testing.T) {
	first, st1 := schedule(t, 42)
	second, st2 := schedule(t, 42)
	if !slices.Equal(first, second) {
		t.Fatalf("same seed, different schedules: %d vs %d arrivals", len(first), len(second))
	}
	if st1 != st2 {
		t.Fatalf("same seed, different counters:\n%+v\n%+v", st1, st2)
	}
	// The run must have exercised every fate, or the comparison proves little.
	if st1.Lost == 0 || st1.Duplicated == 0 || st1.Reordered == 0 || st1.BandwidthDropped == 0 || st1.QueueDropped == 0 {
		t.Fatalf("some fate never happened: %+v", st1)
	}
	if uint64(len(first)) != st1.Delivered {
		t.Fatalf("received %d, link delivered %d", len(first), st1.Delivered)
	}
	t.Logf("10000 sent: %+v", st1)
}

func TestDifferentSeedDifferentSchedule(t *testing.T) {
	first, _ := schedule(t, 42)
	other, _ := schedule(t, 43)
	if slices.Equal(first, other) {
		t.Fatal("seeds 42 and 43 gave the same schedule")
	}
}

// fates sends count datagrams from addrA to addrB as fast as it can, in
// real time, while another goroutine optionally floods addrB from addrC on
// the same network, and returns how many copies of each sequence number
// addrB received from addrA.
func fates(t *testing.T, count int, withNeighbour bool) []int {
	n := New(Config{Seed: 7, Loss: 0.3, Duplicate: 0.2, RecvBuffer: 1 << 16, MaxPending: 1 << 17})
	a, b, c := listen(t, n, addrA), listen(t, n, addrB), listen(t, n, addrC)
	copies := make([]int, count)
	var wg sync.WaitGroup
	send := func(e *Endpoint, seqs int) {
		defer wg.Done()
		out := batch.NewBuffers(16)
		for i := 0; i < seqs; i += len(out) {
			for j := range out {
				stamp(&out[j], addrB, uint32(i+j), 0, 16)
			}
			if _, err := e.WriteBatch(out); err != nil {
				t.Error(err)
				return
			}
		}
	}
	if withNeighbour {
		wg.Add(1)
		go send(c, 2*count)
	}
	wg.Add(1)
	go send(a, count)
	wg.Wait()
	ds := batch.NewBuffers(64)
	for {
		k, err := b.ReadBatch(ds, time.Now().Add(-time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			break
		}
		for _, d := range ds[:k] {
			if d.Addr == addrA {
				copies[binary.LittleEndian.Uint32(d.Buf)]++
			}
		}
	}
	if st := b.Stats(); st.RxDropped != 0 {
		t.Fatalf("receive buffer overflowed: %+v", st)
	}
	return copies
}

// TestLinksDrawIndependently drives two links into one endpoint from two
// goroutines in real time: what happens to A's datagrams must not depend on
// C's traffic or on how the goroutines interleave.
func TestLinksDrawIndependently(t *testing.T) {
	const count = 4096
	alone := fates(t, count, false)
	for range 3 {
		crowded := fates(t, count, true)
		if !slices.Equal(alone, crowded) {
			t.Fatal("a neighbour's traffic changed the fates on another link")
		}
	}
}
