package netsim

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// pair returns a warmed-up a->b link with batches of size datagrams ready
// to send and to read into.
func pair(t testing.TB, cfg Config, size int) (a, b *Endpoint, out, in []batch.Datagram) {
	n := New(cfg)
	a, b = listen(t, n, addrA), listen(t, n, addrB)
	out, in = batch.NewBuffers(size), batch.NewBuffers(size)
	for i := range out {
		stamp(&out[i], addrB, uint32(i), 0, 200)
	}
	return a, b, out, in
}

// TestNoAllocsPerDatagram: once the pool and queues have grown, sending and
// receiving allocate nothing, with no delay (poll) and with a delay the
// reader sleeps through (timer) alike.
func TestNoAllocsPerDatagram(t *testing.T) {
	a, b, out, in := pair(t, Config{Loss: 0.1, Duplicate: 0.1, Jitter: 0}, 64)
	step := func() {
		a.WriteBatch(out)
		for k := 1; k > 0; {
			k, _ = b.ReadBatch(in, time.Now().Add(-1))
		}
	}
	step()
	if allocs := testing.AllocsPerRun(100, step); allocs != 0 {
		t.Errorf("zero delay: %v allocations per 64-datagram round", allocs)
	}

	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Reorder: 0.1, BandwidthBps: 10_000_000}
		a, b, out, in := pair(t, cfg, 64)
		step := func() {
			a.WriteBatch(out)
			for got := 0; got < len(out); {
				k, _ := b.ReadBatch(in, time.Time{})
				got += k
			}
		}
		step()
		if allocs := testing.AllocsPerRun(100, step); allocs != 0 {
			t.Errorf("with delay: %v allocations per 64-datagram round", allocs)
		}
	})
}

// BenchmarkWriteReadBatch moves 64-datagram batches of 200 bytes across a
// zero-delay link; ns/op is per batch.
func BenchmarkWriteReadBatch(b *testing.B) {
	a, r, out, in := pair(b, Config{}, 64)
	b.ReportAllocs()
	b.SetBytes(64 * 200)
	for b.Loop() {
		a.WriteBatch(out)
		r.ReadBatch(in, time.Time{})
	}
}

// BenchmarkImpairedLink is the same over a link that draws every fate.
func BenchmarkImpairedLink(b *testing.B) {
	a, r, out, in := pair(b, Config{Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Jitter: time.Microsecond}, 64)
	b.ReportAllocs()
	b.SetBytes(64 * 200)
	past := time.Now()
	for b.Loop() {
		a.WriteBatch(out)
		for k := 1; k > 0; {
			k, _ = r.ReadBatch(in, past)
		}
	}
}
