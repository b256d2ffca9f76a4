package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/browser-bridge/bridgetest"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/netcode/netsim"
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

// runRTCRoom starts the room, its bridge and its signaling server on a
// real loopback socket; the bridge's bounds on offers admit a crowd of
// bots from one address.
func runRTCRoom(t testing.TB, cfg server.Config) *rtcRoom {
	t.Helper()
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return runRTCRoomOn(t, conn, cfg)
}

// runRTCRoomOn is runRTCRoom on conn (a netsim endpoint, say), which it
// closes when the test ends.
func runRTCRoomOn(t testing.TB, conn batch.Conn, cfg server.Config) *rtcRoom {
	t.Helper()
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
	// 20 bots, and a room that takes at most 16 clients of one address:
	// all connect only if the bots spread over 127.0.0.1 and 127.0.0.2, as
	// their own sockets and bound signaling requests make them.
	cfg := server.Config{MaxClientsPerAddr: botrun.BotsPerLoopbackAddr}
	r := runRTCRoom(t, cfg)
	rep, err := botrun.Run(context.Background(), botrun.Config{
		Transport: botrun.TransportWebRTC, RTC: r.URL, Clients: 20, Duration: 5 * time.Second, Seed: 3,
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

// The browser's wire through the project's simulator at 10% loss and 80 ms
// jitter each way, in real time: every bot's pion and the server's bridge
// send over netsim endpoints. Views converge (the reliable channel carries
// the actions, the unreliable one loses snapshots and acknowledgements)
// and no acknowledged action is lost.
//
// The bots connect before the loss starts: at 10% loss, pion's DTLS
// handshake (resent from 1 s, doubling) sometimes takes longer than any
// sane connect timeout, which is not what this test is about (the
// closing note of W2-2 has the figures).
func TestBotsOverWebRTCUnderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real time")
	}
	const bots = 20
	link := netsim.LinkConfig{Latency: 40 * time.Millisecond, Jitter: 80 * time.Millisecond}
	net := netsim.New(netsim.Config{Seed: 6, Latency: link.Latency, Jitter: link.Jitter})
	srv := netip.MustParseAddrPort("127.0.0.1:7777")
	conn, err := net.Listen(srv)
	if err != nil {
		t.Fatal(err)
	}
	botAddr := func(i int) netip.AddrPort {
		return netip.MustParseAddrPort(fmt.Sprintf("127.0.1.%d:5000", 1+i))
	}
	cfg := server.Config{}
	r := runRTCRoomOn(t, conn, cfg)
	run, err := botrun.Start(context.Background(), botrun.Config{
		Transport: botrun.TransportWebRTC, RTC: r.URL, Clients: bots, Duration: 10 * time.Second, Seed: 4,
		// SCTP resends a lost message after at least 1 s, doubling: the
		// drain waits long enough that a late result is not counted lost.
		Grace:  8 * time.Second,
		Listen: func(i int) (batch.Conn, error) { return net.Listen(botAddr(i)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(8 * time.Second); run.Live().Connected < bots && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if l := run.Live(); l.Connected < bots {
		t.Errorf("%d of %d bots connected on a clean network", l.Connected, bots)
	}
	link.Loss = 0.1
	for i := range bots {
		net.SetLink(srv, botAddr(i), link)
		net.SetLink(botAddr(i), srv, link)
	}
	rep := run.Wait()
	st := r.Room.Stats()
	r.stop()
	checkReport(t, rep, cfg)
	if st.Deltas == 0 {
		t.Errorf("no delta snapshots: %+v", st)
	}
	if rep.SnapshotsRefused+rep.MissingBaseline == 0 {
		t.Errorf("no snapshot refused or missing its baseline at 10%% loss: is the loss applied?")
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

// Browsers that send garbage, one on each channel, are told why (a Bye
// with reason protocol) and closed; a well-behaved browser in the same
// room notices nothing.
func TestBrowsersThatSendGarbage(t *testing.T) {
	r := runRTCRoom(t, server.Config{})
	ctx := context.Background()
	c, err := flotilla.NewWebRTC(ctx, flotilla.WebRTCConfig{URL: r.URL, Loopback: true}, flotilla.Config{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(time.Now())
	stop := make(chan struct{})
	bystander := make(chan error, 1)
	var before uint64
	go func() {
		// The bystander polls until told to stop; it counts snapshots
		// from the moment its ship is in.
		for {
			select {
			case <-stop:
				bystander <- c.Err()
				return
			default:
			}
			now := time.Now()
			if _, err := c.Poll(now); err != nil {
				bystander <- err
				return
			}
			if c.Ready() && before == 0 {
				before = c.Stats().Snapshots
			}
			_ = c.Wait(now.Add(5 * time.Millisecond))
		}
	}()

	for _, tc := range []struct {
		name    string
		garbage []byte
		channel func(b *bridgetest.Browser) interface{ Send([]byte) error }
	}{
		{"acks of odd length", []byte{1, 2, 3}, func(b *bridgetest.Browser) interface{ Send([]byte) error } { return b.Unreliable }},
		{"a reliable message of no type", []byte{99, 1, 2}, func(b *bridgetest.Browser) interface{ Send([]byte) error } { return b.Reliable }},
	} {
		b := bridgetest.New(t)
		b.Dial(t, r.URL)
		var w protocol.Welcome
		if m := b.Next(t, true, 5*time.Second); protocol.ParseWelcome(m.Data, &w) != nil {
			t.Fatalf("%s: first message %x, want a Welcome", tc.name, m.Data)
		}
		if err := tc.channel(b).Send(tc.garbage); err != nil {
			t.Fatal(err)
		}
		var bye protocol.Bye
		for deadline := time.Now().Add(5 * time.Second); ; {
			m := b.Next(t, true, time.Until(deadline))
			if protocol.ParseBye(m.Data, &bye) == nil {
				break
			}
		}
		if netcode.Reason(bye.Reason) != netcode.ReasonProtocol {
			t.Errorf("%s: Bye with reason %v, want protocol", tc.name, netcode.Reason(bye.Reason))
		}
		select {
		case <-b.Closed:
		case <-time.After(5 * time.Second):
			t.Errorf("%s: the browser was told but not closed", tc.name)
		}
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	if err := <-bystander; err != nil {
		t.Fatalf("the bystander: %v", err)
	}
	st := c.Stats()
	if before == 0 || st.Snapshots < before+5 || st.ChecksumMismatch != 0 {
		t.Errorf("the bystander: %d snapshots before the garbage, %d after, %d checksum mismatches", before, st.Snapshots, st.ChecksumMismatch)
	}
	r.stop()
}
