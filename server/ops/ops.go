// Package ops exposes a running room over HTTP for operators: Prometheus
// metrics (/metrics), a health check (/healthz) and run-time budget changes
// (/budget).
//
// Files: collector.go (the Prometheus collector over the room's counters),
// budget.go (the /budget endpoint), server.go (the HTTP server and its
// timeouts), ops.go (the handler tying them together).
package ops

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/server"
)

// Room is what the ops endpoint needs of a room; *server.Room implements
// it. Each method must be safe to call from any goroutine.
type Room interface {
	Stats() server.StatsSnapshot
	SetBudget(id server.ClientID, hz, bps int) bool
}

// Config configures the ops handler.
type Config struct {
	// Room is the room to expose. Required.
	Room Room
	// Net, when set, reads the UDP transport's counters (server.UDP.Stats):
	// packets, bytes and drops by type and reason.
	Net func() netcode.Stats
	// Socket, when set, reads the UDP backend's counters (batch.Conn.Stats)
	// so that datagrams the backend itself dropped are exported too.
	Socket func() batch.Stats
	// KernelDrops, when set, reads the datagrams the kernel dropped at the
	// UDP socket's receive queue (udpio.KernelDrops of the room's address),
	// exported as flotilla_udp_kernel_drops_total. It is called on the
	// scrape's goroutine; a failed read leaves the metric out of that scrape
	// and is logged to Log and counted (see CollectorSources).
	KernelDrops func() (uint64, error)
	// TransportDrops, when set, reads what the transports dropped outside
	// netcode's own counts, by reason (a short, fixed set of names):
	// exported as flotilla_transport_drops_total{reason}.
	TransportDrops func() map[string]uint64
	// Mesh, when set, reads the room's mesh figures (server.Room.MeshStats):
	// exported as flotilla_mesh_*, by peer member.
	Mesh func() server.MeshStats
	// Schema, when set, is the game's wire schema as JSON
	// (codec.Schema.DescJSON), served at GET /schema: what a client needs
	// to decode the room's snapshots, with the hash its Welcome carries.
	Schema []byte
	// Running reports whether the room is running: /healthz answers 200
	// while it does and 503 once it stopped. Required.
	Running func() bool
	// Budget bounds what /budget accepts. Required.
	Budget BudgetLimits
	// Log receives request errors; nil discards them.
	Log *slog.Logger
}

// BudgetLimits are the room's bounds on a client's snapshot rate and byte
// budget. Take them from room.Config() before the room runs: the room
// changes its Config's defaults when /budget addresses every client.
type BudgetLimits struct {
	MaxSnapshotHz  int // server.Config.MaxSnapshotHz
	MinBytesPerSec int // the room's floor on a byte budget
	MaxBytesPerSec int // server.Config.MaxBytesPerSec
}

// ErrConfig is wrapped by the errors NewHandler returns.
var ErrConfig = errors.New("ops: invalid config")

// NewHandler returns the ops endpoints for cfg.Room:
//
//   - GET /metrics: the room's counters, the UDP backend's and the kernel's
//     drops when cfg says how to read them, and the Go runtime's and the
//     process's counters, in the Prometheus exposition formats.
//   - GET /healthz: 200 "ok" while the room runs, 503 "stopped" after.
//   - GET /schema: the game's wire schema as JSON, when cfg.Schema is set.
//   - POST or PUT /budget: change a client's (or every client's) snapshot
//     rate and byte budget; see BudgetHandler.
//
// Each call makes its own Prometheus registry, so handlers of several rooms
// in one process do not collide.
func NewHandler(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Room == nil:
		return nil, fmt.Errorf("%w: no room", ErrConfig)
	case cfg.Running == nil:
		return nil, fmt.Errorf("%w: no running func", ErrConfig)
	}
	budget, err := BudgetHandler(cfg.Room, cfg.Budget)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	reg := prometheus.NewRegistry()
	collector := NewCollector(cfg.Room, CollectorSources{Net: cfg.Net, Socket: cfg.Socket, KernelDrops: cfg.KernelDrops, TransportDrops: cfg.TransportDrops, Mesh: cfg.Mesh, Log: log})
	if err := reg.Register(collector); err != nil {
		return nil, fmt.Errorf("ops: register room collector: %w", err)
	}
	if err := reg.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("ops: register go collector: %w", err)
	}
	if err := reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("ops: register process collector: %w", err)
	}
	metrics := promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
	}))

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if !cfg.Running() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "stopped")
			return
		}
		fmt.Fprintln(w, "ok")
	})
	if cfg.Schema != nil {
		schema := cfg.Schema
		mux.HandleFunc("GET /schema", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(schema)
		})
	}
	mux.Handle("POST /budget", budget)
	mux.Handle("PUT /budget", budget)
	return mux, nil
}
