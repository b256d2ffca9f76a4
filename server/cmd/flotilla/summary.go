package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/server"
)

// sample is the room's counters at one instant, for the live summary.
type sample struct {
	at    time.Time
	stats server.StatsSnapshot
	net   netcode.Stats
}

// statsSource is what the summary reads; *server.Room implements it.
type statsSource interface {
	Stats() server.StatsSnapshot
	Net() netcode.Stats
}

func takeSample(r statsSource, now time.Time) sample {
	return sample{at: now, stats: r.Stats(), net: r.Net()}
}

// summaryLine formats one live summary line from two samples; elapsed is
// the time since the server started. Rates and quantiles cover the
// interval between the samples, the desync counts the whole run:
//
//	t=3s clients=200 tick_p99<=2.5ms out=123.4kB/s in=12.0kB/s snapshot_bytes p50<=192 p99<=384 drops=0 desyncs=0 (permanent 0)
//
// Quantiles are the upper bounds of the histogram buckets they fall in;
// "-" means nothing was observed in the interval.
func summaryLine(elapsed time.Duration, prev, cur sample) string {
	secs := cur.at.Sub(prev.at).Seconds()
	tick := cur.stats.TickSeconds.Since(prev.stats.TickSeconds)
	snap := cur.stats.SnapshotBytes.Since(prev.stats.SnapshotBytes)
	var drops uint64
	for i := range cur.net.Drops {
		drops += cur.net.Drops[i] - prev.net.Drops[i]
	}
	return fmt.Sprintf("t=%s clients=%d tick_p99%s out=%s in=%s snapshot_bytes p50%s p99%s drops=%d desyncs=%d (permanent %d)",
		roundElapsed(elapsed), cur.stats.Clients,
		quantile(tick, 0.99, formatSeconds),
		rate(cur.net.TxBytes-prev.net.TxBytes, secs), rate(cur.net.RxBytes-prev.net.RxBytes, secs),
		quantile(snap, 0.50, formatBytes), quantile(snap, 0.99, formatBytes),
		drops, cur.stats.DesyncReports, cur.stats.DesyncPermanent)
}

// roundElapsed keeps a tenth of a second at most.
func roundElapsed(d time.Duration) time.Duration {
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// quantile formats quantile q of h as "<=bound", ">last bound" beyond the
// last bucket, or "=-" with no observations.
func quantile(h server.HistogramSnapshot, q float64, format func(float64) string) string {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	if n == 0 {
		return "=-"
	}
	v := h.Quantile(q)
	if math.IsInf(v, 1) {
		if len(h.Bounds) == 0 {
			return "=-"
		}
		return ">" + format(h.Bounds[len(h.Bounds)-1])
	}
	return "<=" + format(v)
}

func formatSeconds(s float64) string {
	return time.Duration(math.Round(s * float64(time.Second))).String()
}

func formatBytes(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// rate formats bytes per second with an SI prefix.
func rate(bytes uint64, secs float64) string {
	if secs <= 0 {
		return "-"
	}
	r := float64(bytes) / secs
	switch {
	case r >= 1e9:
		return fmt.Sprintf("%.1fGB/s", r/1e9)
	case r >= 1e6:
		return fmt.Sprintf("%.1fMB/s", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fkB/s", r/1e3)
	}
	return fmt.Sprintf("%.0fB/s", r)
}

// printSummaries writes a summary line to w every interval until done is
// closed.
func printSummaries(w io.Writer, r statsSource, start time.Time, interval time.Duration, done <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := takeSample(r, time.Now())
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			cur := takeSample(r, now)
			fmt.Fprintln(w, summaryLine(now.Sub(start), prev, cur))
			prev = cur
		}
	}
}
