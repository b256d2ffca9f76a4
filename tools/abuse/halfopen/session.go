package halfopen

import (
	"time"

	"github.com/flotilla/flotilla/netcode"
)

// resendInterval is how often a handshaking client repeats its request or
// response (STANDARD.md 3.8, states 1 and 2).
const resendInterval = 100 * time.Millisecond

// state is where a half-open session is.
type state uint8

const (
	stateIdle         state = iota
	stateRequesting         // sending a request every resendInterval
	stateResponding         // sending the response every resendInterval
	stateConnected          // accepted; sending only keepalives
	stateRefused            // a disconnect answered the handshake
	stateTimedOut           // no accept within the handshake timeout
	stateDisconnected       // the server ended the session after accepting it
	stateFailed             // the socket failed
)

// event is what one step of a session did that the run counts.
type event uint8

const (
	evNone event = iota
	evAccepted
	evRefused
	evTimedOut
	evDisconnected
	// Datagrams the session ignored, by reason (the order of STANDARD.md 3.9
	// where it applies). The rest of what arrives is read and discarded.
	evIgnoredHeader  // short, not Flotilla, another version, an invalid type
	evIgnoredType    // a type a client never receives (request, response)
	evIgnoredLength  // a size the type does not allow
	evIgnoredState   // a packet the session's state does not expect
	evIgnoredNonce   // a challenge, accept or disconnect with another nonce
	evIgnoredSession // names a session that is not this one
	numEvents
)

// ignoredNames names the ignore reasons in reports, from evIgnoredHeader on.
var ignoredNames = [numEvents - evIgnoredHeader]string{"header", "type", "length", "state", "nonce", "session"}

// received is what a session made of one datagram.
type received struct {
	typ    netcode.Type // the header's type; 0 when the header is invalid
	ev     event
	reason byte   // a disconnect's reason byte, when typ is disconnect and the length is valid
	reply  []byte // to send at once, or nil
}

// session is one half-open session's protocol state: it completes the
// handshake, then sends only keepalives that acknowledge nothing and never
// answers what the server sends. Time is passed in; it holds no socket. It
// belongs to one goroutine.
type session struct {
	keepalive        time.Duration
	handshakeTimeout time.Duration

	state  state
	nonce  uint64
	id     uint32
	server accept // the accept's fields, once connected

	started  time.Time // the first request
	accepted time.Time
	ended    time.Time // refused, timed out, disconnected or failed
	reason   byte      // the refusal's or disconnect's reason byte

	nextSend time.Time // the next resend, or the next keepalive
	deadline time.Time // the end of the handshake

	response    [responseSize]byte
	responseLen int
}

// begin starts a handshake, forgetting any earlier one (a session that
// starts over keeps only its settings): it returns the request to send,
// appended to out.
func (s *session) begin(now time.Time, nonce uint64, out []byte) []byte {
	*s = session{keepalive: s.keepalive, handshakeTimeout: s.handshakeTimeout}
	s.state = stateRequesting
	s.nonce = nonce
	s.started = now
	s.nextSend = now.Add(resendInterval)
	s.deadline = now.Add(s.handshakeTimeout)
	return appendRequest(out, nonce)
}

// next is when tick must next run; zero when the session waits for nothing.
func (s *session) next() time.Time {
	switch s.state {
	case stateRequesting, stateResponding:
		if s.deadline.Before(s.nextSend) {
			return s.deadline
		}
		return s.nextSend
	case stateConnected:
		return s.nextSend
	}
	return time.Time{}
}

// tick runs what is due at now: it ends a handshake past its deadline, or
// returns the request, response or keepalive to send (appended to out), or
// nil. Each call moves next past now.
func (s *session) tick(now time.Time, out []byte) ([]byte, event) {
	switch s.state {
	case stateRequesting, stateResponding:
		if !now.Before(s.deadline) {
			s.end(stateTimedOut, now, 0)
			return nil, evTimedOut
		}
		if now.Before(s.nextSend) {
			return nil, evNone
		}
		s.nextSend = now.Add(resendInterval)
		if s.state == stateRequesting {
			return appendRequest(out, s.nonce), evNone
		}
		return append(out, s.response[:s.responseLen]...), evNone
	case stateConnected:
		if now.Before(s.nextSend) {
			return nil, evNone
		}
		s.nextSend = now.Add(s.keepalive)
		return appendKeepalive(out, s.id), evNone
	}
	return nil, evNone
}

// receive handles one datagram from the server. A reply it returns is
// appended to out.
func (s *session) receive(b []byte, now time.Time, out []byte) received {
	h, err := netcode.ParseHeader(b)
	if err != nil || h.Version != netcode.Version || h.Type == 0 || int(h.Type) >= numTypes {
		return received{ev: evIgnoredHeader}
	}
	r := received{typ: h.Type}
	if h.Type == netcode.TypeRequest || h.Type == netcode.TypeResponse {
		r.ev = evIgnoredType
		return r
	}
	if !validLength(h.Type, len(b)) {
		r.ev = evIgnoredLength
		return r
	}
	switch h.Type {
	case netcode.TypeChallenge:
		switch {
		case s.state != stateRequesting:
			r.ev = evIgnoredState
		case packetNonce(b) != s.nonce:
			r.ev = evIgnoredNonce
		default:
			s.responseLen = len(appendResponse(s.response[:0], b))
			s.state = stateResponding
			s.nextSend = now.Add(resendInterval)
			r.reply = append(out, s.response[:s.responseLen]...)
		}
	case netcode.TypeAccept:
		switch {
		case s.state != stateResponding:
			r.ev = evIgnoredState // a repeated accept included
		case packetNonce(b) != s.nonce:
			r.ev = evIgnoredNonce
		case h.Session == 0:
			r.ev = evIgnoredSession
		default:
			s.state = stateConnected
			s.id = h.Session
			s.server = readAccept(b, h.Session)
			s.accepted = now
			s.nextSend = now.Add(s.keepalive)
			r.ev = evAccepted
		}
	case netcode.TypeDisconnect:
		reason, nonce := readDisconnect(b)
		r.reason = reason
		r.ev = s.disconnect(h.Session, reason, nonce, now)
	default: // reliable, unreliable, keepalive: read and never answered
		switch {
		case s.state != stateConnected:
			r.ev = evIgnoredState
		case h.Session != s.id:
			r.ev = evIgnoredSession
		}
	}
	return r
}

// disconnect applies a disconnect packet (STANDARD.md 3.5): during the
// handshake it refuses the attempt, once connected it ends the session.
func (s *session) disconnect(session uint32, reason byte, nonce uint64, now time.Time) event {
	var want uint32
	switch s.state {
	case stateRequesting, stateResponding:
	case stateConnected:
		want = s.id
	default:
		return evIgnoredState
	}
	switch {
	case nonce != s.nonce:
		return evIgnoredNonce
	case session != want:
		return evIgnoredSession
	case s.state == stateConnected:
		s.end(stateDisconnected, now, reason)
		return evDisconnected
	default:
		s.end(stateRefused, now, reason)
		return evRefused
	}
}

// fail ends a session that has not ended otherwise because its socket
// failed.
func (s *session) fail(now time.Time) {
	if s.state <= stateConnected {
		s.end(stateFailed, now, 0)
	}
}

// over reports whether the session's handshake attempt has ended: refused,
// timed out or disconnected. A failed socket is not over: it cannot start
// again.
func (s *session) over() bool {
	return s.state == stateRefused || s.state == stateTimedOut || s.state == stateDisconnected
}

// outcome is how one handshake attempt went, kept for the report when the
// session starts over.
type outcome struct {
	state    state
	reason   byte
	server   accept
	started  time.Time
	accepted time.Time
	ended    time.Time
}

func (s *session) outcome() outcome {
	return outcome{state: s.state, reason: s.reason, server: s.server, started: s.started, accepted: s.accepted, ended: s.ended}
}

func (s *session) end(st state, now time.Time, reason byte) {
	s.state = st
	s.ended = now
	s.reason = reason
}
