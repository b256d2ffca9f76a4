package netcode

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// Peer sessions (STANDARD.md, section 3.10): servers that share a peer key
// open sessions with each other on the sockets they serve clients on. The
// dialing server runs a client's handshake from its own socket; its
// response carries a proof of the key bound to the cookie, and the
// accepting server makes the session a peer session. A client, which
// cannot make the proof, never gets one; and a peer session is told apart
// from a client's by IsPeer.

const (
	// PeerKeySize is the size of a peer key.
	PeerKeySize = 32
	// proofSize is the size of the proof a peer response carries.
	proofSize = 16
	// peerResponseSize is a response with a proof.
	peerResponseSize = responseSize + proofSize
	// dialResend is the interval between a dial's handshake packets, and
	// dialTimeout how long a dial lasts before it is given up.
	dialResend  = 100 * time.Millisecond
	dialTimeout = 5 * time.Second
	// maxDials bounds the dials under way.
	maxDials = 256
)

// peerProofLabel starts what a peer proof's HMAC covers.
var peerProofLabel = []byte("flotilla peer v1")

// Dial errors.
var (
	ErrNoPeerKey = errors.New("netcode: no peer key: peer sessions are off")
	ErrSession   = errors.New("netcode: a session with that address exists")
	ErrDials     = errors.New("netcode: too many dials under way")
)

// dial is a peer handshake this server started.
type dial struct {
	addr    netip.AddrPort
	nonce   uint64
	state   State // StateRequesting or StateResponding
	cookie  [4 + macSize]byte
	started int64
	resent  int64
}

// Dial starts a peer session with the server at addr, from this server's
// socket: its handshake runs inside Poll, resent every 100 ms for up to
// 5 s. The session, once accepted, is reported like any other
// (Handler.Connected), and IsPeer tells it from a client's. Dialing an
// address with a dial under way does nothing; one with a session is
// ErrSession. Dials that time out or are refused are counted (Stats.Dials)
// and dropped: the caller dials again when it wants to.
func (s *Server) Dial(addr netip.AddrPort) error {
	if s.peerKey == nil {
		return ErrNoPeerKey
	}
	if s.byAddr[addr] != nil {
		return ErrSession
	}
	if s.dials[addr] != nil {
		return nil
	}
	if len(s.dials) >= maxDials {
		return ErrDials
	}
	d := &dial{addr: addr, nonce: randomNonce(), state: StateRequesting, started: s.ep.now}
	s.dials[addr] = d
	s.ep.stats.dials[dialStarted].Add(1)
	s.sendDial(d)
	return nil
}

// IsPeer reports whether session id is a peer session (made by Dial, or
// accepted with a valid peer proof).
func (s *Server) IsPeer(id SessionID) bool {
	p := s.byID[uint32(id)]
	return p != nil && p.isPeer
}

// Dial outcomes, counted in Stats.Dials.
const (
	dialStarted = iota
	dialConnected
	dialRefused
	dialTimedOut
	numDialOutcomes
)

func randomNonce() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("netcode: crypto/rand failed: " + err.Error())
	}
	return binary.LittleEndian.Uint64(b[:])
}

// sendDial writes a dial's next handshake packet: a request, or a response
// with the proof.
func (s *Server) sendDial(d *dial) {
	d.resent = s.ep.now
	if d.state == StateRequesting {
		writeRequest(&s.ep, d.addr, d.nonce)
		return
	}
	out := writeResponse(&s.ep, d.addr, d.nonce, d.cookie[:])
	s.proof(out.Buf[responseSize:peerResponseSize], out.Buf[HeaderSize:responseSize])
	out.N = peerResponseSize
	s.ep.sent(out, TypeResponse)
}

// proof writes into dst the proof of the peer key for a response's nonce,
// bucket and cookie mac (hs).
func (s *Server) proof(dst, hs []byte) {
	m := hmac.New(sha256.New, s.peerKey)
	m.Write(peerProofLabel)
	m.Write(hs)
	var sum [sha256.Size]byte
	copy(dst, m.Sum(sum[:0])[:proofSize])
}

// checkProof reports whether a peer response's proof verifies.
func (s *Server) checkProof(b []byte) bool {
	if s.peerKey == nil {
		return false
	}
	var want [proofSize]byte
	s.proof(want[:], b[HeaderSize:responseSize])
	return hmac.Equal(want[:], b[responseSize:peerResponseSize])
}

// runDials resends the dials' handshakes and gives up the ones past their
// time, in address order.
func (s *Server) runDials() {
	if len(s.dials) == 0 {
		return
	}
	ds := make([]*dial, 0, len(s.dials))
	for _, d := range s.dials {
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b *dial) int { return cmp.Compare(a.addr.String(), b.addr.String()) })
	for _, d := range ds {
		switch {
		case s.ep.now-d.started >= dialTimeout.Nanoseconds():
			delete(s.dials, d.addr)
			s.ep.stats.dials[dialTimedOut].Add(1)
		case s.ep.now-d.resent >= dialResend.Nanoseconds():
			s.sendDial(d)
		}
	}
}

// nextDial is when runDials next has work (0: none).
func (s *Server) nextDial() int64 {
	var next int64
	for _, d := range s.dials {
		if t := d.resent + dialResend.Nanoseconds(); next == 0 || t < next {
			next = t
		}
	}
	return next
}

// dialReply handles a challenge, an accept or a refusal from an address
// this server dials. It reports false when no dial expects it.
func (s *Server) dialReply(h Header, d *batch.Datagram) bool {
	dl := s.dials[d.Addr]
	if dl == nil {
		return false
	}
	ep := &s.ep
	b := d.Payload()
	switch h.Type {
	case TypeChallenge:
		if dl.state != StateRequesting {
			ep.drop(DropState)
			return true
		}
		if binary.LittleEndian.Uint64(b[HeaderSize:]) != dl.nonce {
			ep.drop(DropNonce)
			return true
		}
		ep.stats.rxByType[h.Type].Add(1)
		copy(dl.cookie[:], b[HeaderSize+8:challengeSize])
		dl.state = StateResponding
		s.sendDial(dl)
	case TypeAccept:
		if dl.state != StateResponding {
			ep.drop(DropState)
			return true
		}
		if binary.LittleEndian.Uint64(b[HeaderSize:]) != dl.nonce {
			ep.drop(DropNonce)
			return true
		}
		if h.Session == 0 {
			ep.drop(DropSession)
			return true
		}
		ep.stats.rxByType[h.Type].Add(1)
		delete(s.dials, d.Addr)
		if s.byID[h.Session] != nil || s.byAddr[d.Addr] != nil || s.full() {
			// The peer's id for the session is one of ours, or a session
			// with the address came meanwhile, or there is no room: let
			// the peer know, and the caller dials again.
			writeDisconnect(ep, d.Addr, h.Session, ReasonClosed, dl.nonce)
			ep.stats.dials[dialRefused].Add(1)
			return true
		}
		p := newPeer(ep, h.Session, d.Addr, dl.nonce, true, s.onClose)
		ep.stats.peerSessions.Add(1)
		s.byID[h.Session] = p
		s.byAddr[d.Addr] = p
		ep.stats.sessions.Add(1)
		ep.stats.connects.Add(1)
		ep.stats.dials[dialConnected].Add(1)
		ep.handler.Connected(SessionID(h.Session), d.Addr)
	case TypeDisconnect:
		if h.Session != 0 {
			return false // a session's, not the dial's
		}
		if binary.LittleEndian.Uint64(b[HeaderSize+1:]) != dl.nonce {
			ep.drop(DropNonce)
			return true
		}
		ep.stats.rxByType[h.Type].Add(1)
		delete(s.dials, d.Addr)
		ep.stats.dials[dialRefused].Add(1)
	default:
		return false
	}
	return true
}

// validatePeerKey checks a configured peer key.
func validatePeerKey(k []byte) error {
	if k != nil && len(k) != PeerKeySize {
		return fmt.Errorf("netcode: peer key of %d bytes, want %d", len(k), PeerKeySize)
	}
	return nil
}
