package server_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/tools/bots/botrun"
)

// runRoom serves the demo game with cfg on conn until the returned stop
// is called.
func runRoom(t *testing.T, conn batch.Conn, cfg server.Config) (*server.Room, *server.UDP, func()) {
	t.Helper()
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	udp, err := server.NewUDP(conn, server.UDPConfig{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	room, err := server.New(cfg, game, nil, udp)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- room.Run(ctx) }()
	return room, udp, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("room: %v", err)
		}
		conn.Close()
	}
}

func checkReport(t *testing.T, rep botrun.Report, cfg server.Config) {
	t.Helper()
	t.Logf("bots: %+v", rep)
	if rep.Connected != rep.Clients {
		t.Errorf("%d of %d bots connected: %v", rep.Connected, rep.Clients, rep.Errors)
	}
	if rep.DesyncPermanent != 0 {
		t.Errorf("%d permanent desyncs", rep.DesyncPermanent)
	}
	if rep.ActionsLost != 0 {
		t.Errorf("%d acknowledged actions never answered", rep.ActionsLost)
	}
	if rep.Snapshots == 0 || rep.ActionsApplied == 0 {
		t.Errorf("no snapshots or no applied actions")
	}
	cfg = cfg.WithDefaults()
	perSnapshot := uint64(cfg.BytesPerSec / cfg.SnapshotHz)
	if rep.BytesPerClientTickP50 > perSnapshot {
		t.Errorf("bytes per client per snapshot p50 %d over the budget's %d", rep.BytesPerClientTickP50, perSnapshot)
	}
	if rep.BytesPerClientTickP99 > 1200 {
		t.Errorf("snapshot datagrams up to %d bytes at p99, over one 1,200-byte datagram", rep.BytesPerClientTickP99)
	}
}

// The end-to-end run: a server and 100 bots over real loopback UDP
// for 10 s.
func TestBotsOverRealUDP(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real time")
	}
	conn, err := udpio.Listen(udpio.KindBatched, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{}
	room, udp, stop := runRoom(t, conn, cfg)
	rep, err := botrun.Run(context.Background(), botrun.Config{
		Server: udp.LocalAddr(), Clients: 100, Duration: 10 * time.Second, Seed: 1,
	})
	st := room.Stats()
	stop()
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, cfg)
	// Duration over which the budget applies: the bytes each bot received
	// per second stay under its byte budget.
	perBotPerSec := float64(rep.SnapshotBytes) / float64(rep.Clients) / rep.DurationSeconds
	if limit := float64(cfg.WithDefaults().BytesPerSec); perBotPerSec > limit {
		t.Errorf("%.0f snapshot bytes per bot per second, budget %.0f", perBotPerSec, limit)
	}
	t.Logf("room: %d full, %d delta, %d heartbeat, %d prioritized, %d shared encodings of %d, %d desync reports",
		st.Fulls, st.Deltas, st.Heartbeats, st.Prioritized, st.EncodesShared, st.Encodes, st.DesyncReports)
	if st.PriceMisses != 0 {
		t.Errorf("%d prioritized views did not fit their price", st.PriceMisses)
	}
}

// The same under the network simulator at 10% loss and 80 ms jitter, in
// real time: state converges and nothing acknowledged is lost.
func TestBotsUnderLossAndJitter(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real time")
	}
	net := netsim.New(netsim.Config{Seed: 5, Latency: 40 * time.Millisecond, Jitter: 80 * time.Millisecond, Loss: 0.1})
	addr := netip.MustParseAddrPort("10.0.0.1:7777")
	conn, err := net.Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{}
	_, _, stop := runRoom(t, conn, cfg)
	rep, err := botrun.Run(context.Background(), botrun.Config{
		Server: addr, Clients: 40, Duration: 8 * time.Second, Seed: 2,
		Listen: func(i int) (batch.Conn, error) {
			return net.Listen(netip.MustParseAddrPort(fmt.Sprintf("10.0.1.%d:%d", 1+i/16, 2000+i)))
		},
	})
	stop()
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, cfg)
	if rep.MissingBaseline+rep.ChecksumMismatch+rep.Snapshots == 0 {
		t.Error("nothing received")
	}
}
