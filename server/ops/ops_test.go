package ops

import (
	"context"
	"errors"
	"fmt"
	"github.com/flotilla/flotilla/internal/leakcheck"
	"io"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
)

func TestHealthz(t *testing.T) {
	var running atomic.Bool
	running.Store(true)
	h := newTestHandler(t, &fakeRoom{}, running.Load)
	if w := serve(h, "GET", "/healthz", ""); w.Code != http.StatusOK || w.Body.String() != "ok\n" {
		t.Errorf("running: %d %q, want 200 ok", w.Code, w.Body.String())
	}
	running.Store(false)
	if w := serve(h, "GET", "/healthz", ""); w.Code != http.StatusServiceUnavailable || w.Body.String() != "stopped\n" {
		t.Errorf("stopped: %d %q, want 503 stopped", w.Code, w.Body.String())
	}
}

func TestNewHandlerRejectsBadConfig(t *testing.T) {
	yes := func() bool { return true }
	for name, cfg := range map[string]Config{
		"no room":    {Running: yes, Budget: testLimits},
		"no running": {Room: &fakeRoom{}, Budget: testLimits},
		"no limits":  {Room: &fakeRoom{}, Running: yes},
	} {
		if _, err := NewHandler(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}

func TestServerShutdown(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", newTestHandler(t, &fakeRoom{}, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + srv.Addr().String()
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("healthz %d %q", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Shutdown")
	}
}

// A source that cannot be read leaves its metric out; /metrics still
// answers with everything else.
func TestMetricsSurviveKernelDropsError(t *testing.T) {
	kernel := &fakeKernelDrops{err: errors.New("no /proc")}
	h, err := NewHandler(Config{
		Room: &fakeRoom{}, Running: func() bool { return true }, Budget: testLimits,
		KernelDrops: kernel.read,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(h, "GET", "/metrics", "")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "\nflotilla_clients 0\n") {
		t.Fatalf("/metrics: %d\n%s", w.Code, body)
	}
	if strings.Contains(body, "\nflotilla_udp_kernel_drops_total ") ||
		!strings.Contains(body, "\nflotilla_udp_kernel_drops_read_errors_total 1\n") {
		t.Errorf("/metrics after a failed read:\n%s", body)
	}
	kernel.set(7, nil)
	if body := serve(h, "GET", "/metrics", "").Body.String(); !strings.Contains(body, "\nflotilla_udp_kernel_drops_total 7\n") {
		t.Errorf("/metrics after the source recovered:\n%s", body)
	}
}

func TestListenReportsBindError(t *testing.T) {
	if _, err := Listen("127.0.0.1:-1", http.NotFoundHandler(), nil); err == nil {
		t.Fatal("Listen on a bad address succeeded")
	}
}

// TestScrapeRealRoom runs a real room on a loopback UDP socket with one
// real client, serves its ops endpoint on a loopback TCP port and scrapes
// it as Prometheus does.
func TestScrapeRealRoom(t *testing.T) {
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	room, udp, err := server.NewWithUDP(conn, server.Config{}, server.UDPConfig{}, game, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := room.Config() // before Run: Run owns the config after
	var running atomic.Bool
	running.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() {
		err := room.Run(ctx)
		running.Store(false)
		ran <- err
	}()

	kernel := func() (uint64, error) { return udpio.KernelDrops(conn.LocalAddr()) }
	h, err := NewHandler(Config{
		Room: room, Net: udp.Stats, Schema: game.Schema().DescJSON(), Socket: conn.Stats, KernelDrops: kernel, Running: running.Load,
		Budget: BudgetLimits{MaxSnapshotHz: cfg.MaxSnapshotHz, MinBytesPerSec: 1000, MaxBytesPerSec: cfg.MaxBytesPerSec},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Listen("127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr().String()

	// The schema a client needs, with the hash its Welcome carries.
	resp, err := http.Get(base + "/schema")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, err := codec.ParseSchemaDesc(body); err != nil || got.Hash() != game.Schema().Hash() {
		t.Errorf("GET /schema: %v (%s)", err, body)
	}

	// The room ticks with nobody connected.
	mfs := scrapeUntil(t, base, "the room ticks", func(mfs map[string]*dto.MetricFamily) bool {
		return histCount(mfs, "flotilla_tick_duration_seconds") > 0
	})
	for _, name := range []string{
		"flotilla_clients", "flotilla_tick_duration_seconds", "flotilla_snapshot_size_bytes",
		"flotilla_net_received_bytes_total", "flotilla_net_sent_bytes_total",
		"flotilla_net_received_packets_total", "flotilla_net_sent_packets_total",
		"flotilla_net_dropped_packets_total", "flotilla_desync_reports_total", "flotilla_desync_permanent_total",
		"flotilla_snapshots_total", "flotilla_actions_total", "flotilla_budget_skips_total",
		"flotilla_frames_skipped_total", "flotilla_bad_messages_total", "flotilla_disconnects_total",
		"flotilla_socket_dropped_packets_total",
		"go_goroutines", "process_cpu_seconds_total", "promhttp_metric_handler_requests_total",
	} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("scrape lacks %s", name)
		}
	}
	if got := value(t, mfs, "flotilla_clients"); got != 0 {
		t.Errorf("clients %v before anyone connected", got)
	}
	if runtime.GOOS == "linux" {
		if _, ok := mfs["flotilla_udp_kernel_drops_total"]; !ok {
			t.Errorf("scrape lacks flotilla_udp_kernel_drops_total (read errors: %v)",
				metricValue(mfs, "flotilla_udp_kernel_drops_read_errors_total"))
		}
	}
	if got := value(t, mfs, "flotilla_frame"); got < 1 {
		t.Errorf("frame %v after a tick", got)
	}
	if got := value(t, mfs, "flotilla_desync_reports_total"); got != 0 {
		t.Errorf("desync reports %v", got)
	}
	tick := find(t, mfs, "flotilla_tick_duration_seconds").GetHistogram()
	var prev uint64
	for _, b := range tick.GetBucket() {
		if b.GetCumulativeCount() < prev || b.GetCumulativeCount() > tick.GetSampleCount() {
			t.Errorf("tick buckets not cumulative: %v", tick.GetBucket())
		}
		prev = b.GetCumulativeCount()
	}
	if tick.GetSampleSum() <= 0 {
		t.Errorf("tick seconds sum %v after %d ticks", tick.GetSampleSum(), tick.GetSampleCount())
	}

	// A client connects: it is counted, and every snapshot it is sent is
	// one observation of bytes per client per snapshot.
	cl := dialRoom(t, udp.LocalAddr())
	mfs = scrapeUntil(t, base, "the client gets snapshots", func(mfs map[string]*dto.MetricFamily) bool {
		return histCount(mfs, "flotilla_snapshot_size_bytes") >= 3
	})
	if got := value(t, mfs, "flotilla_clients"); got != 1 {
		t.Errorf("clients %v with one connected", got)
	}
	if got := value(t, mfs, "flotilla_connects_total"); got != 1 {
		t.Errorf("connects %v", got)
	}
	snap := find(t, mfs, "flotilla_snapshot_size_bytes").GetHistogram()
	sent := value(t, mfs, "flotilla_net_sent_bytes_total")
	if snap.GetSampleSum() <= 0 || sent < snap.GetSampleSum() {
		t.Errorf("snapshot bytes sum %v, sent bytes %v: sent must cover the snapshots", snap.GetSampleSum(), sent)
	}
	if got := value(t, mfs, "flotilla_snapshots_total", "form=proof"); got < 1 {
		t.Errorf("proof snapshots %v: a new session is sent the proof first", got)
	}
	if got := value(t, mfs, "flotilla_net_received_packets_total"); got < 2 {
		t.Errorf("received packets %v after a handshake", got)
	}
	if cl.snapshots.Load() == 0 {
		t.Error("the client received no snapshot")
	}

	// Budgets reach the room over HTTP.
	resp, err = http.Post(base+"/budget", "application/x-www-form-urlencoded", strings.NewReader("hz=10&bps=5000"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("budget: %d %q", resp.StatusCode, body)
	}

	// The client leaves: the room counts it gone, with its reason.
	if err := cl.stop(); err != nil {
		t.Error(err)
	}
	scrapeUntil(t, base, "the room sees the client leave", func(mfs map[string]*dto.MetricFamily) bool {
		return metricValue(mfs, "flotilla_clients") == 0 &&
			metricValue(mfs, "flotilla_disconnects_total", "reason", "closed") == 1
	})

	if code, body := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz while running: %d %q", code, body)
	}
	cancel()
	if err := waitErr(t, ran); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("healthz after the room stopped: %d %q", code, body)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := cl.stop(); err != nil {
		t.Error(err)
	}
	leakcheck.Check(t)
}

// scrape fetches /metrics and parses it as the Prometheus text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics content type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// scrapeUntil scrapes until ok holds, failing after a generous bound.
func scrapeUntil(t *testing.T, base, what string, ok func(map[string]*dto.MetricFamily) bool) map[string]*dto.MetricFamily {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mfs := scrape(t, base)
		if ok(mfs) {
			return mfs
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// histCount is a histogram's sample count, 0 when absent.
func histCount(mfs map[string]*dto.MetricFamily, name string) uint64 {
	mf, ok := mfs[name]
	if !ok || len(mf.GetMetric()) != 1 {
		return 0
	}
	return mf.GetMetric()[0].GetHistogram().GetSampleCount()
}

// metricValue is the value of the series with the label pair given, or of
// the only series; -1 when absent.
func metricValue(mfs map[string]*dto.MetricFamily, name string, label ...string) float64 {
	for _, m := range mfs[name].GetMetric() {
		if len(label) == 2 {
			match := false
			for _, lp := range m.GetLabel() {
				match = match || lp.GetName() == label[0] && lp.GetValue() == label[1]
			}
			if !match {
				continue
			}
		}
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func waitErr(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("not stopped within 10 s")
		return nil
	}
}

// testClient is a netcode client that accepts every snapshot, run by a
// goroutine of its own until close.
type testClient struct {
	snapshots atomic.Int64
	quit      chan struct{}
	once      sync.Once
	wake      func()
	done      chan struct{} // closed when the goroutine returned
	err       error         // why it returned early
}

// stop makes the client's goroutine close the session, waits for it and
// returns what went wrong in it.
func (c *testClient) stop() error {
	c.once.Do(func() { close(c.quit) })
	c.wake()
	select {
	case <-c.done:
		return c.err
	case <-time.After(10 * time.Second):
		return errors.New("client goroutine did not stop within 10 s")
	}
}

func (c *testClient) Connected(netcode.SessionID, netip.AddrPort)    {}
func (c *testClient) Disconnected(netcode.SessionID, netcode.Reason) {}
func (c *testClient) Reliable(netcode.SessionID, []byte)             {}
func (c *testClient) Acked(netcode.SessionID, uint16)                {}
func (c *testClient) Unreliable(netcode.SessionID, uint16, []byte) bool {
	c.snapshots.Add(1)
	return true
}

func dialRoom(t *testing.T, addr netip.AddrPort) *testClient {
	t.Helper()
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tc := &testClient{quit: make(chan struct{}), wake: conn.Wake, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := netcode.Dial(ctx, conn, netcode.ClientConfig{Server: addr, Handler: tc})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	go func() { // the client's owner from here on
		defer close(tc.done)
		defer conn.Close()
		for {
			select {
			case <-tc.quit:
				c.Close(time.Now())
				return
			default:
			}
			next, err := c.Poll(time.Now())
			if err != nil {
				tc.err = fmt.Errorf("client poll: %w", err)
				return
			}
			if err := c.Wait(next); err != nil {
				tc.err = fmt.Errorf("client wait: %w", err)
				return
			}
		}
	}()
	t.Cleanup(func() {
		if err := tc.stop(); err != nil {
			t.Error(err)
		}
	})
	return tc
}
