// Package bridgetest is a browser for tests: a pion peer with the page's
// two pre-negotiated data channels (STANDARD.md section 5) that sends
// whatever a test tells it to, garbage included, and hands over whatever
// it receives. The client library (tools/client) is the well-behaved
// browser; this one is for the bridge's own tests and for tests of what a
// server does with a browser that breaks the rules.
//
// It does not import the bridge, so that the bridge's internal tests can
// use it; its test checks that its channel ids are the bridge's.
package bridgetest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// The channels' negotiated ids (STANDARD.md section 5).
const (
	ChannelUnreliable uint16 = 0
	ChannelReliable   uint16 = 1
)

// Message is one message the browser received.
type Message struct {
	Reliable bool
	Data     []byte
}

// Browser is one pion peer playing a browser on loopback.
type Browser struct {
	PC                   *webrtc.PeerConnection
	Unreliable, Reliable *webrtc.DataChannel
	// Got receives every message, in order per channel; a test that does
	// not read it loses messages past 256.
	Got chan Message
	// Closed is closed when the peer connection fails or closes.
	Closed chan struct{}
	opened chan struct{}
}

// New makes the peer and its channels; it is closed when the test ends.
func New(t testing.TB) *Browser {
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
	t.Cleanup(func() { pc.Close() })
	b := &Browser{PC: pc, Got: make(chan Message, 256), Closed: make(chan struct{}), opened: make(chan struct{}, 2)}
	no, yes, zero := false, true, uint16(0)
	idU, idR := ChannelUnreliable, ChannelReliable
	if b.Unreliable, err = pc.CreateDataChannel("snapshots", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idU, Ordered: &no, MaxRetransmits: &zero}); err != nil {
		t.Fatal(err)
	}
	if b.Reliable, err = pc.CreateDataChannel("session", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idR, Ordered: &yes}); err != nil {
		t.Fatal(err)
	}
	for _, dc := range []*webrtc.DataChannel{b.Unreliable, b.Reliable} {
		reliable := dc == b.Reliable
		dc.OnOpen(func() { b.opened <- struct{}{} })
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			select {
			case b.Got <- Message{Reliable: reliable, Data: m.Data}:
			default:
			}
		})
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			once.Do(func() { close(b.Closed) })
		}
	})
	return b
}

// Offer makes the browser's offer, its ICE candidates gathered.
func (b *Browser) Offer(t testing.TB) string {
	t.Helper()
	o, err := b.PC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(b.PC)
	if err := b.PC.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return b.PC.LocalDescription().SDP
}

// Answer applies the server's answer and waits (at most 10 s) for both
// channels to open.
func (b *Browser) Answer(t testing.TB, sdp string) {
	t.Helper()
	if err := b.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-b.opened:
		case <-time.After(10 * time.Second):
			t.Fatal("channels did not open")
		}
	}
}

// Dial posts the offer to url (a bridge's signaling endpoint) and applies
// the answer: the channels are open when it returns.
func (b *Browser) Dial(t testing.TB, url string) {
	t.Helper()
	resp, err := http.Post(url, "application/sdp", strings.NewReader(b.Offer(t)))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("signaling: %d %s", resp.StatusCode, answer)
	}
	b.Answer(t, string(answer))
}

// Next returns the next message received on the reliable channel (or on
// either, with any), failing the test after d.
func (b *Browser) Next(t testing.TB, reliableOnly bool, d time.Duration) Message {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m := <-b.Got:
			if m.Reliable || !reliableOnly {
				return m
			}
		case <-timeout:
			t.Fatalf("no message in %v", d)
			return Message{}
		}
	}
}
