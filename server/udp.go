package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
)

// UDPConfig configures the UDP transport.
type UDPConfig struct {
	// Net tunes netcode (keepalive, timeout, KCP, batch sizes).
	Net netcode.Config
	// MaxSessions bounds netcode's sessions, proven or not. Default:
	// DefaultMaxClients + DefaultMaxUnproven; the room's own limits decide
	// who stays.
	MaxSessions int
	// CookieKey keys the handshake cookies; nil draws a random key.
	CookieKey []byte
	// PeerKey (netcode.PeerKeySize bytes) lets the servers of a mesh that
	// share it open peer sessions on this socket (netcode.Server.Dial);
	// nil: clients only.
	PeerKey []byte
}

// UDP is the room's transport for native clients: netcode sessions (a
// cookie handshake, a KCP reliable channel and an acked unreliable channel)
// on one batch.Conn. The room's snapshot sequences ride in the snapshot
// head; UDP maps netcode's unreliable sequences back to them when the
// client acknowledges.
//
// It belongs to the room's goroutine once bound; Stats, Wake and LocalAddr
// are safe from any goroutine.
type UDP struct {
	net   *netcode.Server
	ev    Events
	pev   PeerEvents // the room's, when it takes peer sessions
	links map[netcode.SessionID]*udpLink
	peers map[netcode.SessionID]*udpPeer
	bad   atomic.Uint64 // unreliable payloads from clients (refused)
}

// udpPeer is one netcode peer session as a PeerLink.
type udpPeer struct {
	u      *UDP
	sid    netcode.SessionID
	addr   netip.AddrPort
	closed bool
}

func (l *udpPeer) Addr() netip.AddrPort { return l.addr }

func (l *udpPeer) SendReliable(msg []byte) error {
	if l.closed {
		return netcode.ErrNoSession
	}
	return l.u.net.SendReliable(l.sid, msg)
}

func (l *udpPeer) Close(reason Reason) {
	if l.closed {
		return
	}
	l.closed = true
	delete(l.u.peers, l.sid)
	l.u.net.Disconnect(l.sid, netReason(reason))
}

// DialPeer opens a peer session with the mesh member at addr from this
// transport's socket (netcode.Server.Dial): the room calls it for the
// members it dials.
func (u *UDP) DialPeer(addr netip.AddrPort) error { return u.net.Dial(addr) }

// udpLink is one netcode session as a Link.
type udpLink struct {
	u    *UDP
	sid  netcode.SessionID
	addr netip.AddrPort
	id   ClientID
	// sent maps netcode's unreliable sequence (mod len) to the room's
	// snapshot sequence: netcode's send window is 64 deep, so an ack
	// names a sequence still here.
	sent [udpSeqRing]struct {
		net, room uint16
		ok        bool
	}
	closed bool
}

const udpSeqRing = 64

// udpOverhead is netcode's unreliable packet overhead: header, acks and
// sequence.
const udpOverhead = netcode.HeaderSize + netcode.AckSize + 2

// PeerAckDelay is netcode's PeerAckDelay for a mesh at tickHz frames a
// second: a frame period and a quarter, so that the acknowledgement of a
// peer's batch waits for this member's next batch and leaves in its datagram
// (half the mesh's datagrams of acking within KCP's 10 ms interval; README,
// "The mesh"). Batches themselves are never held back.
func PeerAckDelay(tickHz int) time.Duration {
	if tickHz <= 0 {
		return 0
	}
	return min(time.Second*5/time.Duration(4*tickHz), time.Second)
}

// NewUDP starts netcode's server side on conn. now is the caller's clock.
func NewUDP(conn batch.Conn, cfg UDPConfig, now time.Time) (*UDP, error) {
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxClients + DefaultMaxUnproven
	}
	u := &UDP{links: make(map[netcode.SessionID]*udpLink), peers: make(map[netcode.SessionID]*udpPeer)}
	var err error
	u.net, err = netcode.NewServer(conn, netcode.ServerConfig{
		Config:      cfg.Net,
		MaxSessions: cfg.MaxSessions,
		CookieKey:   cfg.CookieKey,
		Handler:     (*udpHandler)(u),
		Admit:       u.admit,
		PeerKey:     cfg.PeerKey,
	}, now)
	if err != nil {
		return nil, fmt.Errorf("server: udp: %w", err)
	}
	return u, nil
}

// admit asks the room, before netcode creates a session for addr.
func (u *UDP) admit(addr netip.AddrPort) netcode.Reason {
	if u.ev == nil {
		return netcode.ReasonNone
	}
	if r := u.ev.Admit(addr); r != 0 {
		return netReason(r)
	}
	return netcode.ReasonNone
}

// Bind implements Transport.
func (u *UDP) Bind(ev Events, _ func()) {
	u.ev = ev
	u.pev, _ = ev.(PeerEvents)
}

// Poll implements Transport.
func (u *UDP) Poll(now time.Time) (time.Time, error) { return u.net.Poll(now) }

// Wait implements Waiter.
func (u *UDP) Wait(deadline time.Time) error {
	if err := u.net.Wait(deadline); err != nil && !errors.Is(err, batch.ErrClosed) {
		return err
	}
	return nil
}

// Wake implements Waiter. Safe from any goroutine.
func (u *UDP) Wake() { u.net.Wake() }

// Shutdown implements Transport.
func (u *UDP) Shutdown(now time.Time) {
	for _, l := range u.links {
		l.closed = true
	}
	for _, l := range u.peers {
		l.closed = true
	}
	u.net.Shutdown(now)
	clear(u.links)
	clear(u.peers)
}

// Stats returns netcode's counters. Safe from any goroutine.
func (u *UDP) Stats() netcode.Stats { return u.net.Stats() }

// BadPayloads counts unreliable payloads clients sent (the protocol has
// none; each was refused). Safe from any goroutine.
func (u *UDP) BadPayloads() uint64 { return u.bad.Load() }

// LocalAddr is the address the transport listens on.
func (u *UDP) LocalAddr() netip.AddrPort { return u.net.LocalAddr() }

func (l *udpLink) Addr() netip.AddrPort { return l.addr }
func (l *udpLink) Overhead() int        { return udpOverhead }

func (l *udpLink) SendReliable(msg []byte) error {
	if l.closed {
		return netcode.ErrNoSession
	}
	return l.u.net.SendReliable(l.sid, msg)
}

func (l *udpLink) SendSnapshot(seq uint16, payload []byte) error {
	if l.closed {
		return netcode.ErrNoSession
	}
	n, err := l.u.net.SendUnreliable(l.sid, payload)
	if err != nil {
		return err
	}
	s := &l.sent[n%udpSeqRing]
	s.net, s.room, s.ok = n, seq, true
	return nil
}

func (l *udpLink) Close(reason Reason) {
	if l.closed {
		return
	}
	l.closed = true
	delete(l.u.links, l.sid)
	l.u.net.Disconnect(l.sid, netReason(reason))
}

// netReason is the netcode disconnect reason that carries r.
func netReason(r Reason) netcode.Reason {
	switch r {
	case ReasonFull:
		return netcode.ReasonFull
	case ReasonThrottled:
		return netcode.ReasonThrottled
	case ReasonProtocol:
		return netcode.ReasonProtocol
	case ReasonTimeout:
		return netcode.ReasonTimeout
	case ReasonShutdown:
		return netcode.ReasonShutdown
	case ReasonBacklog:
		return netcode.ReasonBacklog
	}
	return netcode.ReasonKicked
}

// udpHandler is UDP as netcode's Handler; its methods run inside Poll.
type udpHandler UDP

func (h *udpHandler) Connected(sid netcode.SessionID, addr netip.AddrPort) {
	u := (*UDP)(h)
	if u.net.IsPeer(sid) {
		if u.pev == nil {
			u.net.Disconnect(sid, netcode.ReasonProtocol)
			return
		}
		p := &udpPeer{u: u, sid: sid, addr: addr}
		u.peers[sid] = p
		u.pev.PeerArrive(p)
		return
	}
	l := &udpLink{u: u, sid: sid, addr: addr}
	u.links[sid] = l
	l.id = u.ev.Arrive(l)
}

func (h *udpHandler) Disconnected(sid netcode.SessionID, _ netcode.Reason) {
	u := (*UDP)(h)
	if p := u.peers[sid]; p != nil {
		delete(u.peers, sid)
		if !p.closed {
			p.closed = true
			u.pev.PeerLeave(p)
		}
		return
	}
	l := u.links[sid]
	if l == nil {
		return // closed by the room: it knows
	}
	delete(u.links, sid)
	if l.closed {
		return // Shutdown: the room forgets every client itself
	}
	l.closed = true
	if l.id != 0 {
		u.ev.Leave(l.id)
	}
}

func (h *udpHandler) Reliable(sid netcode.SessionID, msg []byte) {
	if l := h.links[sid]; l != nil && l.id != 0 {
		h.ev.Message(l.id, msg)
		return
	}
	if p := h.peers[sid]; p != nil && !p.closed {
		h.pev.PeerMessage(p, msg)
	}
}

// Unreliable: clients send nothing on the unreliable channel; their acks
// ride in every packet's header. Refused, so never acknowledged.
func (h *udpHandler) Unreliable(netcode.SessionID, uint16, []byte) bool {
	h.bad.Add(1)
	return false
}

func (h *udpHandler) Acked(sid netcode.SessionID, seq uint16) {
	l := h.links[sid]
	if l == nil || l.id == 0 {
		return
	}
	s := &l.sent[seq%udpSeqRing]
	if !s.ok || s.net != seq {
		return
	}
	s.ok = false
	h.ev.Acked(l.id, s.room)
}

// NewWithUDP is the common case: a room running game for the native
// clients of conn, over one UDP transport whose session bound (when ucfg
// leaves it zero) is the room's MaxClients plus MaxUnproven.
func NewWithUDP(conn batch.Conn, cfg Config, ucfg UDPConfig, game Game, log *slog.Logger) (*Room, *UDP, error) {
	d := cfg.WithDefaults()
	if ucfg.MaxSessions == 0 {
		ucfg.MaxSessions = d.MaxClients + d.MaxUnproven
		if d.Mesh != nil {
			ucfg.MaxSessions += len(d.Mesh.Members)
		}
	}
	if ucfg.Net.PeerAckDelay == 0 {
		ucfg.Net.PeerAckDelay = PeerAckDelay(d.TickHz)
	}
	udp, err := NewUDP(conn, ucfg, time.Now())
	if err != nil {
		return nil, nil, err
	}
	room, err := New(cfg, game, log, udp)
	if err != nil {
		return nil, nil, err
	}
	return room, udp, nil
}
