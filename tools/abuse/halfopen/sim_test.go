package halfopen

import (
	"context"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/netsim"
)

// The whole of Run against a real netcode.Server on the network simulator,
// on synctest's virtual clock: repeatable, and seconds of attack cost no
// wall time.

var simServer = netip.MustParseAddrPort("127.0.0.1:7777")

// simRun runs cfg against a netcode server configured by sc on a perfect
// simulated network, the server sending each session a payload every 50 ms,
// and returns the report and the server's handler, read once the run ended
// but before the server stopped.
func simRun(t *testing.T, sc netcode.ServerConfig, cfg Config) (Report, *watch, netcode.Stats) {
	t.Helper()
	return simRunGated(t, sc, gate{}, cfg)
}

// simRunGated is simRun against a server whose sessions pass g.
func simRunGated(t *testing.T, sc netcode.ServerConfig, g gate, cfg Config) (Report, *watch, netcode.Stats) {
	t.Helper()
	n := netsim.New(netsim.Config{Seed: 1})
	conn, err := n.Listen(simServer)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ts := startGatedServer(t, conn, sc, 50*time.Millisecond, g)
	cfg.Server, cfg.dial = simServer, simDialer(n)
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st := ts.srv.Stats()
	if err := ts.stop(); err != nil {
		t.Fatalf("server loop: %v", err)
	}
	return rep, ts.w, st
}

// The attack: every session is accepted and, on keepalives that
// acknowledge nothing, outlives the server's 1 s timeout three times over.
// The server hears no ack of the payloads it keeps sending.
func TestSimHalfOpenSessionsOutliveTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sessions = 200
		var progress []Progress
		rep, w, st := simRun(t, netcode.ServerConfig{Config: netcode.Config{Timeout: time.Second}}, Config{
			Sessions: sessions, Keepalive: 200 * time.Millisecond, Duration: 3 * time.Second, Rate: 1000,
			OnProgress: func(p Progress) { progress = append(progress, p) },
		})
		connected, live, acked, delivered, disconnected := w.snapshot()
		if connected != sessions || live != sessions || len(disconnected) != 0 || st.Sessions != sessions {
			t.Errorf("server: %d connected, %d live (stats %d), disconnects %v; want %d, %d, none",
				connected, live, st.Sessions, disconnected, sessions, sessions)
		}
		if acked != 0 || st.Acked != 0 || delivered != 0 {
			t.Errorf("server: %d acks (stats %d), %d deliveries; want none", acked, st.Acked, delivered)
		}
		if st.UnreliableOut < sessions*40 {
			t.Errorf("server sent %d unreliable payloads, want at least %d", st.UnreliableOut, sessions*40)
		}
		if rep.Attempted != sessions || rep.Accepted != sessions || rep.Live != sessions || rep.DisconnectedTotal != 0 {
			t.Errorf("report: %d attempted, %d accepted, %d live, %d disconnected", rep.Attempted, rep.Accepted, rep.Live, rep.DisconnectedTotal)
		}
		// All but the last round, sent as the sockets closed.
		if got := rep.Rx["unreliable"].Packets; got > st.UnreliableOut || got < st.UnreliableOut-sessions {
			t.Errorf("sessions read %d unreliable datagrams, the server sent %d", got, st.UnreliableOut)
		}
		// One request and one response each, then a keepalive every 200 ms
		// from the accept (within the 200 ms ramp) to the end at 3 s.
		if rep.Tx["request"].Packets != sessions || rep.Tx["response"].Packets != sessions {
			t.Errorf("sent %v", rep.Tx)
		}
		if ka := rep.Tx["keepalive"].Packets; ka < sessions*13 || ka > sessions*15 {
			t.Errorf("%d keepalives sent, want 13 to 15 per session", ka)
		}
		if len(rep.Tx) != 3 || len(rep.Ignored) != 0 {
			t.Errorf("sent types %v, ignored %v", rep.Tx, rep.Ignored)
		}
		if rep.ServerTimeoutMs != 1000 || rep.ServerKeepaliveMs != 250 {
			t.Errorf("accept advertised keepalive %d ms, timeout %d ms", rep.ServerKeepaliveMs, rep.ServerTimeoutMs)
		}
		if len(progress) < 2 || progress[0].Live != sessions || progress[len(progress)-1].RxPerSecond <= 0 {
			t.Errorf("progress %+v", progress)
		}
	})
}

// The control: a keepalive longer than the server's timeout lets the server
// end every session with reason timeout about 1 s after its accept, and the
// report says so.
func TestSimSlowKeepaliveTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const sessions = 100
		rep, w, _ := simRun(t, netcode.ServerConfig{Config: netcode.Config{Timeout: time.Second}}, Config{
			Sessions: sessions, Keepalive: 3 * time.Second, Duration: 2 * time.Second,
		})
		if _, _, _, _, d := w.snapshot(); d[netcode.ReasonTimeout] != sessions {
			t.Errorf("server disconnects %v", d)
		}
		if rep.Accepted != sessions || rep.Disconnected["timeout"] != sessions || rep.Live != 0 {
			t.Errorf("report: %d accepted, disconnected %v, %d live", rep.Accepted, rep.Disconnected, rep.Live)
		}
		// A timeout's disconnect is sent once (STANDARD.md 3.5).
		if got := rep.DisconnectReasons["timeout"]; got != sessions {
			t.Errorf("%d timeout disconnect packets, want one for each of %d", got, sessions)
		}
		if rep.Ignored["state"] != 0 {
			t.Errorf("ignored %v: a single copy leaves nothing to ignore", rep.Ignored)
		}
		if l := rep.Lifetime; l.N != sessions || l.Min < 1000 || l.Max > 1100 {
			t.Errorf("accept to disconnect %v, want about 1 s", l)
		}
		if rep.Tx["keepalive"].Packets != 0 {
			t.Errorf("sent %v", rep.Tx)
		}
	})
}

// A full server refuses the sessions beyond its maximum with reason full.
func TestSimRefusedWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, _, _ := simRun(t, netcode.ServerConfig{MaxSessions: 10}, Config{Sessions: 25, Duration: time.Second, Rate: 100})
		if rep.Accepted != 10 || rep.RefusedTotal != 15 || rep.Refused["full"] != 15 {
			t.Errorf("%d accepted, refused %v", rep.Accepted, rep.Refused)
		}
	})
}

// With no server, each session repeats its request every 100 ms until its
// handshake times out.
func TestSimHandshakeTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.New(netsim.Config{Seed: 1})
		rep, err := Run(context.Background(), Config{
			Server: simServer, Sessions: 10, HandshakeTimeout: time.Second, Duration: 2 * time.Second,
			dial: simDialer(n),
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.TimedOut != 10 || rep.Accepted != 0 || rep.Tx["request"].Packets != 100 {
			t.Errorf("%d timed out, %d accepted, sent %v", rep.TimedOut, rep.Accepted, rep.Tx)
		}
	})
}

// A run that ends during the ramp reports the handshakes it began.
func TestSimRunEndsDuringRamp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, _, _ := simRun(t, netcode.ServerConfig{}, Config{Sessions: 100, Rate: 100, Duration: 495 * time.Millisecond})
		if rep.Attempted != 50 || rep.Accepted != 50 || rep.Sessions != 100 {
			t.Errorf("%d of %d attempted, %d accepted", rep.Attempted, rep.Sessions, rep.Accepted)
		}
	})
}

// attempts is every handshake attempt of a report, counted by how it
// ended or where it is: Attempted + Rehandshakes when the report adds up.
func attempts(r Report) int {
	return r.Live + r.DisconnectedTotal + r.RefusedTotal + r.TimedOut + r.Handshaking + r.Failed
}

// The fixed server's defence against the attack, modelled: a session is sent
// away 1 s after it connected unless it acknowledges something (it never
// does), and at once while 20 others are live. Without Reconnect the attack
// is over after 1 s; with it, the sessions that are sent away come back
// 100 ms later, so the server holds its 20 all the time, and the
// throttled ones keep knocking, within the run's rate.
func TestSimReconnectKeepsServerFull(t *testing.T) {
	const (
		sessions = 50
		maxLive  = 20
	)
	g := gate{proofTimeout: time.Second, maxLive: maxLive}
	cfg := Config{Sessions: sessions, Keepalive: 200 * time.Millisecond, Duration: 3500 * time.Millisecond, Rate: 1000}

	synctest.Test(t, func(t *testing.T) {
		rep, w, _ := simRunGated(t, netcode.ServerConfig{}, g, cfg)
		connected, live, _, _, disconnected := w.snapshot()
		if live != 0 || rep.Live != 0 || rep.Rehandshakes != 0 || rep.Reconnect || rep.ReconnectDelayMs != 0 {
			t.Errorf("without reconnect: server holds %d, report %d live, %d re-handshakes", live, rep.Live, rep.Rehandshakes)
		}
		if connected != sessions || disconnected[netcode.ReasonTimeout] != maxLive || disconnected[netcode.ReasonThrottled] != sessions-maxLive {
			t.Errorf("without reconnect: %d connected, disconnects %v", connected, disconnected)
		}
	})

	synctest.Test(t, func(t *testing.T) {
		var progress []Progress
		cfg := cfg
		cfg.Reconnect = true
		cfg.OnProgress = func(p Progress) { progress = append(progress, p) }
		rep, w, _ := simRunGated(t, netcode.ServerConfig{}, g, cfg)
		connected, live, acked, _, disconnected := w.snapshot()
		// Every wave is sent away at about 1 s, 2 s and 3 s; 100 ms later
		// the server is full again, and stays so to the end at 3.5 s.
		if live != maxLive || rep.Live != maxLive {
			t.Errorf("server holds %d sessions at the end, report %d live; want %d", live, rep.Live, maxLive)
		}
		if acked != 0 {
			t.Errorf("server saw %d acks", acked)
		}
		if rep.Attempted != sessions || rep.Rehandshakes == 0 || rep.Attempted+rep.Rehandshakes != attempts(rep) {
			t.Errorf("%d attempted, %d re-handshakes, %d attempts accounted for", rep.Attempted, rep.Rehandshakes, attempts(rep))
		}
		// Rate bounds every handshake: 1,000 a second for 3.5 s.
		if begun := rep.Attempted + rep.Rehandshakes; begun > 3501 || uint64(begun) != rep.Tx["request"].Packets {
			t.Errorf("%d handshakes begun, %d requests sent; at most 3,501 at 1,000/s", begun, rep.Tx["request"].Packets)
		}
		// At the run's last instant the server may accept (and send away)
		// one more session than the attacker, which stops reading then,
		// hears of: goroutines woken at one virtual instant run in any
		// order.
		late := connected - rep.Accepted
		if late > 1 || rep.DisconnectedTotal+late != connected-live || rep.RefusedTotal+rep.TimedOut+rep.Failed != 0 {
			t.Errorf("server: %d connected, %d live; report: %d accepted, %d disconnected, %d refused, %d timed out, %d failed",
				connected, live, rep.Accepted, rep.DisconnectedTotal, rep.RefusedTotal, rep.TimedOut, rep.Failed)
		}
		throttledLate := disconnected[netcode.ReasonThrottled] - rep.Disconnected["throttled"]
		if rep.Disconnected["timeout"] != disconnected[netcode.ReasonTimeout] || throttledLate != late ||
			rep.Disconnected["timeout"] < 3*maxLive || len(rep.Disconnected) != 2 {
			t.Errorf("report disconnects %v, server %v", rep.Disconnected, disconnected)
		}
		// Sent away after the proof timeout, give or take the server's 50 ms
		// check; throttled at once.
		if l := rep.LifetimeByReason["timeout"]; l.Min < 1000 || l.Max > 1050 {
			t.Errorf("accept to timeout %v, want about 1 s", l)
		}
		if l := rep.LifetimeByReason["throttled"]; l.Max != 0 {
			t.Errorf("accept to throttled %v, want 0 on a perfect network", l)
		}
		if last := progress[len(progress)-1]; last.Rehandshakes == 0 || last.Live != maxLive {
			t.Errorf("progress %+v", last)
		}
	})
}

// A full server refuses each attempt; sessions that keep starting over
// take every turn the rate allows and no more, and none of the ramp's.
func TestSimReconnectBoundedByRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rep, w, _ := simRun(t, netcode.ServerConfig{MaxSessions: 10}, Config{
			Sessions: 25, Duration: time.Second, Rate: 100, Reconnect: true, ReconnectDelay: 5 * time.Millisecond,
		})
		_, live, _, _, _ := w.snapshot()
		// Turns every 10 ms from 0 to 990 ms, the one at 1 s racing the end.
		begun := rep.Attempted + rep.Rehandshakes
		if rep.Attempted != 25 || begun < 100 || begun > 101 || begun != attempts(rep) {
			t.Errorf("%d sessions and %d handshakes begun (%d accounted for), want 25 and the rate's 100", rep.Attempted, begun, attempts(rep))
		}
		if live != 10 || rep.Live != 10 || rep.Accepted != 10 || rep.RefusedTotal != rep.Refused["full"] || rep.RefusedTotal < begun-10-15 {
			t.Errorf("server holds %d; report: %d live, %d accepted, refused %v", live, rep.Live, rep.Accepted, rep.Refused)
		}
		if rep.ReconnectDelayMs != 5 {
			t.Errorf("reconnect delay %v ms", rep.ReconnectDelayMs)
		}
	})
}
