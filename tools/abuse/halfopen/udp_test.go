package halfopen

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/internal/leakcheck"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
)

// End to end over real loopback sockets: 50 half-open sessions against a
// netcode server whose timeout is 1 s, for 2.5 s, keepalive 200 ms. Every
// session is accepted, the server's payloads are never acknowledged, and
// still its transport removes none of them: the bug this tool measures.
func TestUDPHalfOpenSessionsOutliveTimeout(t *testing.T) {
	t.Cleanup(func() { leakcheck.Check(t) }) // runs last, after the closes below
	conn, err := udpio.Listen(udpio.KindBatched, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const (
		sessions = 50
		timeout  = time.Second
		duration = 2500 * time.Millisecond
	)
	ts := startServer(t, conn, netcode.ServerConfig{Config: netcode.Config{Timeout: timeout}}, 50*time.Millisecond)
	stopped := false
	defer func() {
		if !stopped {
			ts.stop()
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := Run(ctx, Config{
		Server: ts.srv.LocalAddr(), Sessions: sessions, Keepalive: 200 * time.Millisecond,
		Duration: duration, Rate: 500, Sources: []netip.Addr{netip.MustParseAddr("127.0.0.1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Read the server before it stops: the sessions are still its.
	st := ts.srv.Stats()
	connected, live, acked, delivered, disconnected := ts.w.snapshot()
	stopped = true
	if err := ts.stop(); err != nil {
		t.Fatalf("server loop: %v", err)
	}

	if connected != sessions || rep.Accepted != sessions {
		t.Errorf("server saw %d connects, the report %d accepted; want %d", connected, rep.Accepted, sessions)
	}
	if acked != 0 || st.Acked != 0 {
		t.Errorf("server saw %d acks (stats %d); the sessions must acknowledge nothing", acked, st.Acked)
	}
	if st.UnreliableOut < sessions*20 || rep.Rx["unreliable"].Packets == 0 {
		t.Errorf("server sent %d unreliable payloads, sessions read %d", st.UnreliableOut, rep.Rx["unreliable"].Packets)
	}
	if delivered != 0 || st.ReliableIn != 0 || st.UnreliableIn != 0 {
		t.Errorf("server delivered %d messages from the sessions; they send none", delivered)
	}
	if rep.DurationS < 2*timeout.Seconds() {
		t.Errorf("the run lasted %.2f s, not two server timeouts", rep.DurationS)
	}
	if live != sessions || st.Sessions != sessions || len(disconnected) != 0 {
		t.Errorf("after %.2f s the server holds %d sessions (stats %d), disconnected %v; want all %d",
			rep.DurationS, live, st.Sessions, disconnected, sessions)
	}
	if rep.Live != sessions || rep.DisconnectedTotal != 0 || rep.Handshaking+rep.TimedOut+rep.RefusedTotal+rep.Failed != 0 {
		t.Errorf("report: %+v", rep)
	}
	if ka := rep.Tx["keepalive"].Packets; ka < sessions*10 {
		t.Errorf("%d keepalives sent, want about %d", ka, sessions*12)
	}
}
