package server

import (
	"net/netip"
	"sync"
	"sync/atomic"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/protocol"
)

// WebRTC is the room's transport for browsers: each open peer of a
// browser bridge is a session. Peers run on pion's goroutines, so their
// events reach the room through an Inbox. On the wire: the reliable
// channel carries the session protocol's messages (and a Bye with the
// reason before the room closes a session); the unreliable channel carries
// snapshots to the browser and, from it, acknowledgements: the snapshot
// sequences it accepted (protocol.AppendAcks). A browser that sends
// acknowledgements that do not parse breaks the protocol: it is told so
// (a Bye with reason protocol) and its session ends, like one whose
// reliable message does not parse (which the room sends away).
//
// Give Handler to bridge.New and Transport to the room.
type WebRTC struct {
	inbox *Inbox
	mu    sync.Mutex
	links map[*bridge.Peer]*rtcLink
	bad   atomic.Uint64 // acknowledgement messages that did not parse
}

// end ends p's session from the bridge's side: the room hears Leave (it
// does not close the link), and the browser, told why, is closed once that
// has left.
func (h *rtcHandler) end(p *bridge.Peer, l *rtcLink, reason Reason) {
	h.mu.Lock()
	if h.links[p] != l {
		h.mu.Unlock()
		return // ended already (pion's goroutines may race to it)
	}
	delete(h.links, p)
	h.mu.Unlock()
	h.inbox.Leave(l)
	_ = p.SendReliable(protocol.AppendBye(nil, &protocol.Bye{Reason: uint8(netReason(reason))}))
	p.CloseAfterFlush()
}

// NewWebRTC returns the transport; capacity and maxBytes bound its Inbox
// (events and message bytes waiting for the room).
func NewWebRTC(capacity, maxBytes int) *WebRTC {
	return &WebRTC{inbox: NewInbox(capacity, maxBytes), links: make(map[*bridge.Peer]*rtcLink)}
}

// BadAcks counts browsers' acknowledgement messages that did not parse
// (each ended its session). Safe from any goroutine.
func (w *WebRTC) BadAcks() uint64 { return w.bad.Load() }

// Transport is what the room serves (pass it to New).
func (w *WebRTC) Transport() Transport { return w.inbox }

// Handler is what the bridge reports to (pass it to bridge.New).
func (w *WebRTC) Handler() bridge.Handler { return (*rtcHandler)(w) }

// rtcLink is a browser peer as the room's Link.
type rtcLink struct {
	w *WebRTC
	p *bridge.Peer
}

func (l *rtcLink) Addr() netip.AddrPort { return l.p.Addr() }

// Overhead: DTLS and SCTP around each message.
func (l *rtcLink) Overhead() int { return bridge.Overhead }

// SendReliable: a browser that does not keep up (bridge.ErrBacklog) is
// closed by the bridge, which reports it: the room hears Leave.
func (l *rtcLink) SendReliable(msg []byte) error { return l.p.SendReliable(msg) }

func (l *rtcLink) SendSnapshot(_ uint16, payload []byte) error { return l.p.SendUnreliable(payload) }

// Close tells the browser why (a Bye on the reliable channel) and closes
// the peer once the Bye has left (at most a second).
func (l *rtcLink) Close(reason Reason) {
	l.w.inbox.Forget(l)
	l.w.mu.Lock()
	delete(l.w.links, l.p)
	l.w.mu.Unlock()
	_ = l.p.SendReliable(protocol.AppendBye(nil, &protocol.Bye{Reason: uint8(netReason(reason))}))
	l.p.CloseAfterFlush()
}

// rtcHandler is WebRTC as the bridge's Handler: pion's goroutines.
type rtcHandler WebRTC

func (h *rtcHandler) link(p *bridge.Peer) *rtcLink {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.links[p]
}

func (h *rtcHandler) Open(p *bridge.Peer) bool {
	l := &rtcLink{w: (*WebRTC)(h), p: p}
	h.mu.Lock()
	h.links[p] = l
	h.mu.Unlock()
	if !h.inbox.Arrive(l) {
		h.mu.Lock()
		delete(h.links, p)
		h.mu.Unlock()
		return false
	}
	return true
}

func (h *rtcHandler) Reliable(p *bridge.Peer, msg []byte) {
	if l := h.link(p); l != nil && !h.inbox.Message(l, msg) {
		// The room cannot take it: the session ends rather than lose a
		// message it would have acknowledged.
		h.end(p, l, ReasonBacklog)
	}
}

func (h *rtcHandler) Unreliable(p *bridge.Peer, msg []byte) {
	l := h.link(p)
	if l == nil {
		return
	}
	if err := protocol.ParseAcks(msg, func(seq uint16) { h.inbox.Acked(l, seq) }); err != nil {
		h.bad.Add(1)
		h.end(p, l, ReasonProtocol)
	}
}

func (h *rtcHandler) Closed(p *bridge.Peer) {
	h.mu.Lock()
	l := h.links[p]
	delete(h.links, p)
	h.mu.Unlock()
	if l != nil {
		h.inbox.Leave(l)
	}
}
