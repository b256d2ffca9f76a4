package botrun_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/sim/fleet"
	"github.com/flotilla/flotilla/tools/bots/botrun"
	"github.com/flotilla/flotilla/tools/client"
	"github.com/flotilla/flotilla/tools/client/clienttest"
)

var serverAddr = netip.MustParseAddrPort("127.0.0.1:7777")

// served runs a clienttest server on n in its own goroutine and the bots
// against it, and returns the report and the server once it has stopped.
func served(t *testing.T, n *netsim.Network, sc clienttest.Config, cfg botrun.Config) (botrun.Report, *clienttest.Server) {
	t.Helper()
	conn, err := n.Listen(serverAddr)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := clienttest.New(conn, sc, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	cfg.Server = serverAddr
	cfg.Listen = func(i int) (batch.Conn, error) {
		return n.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(6000+i)))
	}
	r, err := botrun.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Wait()
	live := r.Live()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// Live sums the same counters the report does.
	if live.Connected != rep.Connected || live.Snapshots != rep.Snapshots || live.ActionsSent != rep.ActionsSent ||
		live.ActionsApplied != rep.ActionsApplied || live.ChecksumMismatch != rep.ChecksumMismatch {
		t.Errorf("live %+v disagrees with the report %+v", live, rep)
	}
	return rep, srv
}

// Bots connect, play (every fire at a ship of another team, so the test
// server applies every action), and account for every action.
func TestBotsPlay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{Seed: 9, Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond})
		fires, fizzled, gone := 0, 0, 0
		sc := clienttest.Config{Answer: func(a *protocol.Action, r *protocol.Result) bool {
			if a.Kind == fleet.KindFire {
				fires++
			}
			if r.Status == protocol.Fizzled {
				fizzled++
				// At the end a bot that stopped first takes its ship away
				// while another may still fire at it.
				if a.Kind == fleet.KindFire && r.Reason == fleet.ReasonNoTarget {
					gone++
				}
			}
			return true
		}}
		rep, _ := served(t, n, sc, botrun.Config{Clients: 8, Duration: 3 * time.Second, Seed: 1,
			Rate: protocol.Rate{Hz: 20}})
		if rep.Connected != 8 || rep.ConnectFailures != 0 || len(rep.Errors) != 0 {
			t.Errorf("connected %d of 8: %v", rep.Connected, rep.Errors)
		}
		if rep.Snapshots < 8*40 || rep.SnapshotsRefused != rep.Early+rep.MissingBaseline+rep.ChecksumMismatch+rep.Malformed {
			t.Errorf("snapshots: %+v", rep)
		}
		if rep.DesyncPermanent != 0 || rep.ChecksumMismatch != 0 || rep.MissingBaseline != 0 {
			t.Errorf("desyncs against a correct server: %+v", rep)
		}
		if rep.ActionsSent == 0 || rep.ActionsApplied+rep.ActionsFizzled != rep.ActionsSent || rep.ActionsLost != 0 || rep.ActionsUnanswered != 0 {
			t.Errorf("actions: %d sent, %d applied, %d fizzled, %d lost, %d unanswered",
				rep.ActionsSent, rep.ActionsApplied, rep.ActionsFizzled, rep.ActionsLost, rep.ActionsUnanswered)
		}
		// Every other action is valid and every target an enemy in view.
		if fires == 0 || fizzled != gone || rep.ActionsFizzled != uint64(fizzled) || gone > 8 {
			t.Errorf("%d fires; %d fizzled (report %d), %d of them at ships gone", fires, fizzled, rep.ActionsFizzled, gone)
		}
		if rep.BytesPerClientTickP50 <= client.DatagramOverhead || rep.BytesPerClientTickP99 < rep.BytesPerClientTickP50 {
			t.Errorf("bytes p50 %d, p99 %d", rep.BytesPerClientTickP50, rep.BytesPerClientTickP99)
		}
		if rep.ActionToEffectMsP99 <= 0 || rep.ActionToEffectMsP99 < rep.ActionToEffectMsP50 {
			t.Errorf("action to effect p50 %.1f ms, p99 %.1f ms", rep.ActionToEffectMsP50, rep.ActionToEffectMsP99)
		}
		if !rep.OK() {
			t.Error("report not OK")
		}
		var b strings.Builder
		if err := rep.WriteText(&b); err != nil || !strings.Contains(b.String(), "8/8 connected") {
			t.Errorf("summary %q, %v", b.String(), err)
		}
		t.Logf("%+v", rep)
	})
}

// Results the server never sends are counted lost (the reliable channel
// delivered the actions), and the drain ends after the grace period.
func TestLostActionsAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{Seed: 10, Latency: 10 * time.Millisecond})
		withheld := 0
		sc := clienttest.Config{Answer: func(a *protocol.Action, r *protocol.Result) bool {
			if a.Kind == fleet.KindTurn {
				withheld++
				return false
			}
			return true
		}}
		start := time.Now()
		rep, _ := served(t, n, sc, botrun.Config{Clients: 3, Duration: 2 * time.Second, Grace: 500 * time.Millisecond})
		if withheld == 0 || rep.ActionsLost != uint64(withheld) || rep.ActionsUnanswered != uint64(withheld) || rep.ActionsUnacked != 0 {
			t.Errorf("withheld %d: lost %d, unanswered %d, unacknowledged %d", withheld, rep.ActionsLost, rep.ActionsUnanswered, rep.ActionsUnacked)
		}
		if rep.ActionsSent != rep.ActionsApplied+rep.ActionsFizzled+rep.ActionsLost {
			t.Errorf("sent %d != applied %d + fizzled %d + lost %d", rep.ActionsSent, rep.ActionsApplied, rep.ActionsFizzled, rep.ActionsLost)
		}
		if rep.OK() {
			t.Error("a run with lost actions reported OK")
		}
		// On the virtual clock: the drain waited out the grace for the
		// withheld results, and ended by the grace rule, not the limit.
		if d := time.Since(start); d < 2500*time.Millisecond || d >= 2*time.Second+botrun.DefaultDrainLimit {
			t.Errorf("the run took %v: want the 2 s duration plus the 0.5 s grace", d)
		}
	})
}

// With no server, every bot gives up after the connect timeout and the run
// says so.
func TestNoServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{Seed: 11})
		r, err := botrun.Start(t.Context(), botrun.Config{
			Server: serverAddr, Clients: 4, Duration: time.Second, ConnectTimeout: 700 * time.Millisecond,
			Listen: func(i int) (batch.Conn, error) {
				return n.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(6000+i)))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		rep := r.Wait()
		if rep.Connected != 0 || rep.ConnectFailures != 4 || len(rep.Errors) == 0 || rep.OK() {
			t.Errorf("no server: %+v", rep)
		}
	})
}

// Cancelling the context ends the play early; the bots still drain and
// report.
func TestCancelEndsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{Seed: 12, Latency: 5 * time.Millisecond})
		conn, err := n.Listen(serverAddr)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := clienttest.New(conn, clienttest.Config{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		sctx, stopServer := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- srv.Run(sctx) }()
		ctx, cancel := context.WithCancel(t.Context())
		r, err := botrun.Start(ctx, botrun.Config{Server: serverAddr, Clients: 2, Duration: 0,
			Listen: func(i int) (batch.Conn, error) {
				return n.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), uint16(6000+i)))
			}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if l := r.Live(); l.Connected != 2 || l.Snapshots == 0 {
			t.Errorf("live after 1 s: %+v", l)
		}
		cancel()
		rep := r.Wait()
		stopServer()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if rep.Connected != 2 || rep.ActionsLost != 0 || rep.ActionsSent == 0 || !rep.OK() {
			t.Errorf("cancelled run: %+v", rep)
		}
	})
}

// The real sockets: a short run over loopback UDP on a stdlib backend.
func TestBotsOverUDP(t *testing.T) {
	if testing.Short() {
		t.Skip("real sockets")
	}
	conn, err := udpio.Listen(udpio.KindBatched, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Skipf("no UDP: %v", err)
	}
	defer conn.Close()
	srv, err := clienttest.New(conn, clienttest.Config{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	rep, err := botrun.Run(t.Context(), botrun.Config{Server: srv.Addr(), Clients: 3, Duration: time.Second, IO: udpio.KindNaive})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if rep.Connected != 3 || rep.Snapshots == 0 || rep.ActionsSent == 0 || rep.ActionsLost != 0 || rep.DesyncPermanent != 0 {
		t.Errorf("over UDP: %+v", rep)
	}
}

func TestConfigValidate(t *testing.T) {
	good := botrun.Config{Server: serverAddr, Clients: 1}.WithDefaults()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if good.Bind != netip.MustParseAddr("127.0.0.1") || good.IO != botrun.DefaultIO {
		t.Errorf("defaults: bind %v, io %q", good.Bind, good.IO)
	}
	if good.Transport != botrun.TransportUDP {
		t.Errorf("default transport %q", good.Transport)
	}
	rtc := botrun.Config{Transport: botrun.TransportWebRTC, RTC: "http://127.0.0.1:8080/rtc", Clients: 1}.WithDefaults()
	if err := rtc.Validate(); err != nil {
		t.Errorf("webrtc without a server address: %v", err)
	}
	if c := (botrun.Config{Server: netip.MustParseAddrPort("10.1.2.3:9")}).WithDefaults(); c.Bind != netip.IPv4Unspecified() {
		t.Errorf("bind for a remote server: %v", c.Bind)
	}
	for in, want := range map[string]string{"0.0.0.0:7777": "127.0.0.1:7777", "[::]:7777": "[::1]:7777", "10.0.0.1:5": "10.0.0.1:5"} {
		c := botrun.Config{Server: netip.MustParseAddrPort(in)}.WithDefaults()
		if c.Server != netip.MustParseAddrPort(want) || !c.Bind.IsLoopback() && c.Server.Addr().IsLoopback() {
			t.Errorf("server %s: dialled as %v from %v, want %s", in, c.Server, c.Bind, want)
		}
	}
	for name, mut := range map[string]func(*botrun.Config){
		"no server":     func(c *botrun.Config) { c.Server = netip.AddrPort{} },
		"port 0":        func(c *botrun.Config) { c.Server = netip.MustParseAddrPort("127.0.0.1:0") },
		"no clients":    func(c *botrun.Config) { c.Clients = 0 },
		"too many":      func(c *botrun.Config) { c.Clients = botrun.MaxClients + 1 },
		"duration":      func(c *botrun.Config) { c.Duration = -1 },
		"io":            func(c *botrun.Config) { c.IO = "carrier-pigeon" },
		"rate":          func(c *botrun.Config) { c.Rate.Hz = protocol.MaxRateHz + 1 },
		"detail":        func(c *botrun.Config) { c.Detail = protocol.MaxDetail + 1 },
		"interval":      func(c *botrun.Config) { c.ActionInterval = time.Microsecond },
		"grace":         func(c *botrun.Config) { c.Grace = -1 },
		"grace > limit": func(c *botrun.Config) { c.Grace = c.DrainLimit + 1 },
		"ramp":          func(c *botrun.Config) { c.Ramp = -1 },
		"transport":     func(c *botrun.Config) { c.Transport = "quic" },
		"no rtc url":    func(c *botrun.Config) { c.Transport = botrun.TransportWebRTC },
		"rtc url":       func(c *botrun.Config) { c.Transport, c.RTC = botrun.TransportWebRTC, "127.0.0.1:8080/rtc" },
	} {
		c := good
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
