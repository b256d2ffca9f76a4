package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/udpio"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// rtcClient is a pion peer playing the browser's part of the session
// protocol: it rebuilds views from the snapshots, acknowledges each one it
// accepted on the unreliable channel, and keeps its results.
type rtcClient struct {
	t      *testing.T
	pc     *webrtc.PeerConnection
	un, re *webrtc.DataChannel

	mu       sync.Mutex
	codec    *codec.Codec
	welcome  protocol.Welcome
	ring     protocol.Ring[probeSlot]
	newest   *probeSlot
	results  map[uint32]protocol.Result
	checksum int
	bye      *protocol.Bye
	nextSeq  uint32
}

func dialRTC(t *testing.T, url string) *rtcClient {
	t.Helper()
	var se webrtc.SettingEngine
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = lf
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	c := &rtcClient{t: t, pc: pc, results: map[uint32]protocol.Result{}, nextSeq: 1}
	no, yes, zero := false, true, uint16(0)
	idU, idR := bridge.ChannelUnreliable, bridge.ChannelReliable
	if c.un, err = pc.CreateDataChannel("snapshots", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idU, Ordered: &no, MaxRetransmits: &zero}); err != nil {
		t.Fatal(err)
	}
	if c.re, err = pc.CreateDataChannel("session", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idR, Ordered: &yes}); err != nil {
		t.Fatal(err)
	}
	c.re.OnMessage(func(m webrtc.DataChannelMessage) { c.reliable(m.Data) })
	c.un.OnMessage(func(m webrtc.DataChannelMessage) { c.snapshot(m.Data) })
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	resp, err := http.Post(url, "application/sdp", strings.NewReader(pc.LocalDescription().SDP))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signaling: %d %s", resp.StatusCode, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *rtcClient) reliable(msg []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch protocol.MsgType(msg[0]) {
	case protocol.MsgWelcome:
		if err := protocol.ParseWelcome(msg, &c.welcome); err != nil {
			c.t.Errorf("welcome: %v", err)
			return
		}
		fc, err := demowire.ParseParams(c.welcome.Game)
		if err != nil {
			c.t.Errorf("params: %v", err)
			return
		}
		w, err := demowire.New(fc)
		if err != nil || w.Schema.Hash() != c.welcome.SchemaHash {
			c.t.Errorf("schema: %v", err)
			return
		}
		c.codec = codec.NewCodec(w.Schema)
	case protocol.MsgResult:
		var r protocol.Result
		if err := protocol.ParseResult(msg, &r); err != nil {
			c.t.Errorf("result: %v", err)
			return
		}
		c.results[r.Seq] = r
	case protocol.MsgBye:
		var y protocol.Bye
		if err := protocol.ParseBye(msg, &y); err == nil {
			c.bye = &y
		}
	}
}

func (c *rtcClient) snapshot(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.codec == nil {
		return // before the Welcome: refused, never acknowledged
	}
	h, body, err := protocol.ParseSnapshotHead(p)
	if err != nil {
		c.t.Errorf("head: %v", err)
		return
	}
	var base *codec.View
	frame := h.Frame
	if h.Form != protocol.Full {
		b := c.ring.At(h.Seq - uint16(h.Back))
		if b == nil {
			return
		}
		base, frame = &b.v, b.frame+h.Frame
	}
	c.ring.Clear(h.Seq)
	slot := c.ring.Slot(h.Seq)
	if h.Form == protocol.Heartbeat {
		slot.v.CopyFrom(base)
	} else if err := c.codec.Decode(body, base, &slot.v); err != nil {
		if errors.Is(err, codec.ErrChecksum) {
			c.checksum++
		}
		return
	}
	slot.frame = frame
	c.newest = c.ring.Set(h.Seq)
	_ = c.un.Send(protocol.AppendAcks(nil, h.Seq))
}

func (c *rtcClient) ship() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.results[0]; ok && r.Status == protocol.Applied {
		return r.Value
	}
	return 0
}

func (c *rtcClient) act(kind uint16, args [4]int32) uint32 {
	c.mu.Lock()
	seq := c.nextSeq
	c.nextSeq++
	c.mu.Unlock()
	if err := c.re.Send(protocol.AppendAction(nil, &protocol.Action{Seq: seq, Kind: kind, Args: args})); err != nil {
		c.t.Fatal(err)
	}
	return seq
}

// A browser session end to end, on the same UDP port as native clients: the
// page's wire over pion, through the bridge and an Inbox into the room. It
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

	c := dialRTC(t, srv.URL)
	defer c.pc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.ship() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no ship after 10 s: stats %+v", room.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	ship := c.ship()
	thrust := c.act(fleet.KindThrust, [4]int32{100, 0, 0, int32(ship)})
	join := c.act(fleet.KindJoin, [4]int32{-1, 0})
	time.Sleep(time.Second)
	st := room.Stats()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	byeBy := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := c.bye != nil
		c.mu.Unlock()
		if got || time.Now().After(byeBy) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bye == nil || c.bye.Reason != uint8(netcode.ReasonShutdown) {
		t.Errorf("bye %+v, want reason shutdown", c.bye)
	}
	if st.Clients != 1 || c.checksum != 0 || c.newest == nil || c.newest.v.Find(ship) < 0 {
		t.Errorf("clients %d, checksum mismatches %d, own ship in view: %v", st.Clients, c.checksum, c.newest != nil && c.newest.v.Find(ship) >= 0)
	}
	if r := c.results[thrust]; r.Status != protocol.Applied {
		t.Errorf("thrust: %+v", r)
	}
	if r := c.results[join]; r.Status != protocol.Fizzled || r.Reason != protocol.ReasonReserved {
		t.Errorf("a client's join: %+v", r)
	}
	if st.Deltas == 0 {
		t.Errorf("no delta snapshot: %+v", st)
	}
}
