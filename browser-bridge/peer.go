package bridge

import (
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// Peer is one browser. Its methods are safe from any goroutine.
//
// Its life: connecting (an offer answered, channels not both open), then
// opening (Handler.Open running), then live (Open returned true), then
// closed. Messages that arrive before Open returns wait for it; a close
// while Open runs is reported (Closed) once Open has returned true.
type Peer struct {
	b     *Bridge
	key   netip.Addr // the signaling address's key (batch.AddrKey) while connecting
	un    *webrtc.DataChannel
	re    *webrtc.DataChannel
	ready chan struct{} // closed once Open returned, or the peer closed

	mu         sync.Mutex
	pc         *webrtc.PeerConnection
	addr       netip.AddrPort
	opened     int  // channels open
	opening    bool // Open is running
	live       bool // Open returned true: Closed is owed on a close
	owed       bool // closed while opening, notify: Closed after Open
	closed     bool
	connecting bool // counted in the bridge's connecting peers
	readyOnce  sync.Once
	timer      *time.Timer
}

// Errors of a peer's sends.
var (
	// ErrClosed: the peer is closed.
	ErrClosed = errors.New("bridge: peer closed")
	// ErrTooLarge: a message over MaxMessage.
	ErrTooLarge = errors.New("bridge: message over MaxMessage")
	// ErrBacklog: the channel holds more unsent data than its bound (the
	// browser does not keep up); an unreliable message is not sent, a
	// reliable one ends the peer.
	ErrBacklog = errors.New("bridge: send backlog")
)

// Send bounds: bytes a channel may hold unsent.
const (
	maxUnreliableBacklog = 8 * MaxMessage
	maxReliableBacklog   = 64 << 10
)

func (p *Peer) start(offer string) (string, error) {
	b := p.b
	pc, err := b.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	if p.closed { // the bridge closed meanwhile
		p.mu.Unlock()
		b.closePC(pc)
		return "", ErrClosed
	}
	p.pc = pc
	p.mu.Unlock()
	no, yes, zero := false, true, uint16(0)
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
		// Disconnected is transient (a blip): only Failed and Closed end.
		if s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateClosed {
			p.close(true)
		}
	})
	p.mu.Lock()
	p.timer = time.AfterFunc(b.cfg.OpenTimeout, func() {
		p.mu.Lock()
		late := p.opened < 2 && !p.closed
		p.mu.Unlock()
		if late {
			b.st[RefusedOpenTimeout].Add(1)
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
	// ICE-lite gathers its own address at once; a close meanwhile stops
	// gathering for good, so do not wait for it then.
	select {
	case <-gathered:
	case <-p.ready:
		return "", ErrClosed
	case <-time.After(b.cfg.OpenTimeout):
		return "", errors.New("bridge: gathering timed out")
	}
	return pc.LocalDescription().SDP, nil
}

func (p *Peer) channelOpen() {
	p.mu.Lock()
	p.opened++
	ready := p.opened == 2 && !p.closed
	if ready {
		p.opening = true
	}
	p.mu.Unlock()
	if !ready {
		return
	}
	p.b.opened(p)
	p.learnAddr()
	ok := p.b.h.Open(p)
	p.mu.Lock()
	p.opening = false
	p.live = ok && !p.closed
	owed := ok && p.owed
	p.mu.Unlock()
	p.readyOnce.Do(func() { close(p.ready) })
	switch {
	case !ok:
		p.close(false)
	case owed:
		p.b.h.Closed(p) // closed while Open ran
	}
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
	<-p.ready // a message may come before Open has returned
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

// SendReliable sends msg on the reliable channel. When the channel holds
// more than 64 KiB unsent (the browser does not keep up), the peer is
// closed (Closed follows) and ErrBacklog returned.
func (p *Peer) SendReliable(msg []byte) error {
	if err := p.check(msg); err != nil {
		return err
	}
	if p.re.BufferedAmount() > maxReliableBacklog {
		p.close(true)
		return ErrBacklog
	}
	return p.re.Send(msg)
}

// SendUnreliable sends msg on the unreliable channel, or returns
// ErrBacklog without sending when the channel already holds eight messages'
// worth unsent.
func (p *Peer) SendUnreliable(msg []byte) error {
	if err := p.check(msg); err != nil {
		return err
	}
	if p.un.BufferedAmount() > maxUnreliableBacklog {
		return ErrBacklog
	}
	return p.un.Send(msg)
}

func (p *Peer) check(msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrTooLarge
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.opened < 2 {
		return ErrClosed
	}
	return nil
}

// Close ends the peer at once; Closed is not called for a close the caller
// makes.
func (p *Peer) Close() { p.close(false) }

// CloseAfterFlush ends the peer once what it has queued has left (at most
// a second from now): a last message, such as the reason, goes first.
// Closed is not called.
func (p *Peer) CloseAfterFlush() {
	p.b.flushing.add()
	go func() {
		defer p.b.flushing.done()
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) && p.re.BufferedAmount()+p.un.BufferedAmount() > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		p.close(false)
	}()
}

// close ends the peer once; notify calls Closed if the peer was live (or
// has Open to return true).
func (p *Peer) close(notify bool) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	live, opening := p.live, p.opening
	if opening && notify {
		p.owed = true
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	pc := p.pc
	p.mu.Unlock()
	if !opening {
		p.readyOnce.Do(func() { close(p.ready) })
	}
	p.b.forget(p)
	if pc != nil {
		p.b.closePC(pc)
	}
	if notify && live {
		p.b.h.Closed(p)
	}
}
