package ops

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/server/mesh"
)

// distinctStats fills every counter with a value of its own, so that a
// counter exported under the wrong name shows.
func distinctStats() (server.StatsSnapshot, netcode.Stats) {
	s := server.StatsSnapshot{
		Clients: 200, LiveViews: 31, Frame: 9000, Connects: 250, Disconnects: 50,
		Actions: 1000, Applied: 900, Fizzled: 100, Busy: 7,
		Fulls: 11, Deltas: 12, Heartbeats: 13, BudgetSkips: 14, Prioritized: 15, Deferred: 16,
		EventsDropped: 17, Encodes: 18, EncodesShared: 19, ViewsBuilt: 20,
		PrioritySkips: 23, PriceMisses: 24,
		DesyncReports: 3, DesyncPermanent: 1, BadMessages: 21, FramesSkipped: 22,
		TickSeconds: server.HistogramSnapshot{
			Bounds: []float64{0.001, 0.01, 0.1},
			Counts: []uint64{5, 3, 0, 2}, // two above every bound
			Sum:    1.5, Count: 10,
		},
		SnapshotBytes: server.HistogramSnapshot{
			Bounds: []float64{64, 256},
			Counts: []uint64{4, 6, 0},
			Sum:    1400, Count: 10,
		},
	}
	n := netcode.Stats{RxPackets: 101, RxBytes: 102, TxPackets: 103, TxBytes: 104, Connects: 250}
	n.RxByType[netcode.TypeReliable] = 40
	n.TxByType[netcode.TypeUnreliable] = 60
	n.Drops[netcode.DropStale] = 5
	n.Drops[netcode.DropShort] = 6
	n.Refused[netcode.ReasonFull] = 8
	n.Disconnects[netcode.ReasonTimeout] = 9
	n.Disconnects[netcode.ReasonShutdown] = 41
	return s, n
}

func TestCollectorExportsRoomCounters(t *testing.T) {
	s, n := distinctStats()
	mfs := gather(t, NewCollector(&fakeRoom{stats: s}, CollectorSources{Net: netOf(n)}))

	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"flotilla_clients", nil, 200},
		{"flotilla_frame", nil, 9000},
		{"flotilla_live_views", nil, 31},
		{"flotilla_net_received_packets_total", nil, 101},
		{"flotilla_net_received_bytes_total", nil, 102},
		{"flotilla_net_sent_packets_total", nil, 103},
		{"flotilla_net_sent_bytes_total", nil, 104},
		{"flotilla_net_packets_by_type_total", []string{"direction=in", "type=reliable"}, 40},
		{"flotilla_net_packets_by_type_total", []string{"direction=out", "type=unreliable"}, 60},
		{"flotilla_net_packets_by_type_total", []string{"direction=out", "type=reliable"}, 0},
		{"flotilla_net_dropped_packets_total", []string{"reason=stale"}, 5},
		{"flotilla_net_dropped_packets_total", []string{"reason=short"}, 6},
		{"flotilla_net_dropped_packets_total", []string{"reason=kcp"}, 0},
		{"flotilla_net_refused_total", []string{"reason=full"}, 8},
		{"flotilla_disconnects_total", []string{"reason=timeout"}, 9},
		{"flotilla_disconnects_total", []string{"reason=shutdown"}, 41},
		{"flotilla_connects_total", nil, 250},
		{"flotilla_snapshots_total", []string{"form=full"}, 11},
		{"flotilla_snapshots_total", []string{"form=delta"}, 12},
		{"flotilla_snapshots_total", []string{"form=heartbeat"}, 13},
		{"flotilla_actions_total", []string{"result=applied"}, 900},
		{"flotilla_actions_total", []string{"result=fizzled"}, 100},
		{"flotilla_actions_busy_total", nil, 7},
		{"flotilla_budget_skips_total", nil, 14},
		{"flotilla_prioritized_snapshots_total", nil, 15},
		{"flotilla_deferred_entity_updates_total", nil, 16},
		{"flotilla_events_dropped_total", nil, 17},
		{"flotilla_priority_skips_total", nil, 23},
		{"flotilla_price_misses_total", nil, 24},
		{"flotilla_encodes_total", nil, 18},
		{"flotilla_encodes_shared_total", nil, 19},
		{"flotilla_desync_reports_total", nil, 3},
		{"flotilla_desync_permanent_total", nil, 1},
		{"flotilla_bad_messages_total", nil, 21},
		{"flotilla_frames_skipped_total", nil, 22},
	} {
		if got := value(t, mfs, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Every drop reason is a series, named as netcode names it.
	if got := len(mfs["flotilla_net_dropped_packets_total"].GetMetric()); got != int(netcode.NumDrops) {
		t.Errorf("%d drop reasons exported, want %d", got, netcode.NumDrops)
	}
	for _, name := range []string{
		"flotilla_socket_dropped_packets_total", "flotilla_socket_truncated_packets_total",
		"flotilla_udp_kernel_drops_total", "flotilla_udp_kernel_drops_read_errors_total",
	} {
		if _, ok := mfs[name]; ok {
			t.Errorf("%s exported without a source", name)
		}
	}
}

func TestCollectorHistogramsAreCumulative(t *testing.T) {
	s, n := distinctStats()
	mfs := gather(t, NewCollector(&fakeRoom{stats: s}, CollectorSources{Net: netOf(n)}))

	for _, c := range []struct {
		name    string
		bounds  []float64
		buckets []uint64 // cumulative
		count   uint64
		sum     float64
	}{
		{"flotilla_tick_duration_seconds", []float64{0.001, 0.01, 0.1}, []uint64{5, 8, 8}, 10, 1.5},
		{"flotilla_snapshot_size_bytes", []float64{64, 256}, []uint64{4, 10}, 10, 1400},
	} {
		if typ := mfs[c.name].GetType(); typ != dto.MetricType_HISTOGRAM {
			t.Fatalf("%s is a %v", c.name, typ)
		}
		h := find(t, mfs, c.name).GetHistogram()
		if h.GetSampleCount() != c.count || h.GetSampleSum() != c.sum {
			t.Errorf("%s count %d sum %v, want %d %v", c.name, h.GetSampleCount(), h.GetSampleSum(), c.count, c.sum)
		}
		if len(h.GetBucket()) != len(c.bounds) {
			t.Fatalf("%s has %d buckets, want %d", c.name, len(h.GetBucket()), len(c.bounds))
		}
		for i, b := range h.GetBucket() {
			if b.GetUpperBound() != c.bounds[i] || b.GetCumulativeCount() != c.buckets[i] {
				t.Errorf("%s bucket %d: le=%v count %d, want le=%v count %d",
					c.name, i, b.GetUpperBound(), b.GetCumulativeCount(), c.bounds[i], c.buckets[i])
			}
		}
	}
}

// A snapshot read while the room observes may count an observation in a
// bucket but not yet in Count; the export must stay a valid histogram.
func TestCollectorHistogramCountCoversBuckets(t *testing.T) {
	h := server.HistogramSnapshot{Bounds: []float64{1, 2}, Counts: []uint64{3, 4, 1}, Sum: 12, Count: 7}
	mfs := gather(t, NewCollector(&fakeRoom{stats: server.StatsSnapshot{TickSeconds: h, SnapshotBytes: h}}, CollectorSources{}))
	got := find(t, mfs, "flotilla_tick_duration_seconds").GetHistogram()
	if got.GetSampleCount() != 8 {
		t.Errorf("count %d, want the 8 the buckets hold", got.GetSampleCount())
	}
	if last := got.GetBucket()[len(got.GetBucket())-1].GetCumulativeCount(); last > got.GetSampleCount() {
		t.Errorf("bucket count %d above the total %d", last, got.GetSampleCount())
	}
}

func TestCollectorEmptyHistograms(t *testing.T) {
	// A room that never ticked: no observations, buckets all zero.
	empty := server.HistogramSnapshot{Bounds: []float64{1, 2}, Counts: make([]uint64, 3)}
	mfs := gather(t, NewCollector(&fakeRoom{stats: server.StatsSnapshot{TickSeconds: empty, SnapshotBytes: empty}}, CollectorSources{}))
	h := find(t, mfs, "flotilla_snapshot_size_bytes").GetHistogram()
	if h.GetSampleCount() != 0 || h.GetSampleSum() != 0 || math.IsNaN(h.GetSampleSum()) {
		t.Errorf("empty histogram exported count %d sum %v", h.GetSampleCount(), h.GetSampleSum())
	}
}

func TestCollectorSocketCounters(t *testing.T) {
	s, n := distinctStats()
	sock := func() batch.Stats { return batch.Stats{RxDropped: 70, TxDropped: 71, RxTruncated: 72} }
	mfs := gather(t, NewCollector(&fakeRoom{stats: s}, CollectorSources{Net: netOf(n), Socket: sock}))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"flotilla_socket_dropped_packets_total", []string{"direction=in"}, 70},
		{"flotilla_socket_dropped_packets_total", []string{"direction=out"}, 71},
		{"flotilla_socket_truncated_packets_total", nil, 72},
	} {
		if got := value(t, mfs, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestCollectorKernelDrops(t *testing.T) {
	kernel := &fakeKernelDrops{drops: 11732}
	c := NewCollector(&fakeRoom{}, CollectorSources{KernelDrops: kernel.read})
	mfs := gather(t, c)
	if got := value(t, mfs, "flotilla_udp_kernel_drops_total"); got != 11732 {
		t.Errorf("kernel drops %v, want 11732", got)
	}
	if got := value(t, mfs, "flotilla_udp_kernel_drops_read_errors_total"); got != 0 {
		t.Errorf("read errors %v, want 0", got)
	}
}

// A failed read leaves the kernel's drops out of that scrape only: the rest
// is exported, the failure is counted and logged, loudly once.
func TestCollectorKernelDropsReadError(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	kernel := &fakeKernelDrops{err: errors.New("no /proc")}
	s, n := distinctStats()
	c := NewCollector(&fakeRoom{stats: s}, CollectorSources{Net: netOf(n), KernelDrops: kernel.read, Log: log})

	for scrape := 1; scrape <= 2; scrape++ {
		mfs := gather(t, c)
		if _, ok := mfs["flotilla_udp_kernel_drops_total"]; ok {
			t.Errorf("scrape %d: kernel drops exported after a failed read", scrape)
		}
		if got := value(t, mfs, "flotilla_udp_kernel_drops_read_errors_total"); got != float64(scrape) {
			t.Errorf("scrape %d: read errors %v", scrape, got)
		}
		if got := value(t, mfs, "flotilla_clients"); got != 200 {
			t.Errorf("scrape %d: clients %v, want the room's 200", scrape, got)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[1], "level=DEBUG") ||
		!strings.Contains(lines[0], "no /proc") {
		t.Errorf("logged:\n%s\nwant one warning with the error, then one debug line", logs.String())
	}

	kernel.set(5, nil)
	mfs := gather(t, c)
	if got := value(t, mfs, "flotilla_udp_kernel_drops_total"); got != 5 {
		t.Errorf("kernel drops %v after the source recovered, want 5", got)
	}
	if got := value(t, mfs, "flotilla_udp_kernel_drops_read_errors_total"); got != 2 {
		t.Errorf("read errors %v, want the 2 counted", got)
	}
}

func TestTransportDrops(t *testing.T) {
	drops := func() map[string]uint64 { return map[string]uint64{"udp_unreliable_payload": 3, "webrtc_bad_ack": 5} }
	mfs := gather(t, NewCollector(&fakeRoom{}, CollectorSources{TransportDrops: drops}))
	if got := value(t, mfs, "flotilla_transport_drops_total", "reason=webrtc_bad_ack"); got != 5 {
		t.Errorf("webrtc_bad_ack %v, want 5", got)
	}
	if got := value(t, mfs, "flotilla_transport_drops_total", "reason=udp_unreliable_payload"); got != 3 {
		t.Errorf("udp_unreliable_payload %v, want 3", got)
	}
}

// A mesh member exports its peers' figures, labelled by member id, and a
// room without a mesh exports none.
func TestCollectorExportsTheMesh(t *testing.T) {
	ms := server.MeshStats{Self: 1, Formed: true, StalledTicks: 7, Redirects: 5, BrowserRedirects: 2, Peers: []server.MeshPeer{
		{PeerStats: mesh.PeerStats{Member: 2, Batches: 100, FramesWaited: 3, Waited: 1500 * time.Millisecond, HashChecks: 98, Mismatches: 1}, Up: true, SentBytes: 2000, GotBytes: 2100, RTT: 40 * time.Millisecond},
		{PeerStats: mesh.PeerStats{Member: 3, Batches: 90}, SentBytes: 10},
	}}
	mfs := gather(t, NewCollector(&fakeRoom{}, CollectorSources{Mesh: func() server.MeshStats { return ms }}))
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"flotilla_mesh_members", nil, 3},
		{"flotilla_mesh_stalled_ticks_total", nil, 7},
		{"flotilla_mesh_peer_up", []string{"member=2"}, 1},
		{"flotilla_mesh_peer_up", []string{"member=3"}, 0},
		{"flotilla_mesh_batches_total", []string{"member=3"}, 90},
		{"flotilla_mesh_batch_bytes_total", []string{"direction=received", "member=2"}, 2100},
		{"flotilla_mesh_batch_bytes_total", []string{"direction=sent", "member=3"}, 10},
		{"flotilla_mesh_frames_waited_total", []string{"member=2"}, 3},
		{"flotilla_mesh_wait_seconds_total", []string{"member=2"}, 1.5},
		{"flotilla_mesh_hash_checks_total", []string{"member=2"}, 98},
		{"flotilla_mesh_hash_mismatches_total", []string{"member=2"}, 1},
		{"flotilla_mesh_peer_rtt_seconds", []string{"member=2"}, 0.04},
		{"flotilla_mesh_redirects_total", []string{"client=native"}, 5},
		{"flotilla_mesh_redirects_total", []string{"client=browser"}, 2},
	} {
		if got := value(t, mfs, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if n := len(mfs["flotilla_mesh_peer_rtt_seconds"].GetMetric()); n != 1 {
		t.Errorf("peer RTT exported for %d peers, want the one that answered a ping", n)
	}
	if _, ok := gather(t, NewCollector(&fakeRoom{}, CollectorSources{}))["flotilla_mesh_members"]; ok {
		t.Error("mesh metrics exported without a mesh")
	}
}
