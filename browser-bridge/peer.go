package bridge

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Peer is one browser. Its methods are safe from any goroutine.
type Peer struct {
	b  *Bridge
	pc *webrtc.PeerConnection
	un *webrtc.DataChannel // unreliable, unordered
	re *webrtc.DataChannel // reliable, ordered

	mu     sync.Mutex
	addr   netip.AddrPort
	opened int  // channels open
	live   bool // Open returned true: Closed is owed
	closed bool
	timer  *time.Timer
}

// ErrClosed is returned by a closed peer's sends.
var ErrClosed = errors.New("bridge: peer closed")

// ErrTooLarge is returned for a message over MaxMessage.
var ErrTooLarge = errors.New("bridge: message over MaxMessage")

func (p *Peer) start(offer string) (string, error) {
	b := p.b
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	p.pc = pc
	p.mu.Unlock()
	no, zero := false, uint16(0)
	yes := true
	idU, idR := ChannelUnreliable, ChannelReliable
	if p.un, err = pc.CreateDataChannel("snapshots", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idU, Ordered: &no, MaxRetransmits: &zero}); err != nil {
		return "", err
	}
	if p.re, err = pc.CreateDataChannel("session", &webrtc.DataChannelInit{Negotiated: &yes, ID: &idR, Ordered: &yes}); err != nil {
		return "", err
	}
	p.un.OnOpen(p.channelOpen)
	p.re.OnOpen(p.channelOpen)
	p.un.OnMessage(func(m webrtc.DataChannelMessage) { p.message(m, false) })
	p.re.OnMessage(func(m webrtc.DataChannelMessage) { p.message(m, true) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
			p.close(true)
		}
	})
	p.mu.Lock()
	p.timer = time.AfterFunc(b.cfg.OpenTimeout, func() {
		p.mu.Lock()
		late := p.opened < 2
		p.mu.Unlock()
		if late {
			b.log.Debug("bridge: peer did not open in time", "from", p.Addr())
			p.close(true)
		}
	})
	p.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", err
	}
	<-gathered
	return pc.LocalDescription().SDP, nil
}

func (p *Peer) channelOpen() {
	p.mu.Lock()
	p.opened++
	ready := p.opened == 2 && !p.closed
	p.mu.Unlock()
	if !ready {
		return
	}
	p.learnAddr()
	if !p.b.h.Open(p) {
		p.close(false)
		return
	}
	p.mu.Lock()
	p.live = !p.closed
	p.mu.Unlock()
}

// learnAddr takes the peer's address from the selected ICE pair.
func (p *Peer) learnAddr() {
	pair, err := p.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		return
	}
	if a, err := netip.ParseAddr(pair.Remote.Address); err == nil {
		p.mu.Lock()
		p.addr = netip.AddrPortFrom(a.Unmap(), pair.Remote.Port)
		p.mu.Unlock()
	}
}

func (p *Peer) message(m webrtc.DataChannelMessage, reliable bool) {
	p.mu.Lock()
	live := p.live && !p.closed
	p.mu.Unlock()
	if !live || len(m.Data) > MaxMessage {
		return
	}
	if reliable {
		p.b.h.Reliable(p, m.Data)
	} else {
		p.b.h.Unreliable(p, m.Data)
	}
}

// Addr is the browser's address: the selected ICE candidate's once the
// channels are open, the signaling request's before.
func (p *Peer) Addr() netip.AddrPort {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// SendReliable sends msg on the reliable channel.
func (p *Peer) SendReliable(msg []byte) error { return p.send(p.re, msg) }

// SendUnreliable sends msg on the unreliable channel.
func (p *Peer) SendUnreliable(msg []byte) error { return p.send(p.un, msg) }

func (p *Peer) send(dc *webrtc.DataChannel, msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrTooLarge
	}
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return dc.Send(msg)
}

// Close ends the peer; Closed is not called for a close the caller makes.
func (p *Peer) Close() { p.close(false) }

// close ends the peer once; notify calls Closed if the peer was live.
func (p *Peer) close(notify bool) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	live := p.live
	if p.timer != nil {
		p.timer.Stop()
	}
	pc := p.pc
	p.mu.Unlock()
	p.b.forget(p)
	if pc != nil {
		go pc.Close() // pion's Close waits for its goroutines: never on theirs
	}
	if notify && live {
		p.b.h.Closed(p)
	}
}
