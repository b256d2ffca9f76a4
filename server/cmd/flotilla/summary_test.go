package main

import (
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/server"
)

var (
	tickBounds = []float64{0.001, 0.0025, 0.005}
	snapBounds = []float64{64, 192, 384, 1200}
)

func TestSummaryLine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := sample{at: t0,
		stats: server.StatsSnapshot{
			Clients:       150,
			TickSeconds:   server.HistogramSnapshot{Bounds: tickBounds, Counts: []uint64{10, 0, 0, 0}, Count: 10},
			SnapshotBytes: server.HistogramSnapshot{Bounds: snapBounds, Counts: []uint64{100, 0, 0, 0, 0}, Count: 100},
			DesyncReports: 1,
		},
		net: netcode.Stats{TxBytes: 1000, RxBytes: 500},
	}
	prev.net.Drops[netcode.DropStale] = 4
	cur := prev
	cur.at = t0.Add(2 * time.Second)
	cur.stats.Clients = 200
	// In the interval: 100 ticks, 98 within 1 ms and 2 within 2.5 ms; 200
	// snapshots, 100 of at most 192 bytes and 100 of at most 384.
	cur.stats.TickSeconds = server.HistogramSnapshot{Bounds: tickBounds, Counts: []uint64{108, 2, 0, 0}, Count: 110}
	cur.stats.SnapshotBytes = server.HistogramSnapshot{Bounds: snapBounds, Counts: []uint64{100, 100, 100, 0, 0}, Count: 300}
	cur.stats.DesyncReports, cur.stats.DesyncPermanent = 3, 1
	cur.net = netcode.Stats{TxBytes: 1000 + 246800, RxBytes: 500 + 1500}
	cur.net.Drops[netcode.DropStale] = 5
	cur.net.Drops[netcode.DropShort] = 2

	got := summaryLine(3*time.Second+40*time.Millisecond, prev, cur)
	want := "t=3s clients=200 tick_p99<=2.5ms out=123.4kB/s in=750B/s snapshot_bytes p50<=192 p99<=384 drops=3 desyncs=3 (permanent 1)"
	if got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}

func TestSummaryLineEdges(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	empty := func(b []float64) server.HistogramSnapshot {
		return server.HistogramSnapshot{Bounds: b, Counts: make([]uint64, len(b)+1)}
	}
	prev := sample{at: t0, stats: server.StatsSnapshot{TickSeconds: empty(tickBounds), SnapshotBytes: empty(snapBounds)}}
	cur := prev
	cur.at = t0.Add(time.Second)
	// Nothing happened: no quantiles.
	if got, want := summaryLine(time.Second, prev, cur),
		"t=1s clients=0 tick_p99=- out=0B/s in=0B/s snapshot_bytes p50=- p99=- drops=0 desyncs=0 (permanent 0)"; got != want {
		t.Errorf("idle summary\n got %s\nwant %s", got, want)
	}
	// Everything above the last bucket; megabytes of egress.
	cur.stats.TickSeconds = server.HistogramSnapshot{Bounds: tickBounds, Counts: []uint64{0, 0, 0, 5}, Count: 5}
	cur.stats.SnapshotBytes = server.HistogramSnapshot{Bounds: snapBounds, Counts: []uint64{0, 0, 0, 0, 9}, Count: 9}
	cur.net.TxBytes = 12_345_678
	if got, want := summaryLine(75*time.Second+400*time.Millisecond, prev, cur),
		"t=1m15s clients=0 tick_p99>5ms out=12.3MB/s in=0B/s snapshot_bytes p50>1200 p99>1200 drops=0 desyncs=0 (permanent 0)"; got != want {
		t.Errorf("overflow summary\n got %s\nwant %s", got, want)
	}
}
