// Command mesh runs a mesh of Flotilla servers on one machine, with bots
// spread over them: the way a developer tries a mesh without any cloud.
//
//	go run ./tools/mesh -servers 3 -bots 30
//
// It builds the server binary (or takes -binary), starts -servers of them
// on loopback, each on its own UDP port with its ops endpoint, its peers
// configured from one membership and one fresh mesh key, waits for the mesh
// to form, runs -bots in-process bots spread evenly over the servers for
// -duration, and prints one line a second per server (its clients, egress,
// the mesh's own traffic, the time it waited for batches, hash checks and
// mismatches). Then it stops every server the way SIGTERM does (each leaves
// the mesh) and prints one JSON report on stdout (-json FILE also writes
// it to FILE). Server logs go to -logs (a temporary directory by default,
// named at the end).
//
// Exit status: 0 when every server formed the mesh, no world hash differed,
// every bot connected, no desync was permanent and no acknowledged action
// was lost; 1 otherwise (the report is printed first); 2 for bad flags or a
// mesh that could not start.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flotilla/flotilla/tools/bots/botrun"
)

type options struct {
	servers, bots int
	duration      time.Duration
	host          string
	port          int
	inputDelay    int
	binary        string
	logs          string
	jsonFile      string
	seed          uint64
	extra         string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("mesh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.servers, "servers", 3, "servers in the mesh, 1..64")
	fs.IntVar(&o.bots, "bots", 30, "bots, spread evenly over the servers")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long the bots play")
	fs.StringVar(&o.host, "host", "127.0.0.1", "loopback address the servers listen on")
	fs.IntVar(&o.port, "port", 7101, "UDP port of server 1; server i listens on port+i-1, its ops endpoint on port+100+i-1")
	fs.IntVar(&o.inputDelay, "input-delay", 3, "the servers' -input-delay: frames of slack for the peers' batches")
	fs.StringVar(&o.binary, "binary", "", "the flotilla server binary; empty builds ./server/cmd/flotilla")
	fs.StringVar(&o.logs, "logs", "", "directory for the servers' logs; empty: a new temporary one")
	fs.StringVar(&o.jsonFile, "json", "", "also write the final report to this file")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the bots' choices")
	fs.StringVar(&o.extra, "server-args", "", "more flags for every server, space-separated (e.g. \"-max-view-entities 256\")")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.servers < 1 || o.servers > 64:
		return nil, fmt.Errorf("-servers %d outside 1..64", o.servers)
	case o.bots < 0 || o.bots > botrun.MaxClients:
		return nil, fmt.Errorf("-bots %d outside 0..%d", o.bots, botrun.MaxClients)
	case o.duration < 5*time.Second:
		return nil, fmt.Errorf("-duration %v under 5s", o.duration)
	case o.port < 1 || o.port+100+o.servers > 65535:
		return nil, fmt.Errorf("-port %d leaves no room for %d servers and their ops ports", o.port, o.servers)
	}
	if _, err := netip.ParseAddr(o.host); err != nil {
		return nil, fmt.Errorf("-host: %w", err)
	}
	return o, nil
}

// member is one running server.
type member struct {
	id    int
	udp   netip.AddrPort
	admin string
	cmd   *exec.Cmd
	exit  chan error
	// The last scrape, and the one before (for rates).
	last, prev scrape
	peak       float64 // most clients seen
	bots       botrun.Report
	botsErr    error
}

// scrape is what the launcher reads from a server's /metrics.
type scrape struct {
	at                              time.Time
	clients, frame                  float64
	sentBytes, meshSent, waitSecond float64
	hashChecks, mismatches, stalled float64
	peersUp                         float64
	rttMax                          float64 // seconds, the slowest peer's round trip
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "mesh:", err)
		return 2
	}
	if o.logs == "" {
		if o.logs, err = os.MkdirTemp("", "flotilla-mesh-"); err != nil {
			fmt.Fprintln(stderr, "mesh:", err)
			return 2
		}
	}
	if o.binary == "" {
		o.binary = filepath.Join(o.logs, "flotilla")
		fmt.Fprintln(stderr, "mesh: building ./server/cmd/flotilla")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.binary, "./server/cmd/flotilla")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(stderr, "mesh: build:", err)
			return 2
		}
	}
	ms, err := start(o, stderr)
	defer stopAll(ms)
	if err != nil {
		fmt.Fprintln(stderr, "mesh:", err)
		return 2
	}
	if err := waitFormed(ctx, ms, 15*time.Second); err != nil {
		fmt.Fprintln(stderr, "mesh:", err, "(logs in", o.logs+")")
		return 2
	}
	fmt.Fprintf(stderr, "mesh: %d servers formed; %d bots for %v\n", len(ms), o.bots, o.duration)

	// The bots, spread evenly, each share against its server.
	playCtx, endPlay := context.WithTimeout(ctx, o.duration)
	defer endPlay()
	var wg sync.WaitGroup
	for i, m := range ms {
		n := o.bots / len(ms)
		if i < o.bots%len(ms) {
			n++
		}
		if n == 0 {
			continue
		}
		wg.Go(func() {
			m.bots, m.botsErr = botrun.Run(playCtx, botrun.Config{
				Server: m.udp, Clients: n, Duration: o.duration, Seed: o.seed + uint64(i)<<32,
				Bind: netip.AddrFrom4([4]byte{127, 10, byte(i), 1}), Ramp: time.Second,
			})
		})
	}
	botsDone := make(chan struct{})
	go func() { wg.Wait(); close(botsDone) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
live:
	for {
		select {
		case <-botsDone:
			break live
		case <-tick.C:
			for _, m := range ms {
				m.prev = m.last
				if s, err := read(m.admin); err == nil {
					m.last = s
					m.peak = max(m.peak, s.clients)
				}
				fmt.Fprintln(stderr, line(time.Since(start), m))
			}
		}
	}
	for _, m := range ms {
		if s, err := read(m.admin); err == nil {
			m.last = s
		}
	}
	rep := report(o, ms, time.Since(start))
	stopAll(ms)
	rep.Logs = o.logs
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintln(stdout, string(out))
	if o.jsonFile != "" {
		if err := os.WriteFile(o.jsonFile, append(out, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, "mesh:", err)
		}
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// start launches the servers with one membership and a fresh key.
func start(o *options, stderr io.Writer) ([]*member, error) {
	key := make([]byte, 32)
	rand.Read(key)
	host := netip.MustParseAddr(o.host)
	var ms []*member
	var members []string
	for i := 1; i <= o.servers; i++ {
		m := &member{id: i, udp: netip.AddrPortFrom(host, uint16(o.port+i-1)),
			admin: netip.AddrPortFrom(host, uint16(o.port+100+i-1)).String(), exit: make(chan error, 1)}
		ms = append(ms, m)
		members = append(members, fmt.Sprintf("%d=%v", i, m.udp))
	}
	for _, m := range ms {
		args := []string{"-listen", m.udp.String(), "-admin", m.admin, "-log-format", "json",
			"-mesh-self", strconv.Itoa(m.id), "-mesh-members", strings.Join(members, ","),
			"-input-delay", strconv.Itoa(o.inputDelay)}
		args = append(args, strings.Fields(o.extra)...)
		logf, err := os.Create(filepath.Join(o.logs, fmt.Sprintf("server-%d.log", m.id)))
		if err != nil {
			return ms, err
		}
		m.cmd = exec.Command(o.binary, args...)
		m.cmd.Env = append(os.Environ(), "FLOTILLA_MESH_KEY="+hex.EncodeToString(key))
		m.cmd.Stdout, m.cmd.Stderr = logf, logf
		if err := m.cmd.Start(); err != nil {
			logf.Close()
			return ms, fmt.Errorf("server %d: %w", m.id, err)
		}
		go func() { m.exit <- m.cmd.Wait(); logf.Close() }()
	}
	return ms, nil
}

// waitFormed waits until every server reports every peer up.
func waitFormed(ctx context.Context, ms []*member, limit time.Duration) error {
	end := time.Now().Add(limit)
	for {
		formed := 0
		for _, m := range ms {
			select {
			case err := <-m.exit:
				return fmt.Errorf("server %d exited: %v", m.id, err)
			default:
			}
			if s, err := read(m.admin); err == nil && int(s.peersUp) == len(ms)-1 {
				formed++
			}
		}
		if formed == len(ms) {
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("the mesh did not form within %v (%d of %d servers see every peer)", limit, formed, len(ms))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopAll sends every server SIGTERM (each leaves the mesh) and waits for
// it, killing one that does not stop within 10 s.
func stopAll(ms []*member) {
	for _, m := range ms {
		if m.cmd != nil && m.cmd.Process != nil && m.cmd.ProcessState == nil {
			m.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, m := range ms {
		if m.cmd == nil || m.cmd.Process == nil {
			continue
		}
		select {
		case <-m.exit:
		case <-time.After(10 * time.Second):
			m.cmd.Process.Kill()
			<-m.exit
		}
		m.cmd = nil
	}
}

// read scrapes one server's /metrics for what the launcher shows.
func read(admin string) (scrape, error) {
	s := scrape{at: time.Now()}
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + admin + "/metrics")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(l, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[sp+1:], 64)
		if err != nil {
			continue
		}
		name, labels, _ := strings.Cut(l[:sp], "{")
		switch name {
		case "flotilla_clients":
			s.clients = v
		case "flotilla_frame":
			s.frame = v
		case "flotilla_net_sent_bytes_total":
			s.sentBytes = v
		case "flotilla_mesh_batch_bytes_total":
			if strings.Contains(labels, `direction="sent"`) {
				s.meshSent += v
			}
		case "flotilla_mesh_wait_seconds_total":
			s.waitSecond += v
		case "flotilla_mesh_hash_checks_total":
			s.hashChecks += v
		case "flotilla_mesh_hash_mismatches_total":
			s.mismatches += v
		case "flotilla_mesh_stalled_ticks_total":
			s.stalled = v
		case "flotilla_mesh_peer_up":
			s.peersUp += v
		case "flotilla_mesh_peer_rtt_seconds":
			s.rttMax = max(s.rttMax, v)
		}
	}
	return s, sc.Err()
}

// line is one server's live summary.
func line(since time.Duration, m *member) string {
	dt := m.last.at.Sub(m.prev.at).Seconds()
	rate := func(a, b float64) float64 {
		if dt <= 0 || m.prev.at.IsZero() {
			return 0
		}
		return (a - b) / dt
	}
	return fmt.Sprintf("%4.0fs server %d: clients %3.0f  frame %6.0f  egress %7.1f KB/s  mesh %5.1f KB/s  batch wait %4.0f ms/s  peer rtt max %3.0f ms  hash checks %6.0f  mismatches %.0f",
		since.Seconds(), m.id, m.last.clients, m.last.frame,
		rate(m.last.sentBytes, m.prev.sentBytes)/1e3, rate(m.last.meshSent, m.prev.meshSent)/1e3,
		1e3*rate(m.last.waitSecond, m.prev.waitSecond), 1e3*m.last.rttMax, m.last.hashChecks, m.last.mismatches)
}

// Report is the launcher's final JSON report.
type Report struct {
	Servers  []ServerReport `json:"servers"`
	Seconds  float64        `json:"seconds"`
	Bots     int            `json:"bots"`
	Mismatch float64        `json:"hash_mismatches"`
	Checks   float64        `json:"hash_checks"`
	Lost     uint64         `json:"actions_lost"`
	Desyncs  uint64         `json:"desync_permanent"`
	Missing  int            `json:"bots_not_connected"`
	OK       bool           `json:"ok"`
	Logs     string         `json:"logs"`
}

// ServerReport is one server's part of the report.
type ServerReport struct {
	ID              int            `json:"id"`
	Addr            string         `json:"addr"`
	PeakClients     float64        `json:"peak_clients"`
	Frames          float64        `json:"frames"`
	EgressBytesPerS float64        `json:"egress_bytes_per_sec"`
	MeshBytesPerS   float64        `json:"mesh_bytes_per_sec"`
	WaitMsPerS      float64        `json:"batch_wait_ms_per_sec"`
	PeerRTTMaxMs    float64        `json:"peer_rtt_max_ms"` // the slowest peer's smoothed round trip at the end
	StalledTicks    float64        `json:"stalled_ticks"`
	HashChecks      float64        `json:"hash_checks"`
	HashMismatches  float64        `json:"hash_mismatches"`
	Bots            *botrun.Report `json:"bots,omitempty"`
	BotsError       string         `json:"bots_error,omitempty"`
}

func report(o *options, ms []*member, d time.Duration) Report {
	r := Report{Seconds: d.Seconds(), Bots: o.bots, OK: true}
	for _, m := range ms {
		s := ServerReport{ID: m.id, Addr: m.udp.String(), PeakClients: m.peak, Frames: m.last.frame,
			EgressBytesPerS: m.last.sentBytes / d.Seconds(), MeshBytesPerS: m.last.meshSent / d.Seconds(),
			WaitMsPerS: 1e3 * m.last.waitSecond / d.Seconds(), PeerRTTMaxMs: 1e3 * m.last.rttMax, StalledTicks: m.last.stalled,
			HashChecks: m.last.hashChecks, HashMismatches: m.last.mismatches}
		if m.bots.Clients > 0 {
			b := m.bots
			s.Bots = &b
			r.Lost += b.ActionsLost
			r.Desyncs += b.DesyncPermanent
			r.Missing += b.Clients - b.Connected
		}
		if m.botsErr != nil {
			s.BotsError = m.botsErr.Error()
			r.OK = false
		}
		r.Mismatch += s.HashMismatches
		r.Checks += s.HashChecks
		r.Servers = append(r.Servers, s)
	}
	if r.Mismatch != 0 || r.Lost != 0 || r.Desyncs != 0 || r.Missing != 0 || (len(ms) > 1 && r.Checks == 0) {
		r.OK = false
	}
	return r
}
