package netcode

import (
	"cmp"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// ServerConfig configures a Server.
type ServerConfig struct {
	Config
	// MaxSessions bounds the sessions; a client beyond it is refused with
	// ReasonFull. Default 1024.
	MaxSessions int
	// CookieKey keys the challenge cookies (32 bytes). Default: drawn from
	// crypto/rand at start. Set it only to make tests repeatable.
	CookieKey []byte
	// Handler receives sessions and messages. Required.
	Handler Handler
	// Admit, when set, is asked before a verified response creates a
	// session: a reason other than ReasonNone refuses it statelessly, with
	// one disconnect packet no larger than the response, so an application
	// that will not take a session from addr costs nothing for it. It runs
	// inside Poll, like the Handler. Peer sessions are not asked about.
	Admit func(addr netip.AddrPort) Reason
	// PeerKey (PeerKeySize bytes), when set, turns peer sessions on: the
	// server may Dial servers that share the key, and accepts their
	// dials (STANDARD.md 3.10). nil: every session is a client's.
	PeerKey []byte
}

// Server is the server side of the protocol: one socket, many sessions.
// It is owned by one goroutine; only Stats, Wake and LocalAddr may be called
// from others.
type Server struct {
	ep       endpoint
	cfg      ServerConfig
	cookies  *cookieJar
	byID     map[uint32]*peer
	byAddr   map[netip.AddrPort]*peer
	onClose  func(*peer, Reason, bool)
	shutdown bool
	peerKey  []byte
	dials    map[netip.AddrPort]*dial
}

// NewServer starts the protocol on conn. now is the time of the caller's clock.
func NewServer(conn batch.Conn, cfg ServerConfig, now time.Time) (*Server, error) {
	if cfg.Handler == nil {
		return nil, fmt.Errorf("netcode: ServerConfig.Handler is required")
	}
	cfg.Config = cfg.Config.withDefaults()
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = 1024
	}
	if cfg.MaxSessions < 1 || cfg.MaxSessions > 1<<20 {
		return nil, fmt.Errorf("netcode: max sessions %d outside [1, %d]", cfg.MaxSessions, 1<<20)
	}
	if err := cfg.Config.validate(); err != nil {
		return nil, err
	}
	if cfg.CookieKey != nil && len(cfg.CookieKey) != cookieKeyLen {
		return nil, fmt.Errorf("netcode: cookie key of %d bytes, want %d", len(cfg.CookieKey), cookieKeyLen)
	}
	if err := validatePeerKey(cfg.PeerKey); err != nil {
		return nil, err
	}
	jar, err := newCookieJar(cfg.CookieKey)
	if err != nil {
		return nil, fmt.Errorf("netcode: cookie key: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		cookies: jar,
		byID:    make(map[uint32]*peer, cfg.MaxSessions),
		byAddr:  make(map[netip.AddrPort]*peer, cfg.MaxSessions),
		peerKey: slices.Clone(cfg.PeerKey),
		dials:   map[netip.AddrPort]*dial{},
	}
	s.ep.init(conn, cfg.Config, cfg.Handler, now)
	s.ep.ackDue = make([]*peer, 0, cfg.MaxSessions)
	s.onClose = s.forget
	return s, nil
}

// Poll processes every datagram that has arrived (without waiting), runs the
// timers that are due and writes what is queued. It returns when the next
// timer is due (zero when none is) and the connection's error, if it failed.
func (s *Server) Poll(now time.Time) (time.Time, error) {
	s.ep.setNow(now)
	s.ep.receive(s.handle)
	s.runDials()
	s.ep.runTimers()
	s.ep.sendAcks()
	s.ep.flush()
	next := s.ep.next()
	if d := s.nextDial(); d != 0 && (next.IsZero() || s.ep.timeAt(d).Before(next)) {
		next = s.ep.timeAt(d)
	}
	return next, s.ep.err
}

// Wait blocks until datagrams arrive, Wake is called, or the deadline passes
// (zero: no limit). The datagrams are processed by the next Poll.
func (s *Server) Wait(deadline time.Time) error { return s.ep.wait(deadline) }

// Wake makes a Wait return at once. Safe from any goroutine.
func (s *Server) Wake() { s.ep.conn.Wake() }

// Flush writes the queued datagrams now rather than at the end of the next
// Poll.
func (s *Server) Flush() { s.ep.flush() }

// Stats returns the counters. Safe from any goroutine.
func (s *Server) Stats() Stats { return s.ep.stats.snapshot() }

// LocalAddr is the address the server's connection is bound to.
func (s *Server) LocalAddr() netip.AddrPort { return s.ep.conn.LocalAddr() }

// Addr returns a session's remote address.
func (s *Server) Addr(id SessionID) (netip.AddrPort, bool) {
	p := s.byID[uint32(id)]
	if p == nil {
		return netip.AddrPort{}, false
	}
	return p.addr, true
}

// SendReliable queues msg on id's reliable channel. KCP writes it when its
// timer fires, within the flush interval, inside a Poll: a caller that sends
// outside Poll should Poll again (not just Flush) before it waits. A full send
// queue ends the session with ReasonBacklog and returns ErrBacklog.
func (s *Server) SendReliable(id SessionID, msg []byte) error {
	p := s.byID[uint32(id)]
	if p == nil {
		return ErrNoSession
	}
	return p.sendReliable(msg)
}

// Pending is how many reliable segments to id are queued or in flight: what
// counts against Config.SendQueue.
func (s *Server) Pending(id SessionID) int {
	p := s.byID[uint32(id)]
	if p == nil {
		return 0
	}
	return p.kcp.WaitSnd()
}

// NextSeq returns the sequence the next SendUnreliable to id will carry, so a
// payload can name earlier sequences relative to its own.
func (s *Server) NextSeq(id SessionID) (uint16, error) {
	p := s.byID[uint32(id)]
	if p == nil {
		return 0, ErrNoSession
	}
	return p.send.next, nil
}

// SendUnreliable writes payload to id as the next unreliable datagram and
// returns its sequence number; Acked reports it if the client delivers it.
func (s *Server) SendUnreliable(id SessionID, payload []byte) (uint16, error) {
	p := s.byID[uint32(id)]
	if p == nil {
		return 0, ErrNoSession
	}
	return p.sendUnreliable(payload)
}

// Disconnect ends a session, telling the client the reason. A reason this
// version does not define (0, or above ReasonThrottled) is sent as
// ReasonKicked.
func (s *Server) Disconnect(id SessionID, reason Reason) {
	if reason == ReasonNone || reason >= ReasonUnknown {
		reason = ReasonKicked
	}
	if p := s.byID[uint32(id)]; p != nil {
		p.close(reason, true)
	}
}

// Shutdown tells every client the server is going away and ends every
// session. The server accepts no new sessions afterwards.
func (s *Server) Shutdown(now time.Time) {
	s.ep.setNow(now)
	s.shutdown = true
	for _, p := range s.sortedPeers() {
		p.close(ReasonShutdown, true)
	}
	s.ep.flush()
}

// sortedPeers lists sessions by id, so shutdown order does not follow map order.
func (s *Server) sortedPeers() []*peer {
	ps := make([]*peer, 0, len(s.byID))
	for _, p := range s.byID {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *peer) int { return cmp.Compare(a.id, b.id) })
	return ps
}

func (s *Server) forget(p *peer, _ Reason, _ bool) {
	delete(s.byID, p.id)
	if s.byAddr[p.addr] == p {
		delete(s.byAddr, p.addr)
	}
	s.ep.stats.sessions.Add(-1)
}

// serverReceives is what a server accepts; anything else is DropType.
// A server with a peer key also receives challenges and accepts (from an
// address it dials: Dial).
var (
	serverReceives = types(TypeRequest, TypeResponse, TypeDisconnect, TypeReliable, TypeUnreliable, TypeKeepalive)
	dialerReceives = serverReceives | types(TypeChallenge, TypeAccept)
)

// handle checks a datagram in the order STANDARD.md section 3.9 gives.
func (s *Server) handle(d *batch.Datagram) {
	ep := &s.ep
	b := d.Payload()
	receives := serverReceives
	if s.peerKey != nil {
		receives = dialerReceives
	}
	h, ok := ep.admit(b, receives)
	if !ok {
		if h.Version != Version && h.Type == TypeRequest && len(b) == RequestSize {
			s.refuse(d.Addr, ReasonVersion, binary.LittleEndian.Uint64(b[HeaderSize:]))
		}
		return
	}
	switch h.Type {
	case TypeRequest:
		s.request(d.Addr, b)
		return
	case TypeResponse:
		s.response(d.Addr, b)
		return
	case TypeChallenge, TypeAccept:
		if !s.dialReply(h, d) {
			ep.drop(DropState) // no dial of ours expects it
		}
		return
	case TypeDisconnect:
		if h.Session == 0 && s.dialReply(h, d) {
			return // a refused dial
		}
	}
	p := s.byID[h.Session]
	if p == nil {
		ep.drop(DropSession)
		return
	}
	if p.addr != d.Addr {
		ep.drop(DropAddress)
		return
	}
	if h.Type == TypeDisconnect {
		if binary.LittleEndian.Uint64(b[HeaderSize+1:]) != p.nonce {
			ep.drop(DropNonce)
			return
		}
		ep.stats.rxByType[h.Type].Add(1)
		p.close(readReason(b[HeaderSize]), false)
		return
	}
	ep.stats.rxByType[h.Type].Add(1)
	p.receive(h.Type, b)
}

func (s *Server) full() bool { return s.shutdown || len(s.byID) >= s.cfg.MaxSessions }

// request answers a connect request with a cookie, or with a refusal. Both
// replies are smaller than the request and nothing is remembered.
func (s *Server) request(addr netip.AddrPort, b []byte) {
	nonce := binary.LittleEndian.Uint64(b[HeaderSize:])
	if s.full() {
		if s.byAddr[addr] == nil {
			s.refuse(addr, ReasonFull, nonce)
			return
		}
	}
	s.ep.stats.rxByType[TypeRequest].Add(1)
	bucket := bucketOf(s.ep.timeAt(s.ep.now))
	d := s.ep.slot(addr)
	putHeader(d.Buf, TypeChallenge, 0)
	binary.LittleEndian.PutUint64(d.Buf[HeaderSize:], nonce)
	binary.LittleEndian.PutUint32(d.Buf[HeaderSize+8:], bucket)
	s.cookies.mint(d.Buf[HeaderSize+12:], addr, nonce, bucket)
	d.N = challengeSize
	s.ep.sent(d, TypeChallenge)
}

func (s *Server) refuse(addr netip.AddrPort, reason Reason, nonce uint64) {
	s.ep.stats.refused[reason].Add(1)
	writeDisconnect(&s.ep, addr, 0, reason, nonce)
}

// response verifies an echoed cookie and creates the session, or answers a
// repeated response for an existing one with the same accept.
func (s *Server) response(addr netip.AddrPort, b []byte) {
	ep := &s.ep
	nonce := binary.LittleEndian.Uint64(b[HeaderSize:])
	bucket := binary.LittleEndian.Uint32(b[HeaderSize+8:])
	if !s.cookies.check(b[HeaderSize+12:], addr, nonce, bucket, ep.timeAt(ep.now)) {
		ep.drop(DropCookie)
		s.refuse(addr, ReasonCookie, nonce)
		return
	}
	peer := len(b) == peerResponseSize
	if peer && !s.checkProof(b) {
		ep.drop(DropProof)
		s.refuse(addr, ReasonProtocol, nonce)
		return
	}
	ep.stats.rxByType[TypeResponse].Add(1)
	if p := s.byAddr[addr]; p != nil {
		if p.nonce == nonce {
			s.accept(p) // the accept was lost; say it again
			return
		}
		// The same address starts over: the old session is gone.
		p.close(ReasonClosed, false)
	}
	if s.full() {
		ep.drop(DropFull)
		s.refuse(addr, ReasonFull, nonce)
		return
	}
	if s.cfg.Admit != nil && !peer {
		if reason := s.cfg.Admit(addr); reason != ReasonNone {
			if reason >= ReasonUnknown {
				reason = ReasonKicked
			}
			s.refuse(addr, reason, nonce)
			return
		}
	}
	id := s.newID()
	p := newPeer(ep, id, addr, nonce, peer, s.onClose)
	if peer {
		ep.stats.peerSessions.Add(1)
	}
	s.byID[id] = p
	s.byAddr[addr] = p
	ep.stats.sessions.Add(1)
	ep.stats.connects.Add(1)
	s.accept(p)
	ep.handler.Connected(SessionID(id), addr)
}

func (s *Server) accept(p *peer) {
	d := s.ep.slot(p.addr)
	putHeader(d.Buf, TypeAccept, p.id)
	binary.LittleEndian.PutUint64(d.Buf[HeaderSize:], p.nonce)
	binary.LittleEndian.PutUint16(d.Buf[HeaderSize+8:], uint16(min(s.cfg.Keepalive.Milliseconds(), 0xFFFF)))
	binary.LittleEndian.PutUint16(d.Buf[HeaderSize+10:], uint16(min(s.cfg.Timeout.Milliseconds()/100, 0xFFFF)))
	binary.LittleEndian.PutUint32(d.Buf[HeaderSize+12:], uint32(s.cfg.MaxMessage))
	d.N = acceptSize
	p.didSend(d, TypeAccept)
}

// newID draws a random session id that is not 0 and not in use.
func (s *Server) newID() uint32 {
	var b [4]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("netcode: crypto/rand failed: " + err.Error())
		}
		id := binary.LittleEndian.Uint32(b[:])
		if id != 0 && s.byID[id] == nil {
			return id
		}
	}
}
