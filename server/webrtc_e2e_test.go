package server_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/server"
	"github.com/flotilla/flotilla/sim/fleet"
	"github.com/flotilla/flotilla/tools/bots/botrun"
	flotilla "github.com/flotilla/flotilla/tools/client"
)

// rtcRoom is a room serving the demo game to native clients on a UDP port
// and to browsers through a bridge on the same port, signaling at URL.
// stop stops the room (its browsers are sent a Bye); the bridge and the
// socket close when the test ends.
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
	t.Cleanup(func() {
		srv.Close()
		br.Close()
		demux.Close()
		conn.Close()
	})
	return &rtcRoom{Room: room, URL: srv.URL + "/rtc", stop: func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("room: %v", err)
		}
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

// A browser session end to end, on the same UDP port as native clients: the
// page's wire over pion (tools/client's WebRTC transport, the browser's
// part), through the bridge and an Inbox into the room. It
// proves itself, gets its ship, rebuilds its views (the codec checks every
// checksum), acts and gets its results; the room sends it away with a Bye.
func TestBrowserSessionThroughTheBridge(t *testing.T) {
	r := runRTCRoom(t, server.Config{})
	ctx := context.Background()
	results := map[uint32]protocol.Result{}
	cfg := flotilla.Config{OnResult: func(o flotilla.Outcome) { results[o.Action.Seq] = o.Result }}
	c, err := flotilla.NewWebRTC(ctx, flotilla.WebRTCConfig{URL: r.URL, Loopback: true}, cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(time.Now())
	// poll runs the client until done says so or the deadline passes.
	poll := func(d time.Duration, done func() bool) bool {
		deadline := time.Now().Add(d)
		for !done() {
			now := time.Now()
			if !now.Before(deadline) {
				return false
			}
			next, err := c.Poll(now)
			if err != nil {
				t.Fatal(err)
			}
			if next.IsZero() || next.After(deadline) {
				next = deadline
			}
			if err := c.Wait(earliest(next, now.Add(10*time.Millisecond))); err != nil {
				t.Fatal(err)
			}
		}
		return true
	}
	if !poll(10*time.Second, c.Ready) {
		t.Fatalf("no ship after 10 s: %v, stats %+v", c.Err(), r.Room.Stats())
	}
	ship := c.Ship()
	thrust, err := c.Act(time.Now(), fleet.KindThrust, [4]int32{100, 0, 0, int32(ship)})
	if err != nil {
		t.Fatal(err)
	}
	join, err := c.Act(time.Now(), fleet.KindJoin, [4]int32{-1, 0})
	if err != nil {
		t.Fatal(err)
	}
	poll(time.Second, func() bool { return false })
	st := r.Room.Stats()
	v, _, viewed := c.View() // valid until the next Poll
	inView := viewed && v.Find(ship) >= 0
	r.stop()
	poll(5*time.Second, func() bool { return c.Err() != nil })
	if !errors.Is(c.Err(), flotilla.ErrSession) || c.Reason() != netcode.ReasonShutdown {
		t.Errorf("end %v, reason %v, want a Bye with reason shutdown", c.Err(), c.Reason())
	}
	cs := c.Stats()
	if st.Clients != 1 || cs.ChecksumMismatch != 0 || cs.Snapshots == 0 || !inView {
		t.Errorf("clients %d, checksum mismatches %d, snapshots %d, own ship in view: %v",
			st.Clients, cs.ChecksumMismatch, cs.Snapshots, inView)
	}
	if r := results[thrust]; r.Status != protocol.Applied {
		t.Errorf("thrust: %+v", r)
	}
	if r := results[join]; r.Status != protocol.Fizzled || r.Reason != protocol.ReasonReserved {
		t.Errorf("a client's join: %+v", r)
	}
	if st.Deltas == 0 {
		t.Errorf("no delta snapshot: %+v", st)
	}
}

// earliest is the earlier of a and b, where zero means never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
