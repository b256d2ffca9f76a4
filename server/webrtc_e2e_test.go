package server_test

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/tools/bots/botrun"
)

// rtcRoom is a room serving the demo game to native clients on a UDP port
// and to browsers through a bridge on the same port, signaling at URL.
type rtcRoom struct {
	Room *server.Room
	URL  string
	stop func()
}

// runRTCRoom starts the room, its bridge and its signaling server; the
// bridge's bounds on offers admit a crowd of bots from one address.
func runRTCRoom(t testing.TB, cfg server.Config) *rtcRoom {
	t.Helper()
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	demux := bridge.NewDemux(conn, 0)
	rtc := server.NewWebRTC(4096, 4<<20)
	br, err := bridge.New(demux.PacketConn(), bridge.Config{
		Loopback: true, MaxConnecting: 1024, MaxConnectingPerAddr: 1024, OffersPerSecond: 1000,
	}, rtc.Handler())
	if err != nil {
		t.Fatal(err)
	}
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	udp, err := server.NewUDP(demux, server.UDPConfig{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	room, err := server.New(cfg, game, nil, udp, rtc.Transport())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- room.Run(ctx) }()
	srv := httptest.NewServer(br)
	return &rtcRoom{Room: room, URL: srv.URL + "/rtc", stop: func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("room: %v", err)
		}
		srv.Close()
		br.Close()
		demux.Close()
		conn.Close()
	}}
}

// Bots over WebRTC, the browser's wire, against a real room on loopback:
// all connect, rebuild their views with no permanent desync, and lose no
// acknowledged action.
func TestBotsOverWebRTC(t *testing.T) {
	if testing.Short() {
		t.Skip("5 s of real time")
	}
	cfg := server.Config{}
	r := runRTCRoom(t, cfg)
	rep, err := botrun.Run(context.Background(), botrun.Config{
		Transport: botrun.TransportWebRTC, RTC: r.URL, Clients: 10, Duration: 5 * time.Second, Seed: 3,
	})
	st := r.Room.Stats()
	r.stop()
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, cfg)
	if rep.SnapshotsRefused > rep.Snapshots/10 {
		t.Errorf("%d snapshots refused, %d accepted", rep.SnapshotsRefused, rep.Snapshots)
	}
	if st.Deltas == 0 {
		t.Errorf("no delta snapshots: %+v", st)
	}
}
