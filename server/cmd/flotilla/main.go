// Command flotilla runs a Flotilla server: one room with the demo game,
// served to clients over UDP, with Prometheus metrics, a health check and
// run-time budgets over HTTP. `flotilla -help` lists the flags; each can also
// be set by a FLOTILLA_ environment variable.
//
// Files: options.go (flags, environment variables, --help), config.go (the
// room's config from the options), summary.go (the live summary line),
// main.go (the server's life: start, serve, stop).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/server/ops"
)

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // could not start, or failed while running
	exitUsage = 2 // bad flags or environment
)

// shutdownTimeout bounds the wait for the ops endpoint's requests in
// flight at shutdown.
const shutdownTimeout = 5 * time.Second

// minBytesPerSec is the room's floor on a client's byte budget; the
// server package checks it in Config.Validate but does not export it.
const minBytesPerSec = 1000

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second signal kills a shutdown that hangs
	}()
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it serves until ctx ends (main ends it on
// SIGINT or SIGTERM) or -duration passes, and returns the exit status.
// Logs go to stderr; --help and the live summary go to stdout.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) int {
	return runWith(ctx, args, lookupEnv, stdout, stderr)
}

// A companion runs beside the room: it starts once the room and the ops
// endpoint serve, and its context ends once the room has stopped (its
// clients told the server is shutting down). run waits for every companion
// to return before it closes the socket. An error from a companion stops
// the server with exit status 1. Flags that start in-process work next to
// the server (such as load-generating bots) add a companion in runWith.
type companion func(ctx context.Context, s *instance) error

// instance is the running server as companions see it.
type instance struct {
	Room  *server.Room
	Addr  netip.AddrPort // the room's UDP address
	Admin net.Addr       // the ops endpoint's address; nil with -admin ""
	Log   *slog.Logger
}

// errDuration ends the run when -duration has passed.
var errDuration = errors.New("-duration elapsed")

// runWith is run with extra companions (tests use one to reach the running
// server).
func runWith(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer, extra ...companion) int {
	o, err := parseOptions(args, lookupEnv)
	if errors.Is(err, errHelp) {
		printUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "flotilla: %v\nRun 'flotilla -help' for usage.\n", err)
		return exitUsage
	}
	cfg, err := o.roomConfig()
	if err == nil && cfg.Mesh != nil {
		err = checkMeshListen(o.listen, cfg.Mesh)
	}
	if err != nil {
		fmt.Fprintf(stderr, "flotilla: %v\nRun 'flotilla -help' for usage.\n", err)
		return exitUsage
	}
	log := o.logger(stderr)
	// Flags that start in-process work beside the server (-bots) append
	// their companion here.
	companions := extra
	if o.bots > 0 {
		companions = append(companions, botsCompanion(o.bots, o.duration, o.seed, stdout))
	}

	conn, err := udpio.Listen(o.io, o.listen, udpio.Options{Logger: log})
	if err != nil {
		log.Error("cannot listen", "listen", o.listen, "io", o.io, "err", err)
		return exitFail
	}
	defer conn.Close()
	game, err := demowire.NewGame(cfg.Game)
	if err != nil {
		log.Error("cannot start the game", "err", err)
		return exitFail
	}
	// Browsers share the UDP port: the demux hands WebRTC's datagrams to
	// the bridge, the rest to netcode.
	demux := bridge.NewDemux(conn, 0)
	defer demux.Close()
	d := cfg.Config.WithDefaults()
	sessions := d.MaxClients + d.MaxUnproven
	if d.Mesh != nil {
		sessions += len(d.Mesh.Members)
	}
	udp, err := server.NewUDP(demux, server.UDPConfig{Net: cfg.Net, MaxSessions: sessions, PeerKey: cfg.PeerKey}, time.Now())
	if err != nil {
		log.Error("cannot start the transport", "err", err)
		return exitFail
	}
	transports := []server.Transport{udp}
	var rtc *server.WebRTC
	var br *bridge.Bridge
	var meshRoom atomic.Pointer[server.Room]
	var rtcHTTP *ops.Server
	if o.http != "" {
		rtc = server.NewWebRTC(4096, 4<<20)
		var err error
		bcfg := bridge.Config{Loopback: o.listen.Addr().IsLoopback(), PublicIPs: o.publicIPs.ips(), Log: log}
		if cfg.Mesh != nil {
			// A mesh member sends a browser to a less loaded member as it
			// does a native client; the room exists once serving starts.
			bcfg.Redirect = func() (string, bool) {
				if r := meshRoom.Load(); r != nil {
					return r.BrowserRedirect()
				}
				return "", false
			}
		}
		br, err = bridge.New(demux.PacketConn(), bcfg, rtc.Handler())
		if err != nil {
			log.Error("cannot start the browser bridge", "err", err)
			return exitFail
		}
		defer br.Close()
		// The same listener serves the page, its modules and the schema
		// it decodes with (also on the admin listener).
		mux := http.NewServeMux()
		mux.Handle("POST /rtc", br)
		mux.Handle("OPTIONS /rtc", br)
		schema := game.Schema().DescJSON()
		mux.HandleFunc("GET /schema", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(schema)
		})
		mux.Handle("/", bridge.Page())
		if rtcHTTP, err = ops.Listen(o.http, mux, log); err != nil {
			log.Error("cannot listen for browsers", "http", o.http, "err", err)
			return exitFail
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			rtcHTTP.Shutdown(sctx)
		}()
		transports = append(transports, rtc.Transport())
		log.Info("browsers: open the page", "url", "http://"+rtcHTTP.Addr().String()+"/")
	}
	room, err := server.New(cfg.Config, game, log, transports...)
	if err == nil {
		meshRoom.Store(room)
	}
	if err != nil {
		log.Error("cannot start the room", "err", err)
		return exitFail
	}
	srv := served{room, udp}

	var running atomic.Bool
	var admin *ops.Server
	if o.admin != "" {
		h, err := ops.NewHandler(ops.Config{
			Room: room, Net: udp.Stats, Schema: game.Schema().DescJSON(), Socket: conn.Stats, KernelDrops: kernelDrops(conn.LocalAddr(), log),
			TransportDrops: transportDrops(udp, demux, rtc, br),
			Running:        running.Load, Log: log,
			Mesh:   meshSource(room, cfg.Mesh != nil),
			Budget: ops.BudgetLimits{MaxSnapshotHz: cfg.MaxSnapshotHz, MinBytesPerSec: minBytesPerSec, MaxBytesPerSec: cfg.MaxBytesPerSec},
		})
		if err != nil {
			log.Error("cannot make the ops endpoint", "err", err)
			return exitFail
		}
		if admin, err = ops.Listen(o.admin, h, log); err != nil {
			log.Error("cannot listen for the ops endpoint", "admin", o.admin, "err", err)
			return exitFail
		}
	}
	inst := &instance{Room: room, Addr: udp.LocalAddr(), Log: log}
	adminAttr := slog.String("admin", "off")
	if admin != nil {
		inst.Admin = admin.Addr()
		adminAttr = slog.String("admin", inst.Admin.String())
	}

	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.duration, errDuration)
		defer cancel()
	}
	// The room stops when ctx ends (a signal, -duration) or a companion
	// fails; a mesh member first leaves its mesh, so that its peers go on
	// without waiting for it.
	roomCtx, stopRoom := context.WithCancelCause(context.Background())
	defer stopRoom(nil)
	go func() {
		select {
		case <-ctx.Done():
		case <-roomCtx.Done():
			return
		}
		if cfg.Mesh != nil {
			log.Info("leaving the mesh before stopping")
			select {
			case <-room.LeaveMesh():
			case <-time.After(shutdownTimeout):
				log.Warn("the mesh leave did not complete; stopping anyway")
			case <-roomCtx.Done():
			}
		}
		stopRoom(context.Cause(ctx))
	}()

	start := time.Now()
	running.Store(true)
	ran := make(chan error, 1)
	go func() {
		err := room.Run(roomCtx)
		running.Store(false)
		ran <- err
	}()
	log.Info("flotilla serving", "listen", inst.Addr.String(), "io", o.io, adminAttr,
		"tick_hz", cfg.TickHz, "snapshot_hz", cfg.SnapshotHz, "bytes_per_sec", cfg.BytesPerSec,
		"max_clients", cfg.MaxClients, "duration", o.duration.String())

	// Companions run until the room has stopped; the first error stops it.
	compCtx, stopCompanions := context.WithCancel(context.Background())
	defer stopCompanions()
	var wg sync.WaitGroup
	var compErr error
	var compOnce sync.Once
	for _, c := range companions {
		wg.Go(func() {
			if err := c(compCtx, inst); err != nil {
				compOnce.Do(func() { compErr = err })
				stopRoom(fmt.Errorf("companion failed: %w", err))
			}
		})
	}

	summaryDone := make(chan struct{})
	var summaryWG sync.WaitGroup
	if o.summary > 0 {
		summaryWG.Go(func() { printSummaries(stdout, srv, start, o.summary, summaryDone) })
	}

	code := exitOK
	runErr := <-ran
	close(summaryDone)
	summaryWG.Wait()
	if runErr != nil {
		log.Error("room failed", "err", runErr)
		code = exitFail
	} else {
		log.Info("room stopped", "cause", stopCause(roomCtx))
	}
	stopCompanions()
	wg.Wait()
	if compErr != nil {
		log.Error("companion failed", "err", compErr)
		code = exitFail
	}
	if admin != nil {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		if err := admin.Shutdown(sctx); err != nil {
			log.Warn("ops endpoint shutdown", "err", err)
		}
		cancel()
	}
	// The socket's counters are UDP payload bytes, the measure tools/pcapbw
	// reports as udp_payload_bytes: `make capture` compares the two.
	s, sock := room.Stats(), conn.Stats()
	log.Info("flotilla stopped", "uptime", time.Since(start).Round(time.Millisecond).String(),
		"frames", s.Frame, "connects", s.Connects, "desync_reports", s.DesyncReports,
		"udp_rx_datagrams", sock.RxDatagrams, "udp_rx_bytes", sock.RxBytes, "udp_rx_dropped", sock.RxDropped,
		"udp_tx_datagrams", sock.TxDatagrams, "udp_tx_bytes", sock.TxBytes, "udp_tx_dropped", sock.TxDropped)
	return code
}

// meshSource reads the room's mesh figures for the ops endpoint (nil
// without a mesh: no flotilla_mesh_* metrics).
func meshSource(room *server.Room, on bool) func() server.MeshStats {
	if !on {
		return nil
	}
	return room.MeshStats
}

// checkMeshListen checks that -listen is this member's address in the
// membership: its peers dial it there.
func checkMeshListen(listen netip.AddrPort, m *server.MeshConfig) error {
	for _, p := range m.Members {
		if p.ID != m.Self {
			continue
		}
		if listen.Port() != p.Addr.Port() || !listen.Addr().IsUnspecified() && listen.Addr() != p.Addr.Addr() {
			return fmt.Errorf("-listen %v is not member %d's address %v in -mesh-members", listen, m.Self, p.Addr)
		}
		return nil
	}
	return nil // the room's validation names a self outside the membership
}

// kernelDrops reads, for the ops endpoint, the kernel's receive drops at
// the UDP socket(s) bound to local; nil where the platform cannot tell.
// The reader is called on the scrape's goroutine.
func kernelDrops(local netip.AddrPort, log *slog.Logger) func() (uint64, error) {
	read := func() (uint64, error) { return udpio.KernelDrops(local) }
	if _, err := read(); errors.Is(err, errors.ErrUnsupported) {
		log.Info("kernel UDP drops not exported", "err", err)
		return nil
	}
	return read
}

// transportDrops reads what the transports drop outside netcode's counts:
// unreliable payloads native clients sent (the protocol has none), WebRTC
// datagrams the bridge fell behind on, browsers' malformed
// acknowledgements (rtc nil: no browsers served).
func transportDrops(udp *server.UDP, demux *bridge.Demux, rtc *server.WebRTC, br *bridge.Bridge) func() map[string]uint64 {
	return func() map[string]uint64 {
		m := map[string]uint64{"udp_unreliable_payload": udp.BadPayloads(), "webrtc_queue_full": demux.Dropped()}
		if rtc != nil {
			m["webrtc_bad_ack"] = rtc.BadAcks()
		}
		if br != nil {
			// Browsers turned away before they were sessions.
			for r, n := range br.Refused() {
				m["webrtc_refused_"+r.String()] = n
			}
		}
		return m
	}
}

// served is the room and its UDP transport, as the live summary reads
// them.
type served struct {
	*server.Room
	udp *server.UDP
}

// Net is the UDP transport's counters. Safe from any goroutine.
func (s served) Net() netcode.Stats { return s.udp.Stats() }

// stopCause says why the room's context ended: a signal, -duration, a
// failed companion, or the caller.
func stopCause(ctx context.Context) string {
	if err := context.Cause(ctx); err != nil {
		return err.Error()
	}
	return "room closed"
}
