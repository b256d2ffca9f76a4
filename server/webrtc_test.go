package server

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
	"github.com/flotilla/flotilla/sim/fleet"
	flotilla "github.com/flotilla/flotilla/tools/client"
)

// A browser session end to end, on the same UDP port as native clients: the
// page's wire over pion (tools/client's WebRTC transport, the browser's
// part), through the bridge and an Inbox into the room. It
// proves itself, gets its ship, rebuilds its views (the codec checks every
// checksum), acts and gets its results; the room sends it away with a Bye.
func TestBrowserSessionThroughTheBridge(t *testing.T) {
	conn, err := udpio.Listen(udpio.KindNaive, netip.MustParseAddrPort("127.0.0.1:0"), udpio.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	demux := bridge.NewDemux(conn, 0)
	defer demux.Close()
	rtc := NewWebRTC(1024, 1<<20)
	br, err := bridge.New(demux.PacketConn(), bridge.Config{Loopback: true}, rtc.Handler())
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	game, err := demowire.NewGame(demowire.GameConfig{})
	if err != nil {
		t.Fatal(err)
	}
	udp, err := NewUDP(demux, UDPConfig{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	room, err := New(Config{}, game, nil, udp, rtc.Transport())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- room.Run(ctx) }()
	srv := httptest.NewServer(br)
	defer srv.Close()

	results := map[uint32]protocol.Result{}
	cfg := flotilla.Config{OnResult: func(o flotilla.Outcome) { results[o.Action.Seq] = o.Result }}
	c, err := flotilla.NewWebRTC(ctx, flotilla.WebRTCConfig{URL: srv.URL, Loopback: true}, cfg, time.Now())
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
		t.Fatalf("no ship after 10 s: %v, stats %+v", c.Err(), room.Stats())
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
	st := room.Stats()
	v, _, viewed := c.View() // valid until the next Poll
	inView := viewed && v.Find(ship) >= 0
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
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
