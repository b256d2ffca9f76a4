package halfopen

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/flotilla/flotilla/netcode"
)

const (
	testNonce   = 0x1122334455667788
	testSession = 0xCAFE
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func newTestSession() *session {
	return &session{keepalive: 2 * time.Second, handshakeTimeout: 5 * time.Second}
}

// connect takes s through the handshake at t0, accepted at 1 ms.
func connect(t *testing.T, s *session) {
	t.Helper()
	s.begin(t0, testNonce, nil)
	if r := s.receive(serverPacket(netcode.TypeChallenge, 0, challengeSize, testNonce), t0, nil); r.reply == nil {
		t.Fatal("no response to the challenge")
	}
	if r := s.receive(serverPacket(netcode.TypeAccept, testSession, acceptSize, testNonce), ms(1), nil); r.ev != evAccepted {
		t.Fatalf("accept: event %d", r.ev)
	}
}

func TestHandshakeThenKeepalivesOnly(t *testing.T) {
	s := newTestSession()
	req := s.begin(t0, testNonce, nil)
	if len(req) != netcode.RequestSize || binary.LittleEndian.Uint64(req[8:]) != testNonce {
		t.Fatalf("request %x", req[:16])
	}
	if next := s.next(); !next.Equal(ms(100)) {
		t.Fatalf("next %v, want the resend at 100 ms", next)
	}
	// A challenge with another nonce is not ours.
	if r := s.receive(serverPacket(netcode.TypeChallenge, 0, challengeSize, 1), ms(1), nil); r.ev != evIgnoredNonce || r.reply != nil {
		t.Fatalf("foreign challenge: %+v", r)
	}
	challenge := serverPacket(netcode.TypeChallenge, 0, challengeSize, testNonce)
	challenge[30] = 0x5A // in the mac
	r := s.receive(challenge, ms(1), nil)
	if r.ev != evNone || r.typ != netcode.TypeChallenge || !bytes.Equal(r.reply[8:], challenge[8:]) || r.reply[3] != byte(netcode.TypeResponse) {
		t.Fatalf("challenge: %+v", r)
	}
	// The response is repeated until the accept.
	if out, _ := s.tick(ms(101), nil); !bytes.Equal(out, r.reply) {
		t.Fatalf("resend %x, want the response", out)
	}
	accept := serverPacket(netcode.TypeAccept, testSession, acceptSize, testNonce)
	binary.LittleEndian.PutUint16(accept[16:], 250)
	binary.LittleEndian.PutUint16(accept[18:], 50)
	if r := s.receive(accept, ms(150), nil); r.ev != evAccepted || r.reply != nil {
		t.Fatalf("accept: %+v", r)
	}
	if s.id != testSession || s.server.keepalive != 250 || s.server.timeout != 50 {
		t.Fatalf("session %x, server %+v", s.id, s.server)
	}
	// A repeated accept changes nothing.
	if r := s.receive(accept, ms(160), nil); r.ev != evIgnoredState {
		t.Fatalf("repeated accept: %+v", r)
	}
	// Nothing the server sends is ever answered.
	for _, b := range [][]byte{
		serverPacket(netcode.TypeUnreliable, testSession, 100, 0),
		serverPacket(netcode.TypeKeepalive, testSession, keepaliveSize, 0),
		serverPacket(netcode.TypeReliable, testSession, reliableMin+10, 0),
	} {
		if r := s.receive(b, ms(170), nil); r.ev != evNone || r.reply != nil {
			t.Fatalf("%v: %+v", netcode.Type(b[3]), r)
		}
	}
	if out, _ := s.tick(ms(2149), nil); out != nil {
		t.Fatalf("keepalive before its interval: %x", out)
	}
	want := appendKeepalive(nil, testSession)
	for i, at := range []int{2150, 4150, 6150} {
		if next := s.next(); !next.Equal(ms(at)) {
			t.Fatalf("keepalive %d due %v, want %d ms", i, next, at)
		}
		if out, _ := s.tick(ms(at), nil); !bytes.Equal(out, want) {
			t.Fatalf("keepalive %d: %x", i, out)
		}
	}
}

// The acks of every keepalive name nothing as received, whatever arrived.
func TestKeepaliveAcknowledgesNothing(t *testing.T) {
	s := newTestSession()
	connect(t, s)
	un := serverPacket(netcode.TypeUnreliable, testSession, unreliableMin+4, 0)
	for seq := range 70 {
		binary.LittleEndian.PutUint16(un[netcode.HeaderSize+netcode.AckSize:], uint16(seq))
		s.receive(un, ms(2+seq), nil)
	}
	out, _ := s.tick(s.next(), nil)
	acks := out[netcode.HeaderSize:]
	if len(out) != keepaliveSize || binary.LittleEndian.Uint16(acks) != 0xFFFF || binary.LittleEndian.Uint32(acks[2:]) != 0 {
		t.Fatalf("keepalive %x", out)
	}
}

func TestRequestResendAndTimeout(t *testing.T) {
	s := newTestSession()
	s.handshakeTimeout = 250 * time.Millisecond
	req := s.begin(t0, testNonce, nil)
	var sent int
	for now := t0; s.state == stateRequesting; now = s.next() {
		out, ev := s.tick(now, nil)
		if out != nil {
			if !bytes.Equal(out, req) {
				t.Fatal("resend differs from the request")
			}
			sent++
		}
		if ev == evTimedOut && !now.Equal(ms(250)) {
			t.Fatalf("timed out at %v", now)
		}
	}
	if s.state != stateTimedOut || sent != 2 || !s.next().IsZero() {
		t.Fatalf("state %d after %d resends, next %v", s.state, sent, s.next())
	}
}

func TestRefusedAndDisconnected(t *testing.T) {
	s := newTestSession()
	s.begin(t0, testNonce, nil)
	refusal := serverPacket(netcode.TypeDisconnect, 0, disconnectSize, testNonce)
	refusal[netcode.HeaderSize] = byte(netcode.ReasonFull)
	other := bytes.Clone(refusal)
	binary.LittleEndian.PutUint64(other[netcode.HeaderSize+1:], 1)
	if r := s.receive(other, ms(1), nil); r.ev != evIgnoredNonce || r.reason != byte(netcode.ReasonFull) {
		t.Fatalf("foreign refusal: %+v", r)
	}
	if r := s.receive(refusal, ms(2), nil); r.ev != evRefused || s.state != stateRefused || s.reason != byte(netcode.ReasonFull) {
		t.Fatalf("refusal: %+v, state %d", r, s.state)
	}

	s = newTestSession()
	connect(t, s)
	bye := serverPacket(netcode.TypeDisconnect, testSession, disconnectSize, testNonce)
	bye[netcode.HeaderSize] = byte(netcode.ReasonTimeout)
	wrong := bytes.Clone(bye)
	binary.LittleEndian.PutUint32(wrong[4:], testSession+1)
	if r := s.receive(wrong, ms(5), nil); r.ev != evIgnoredSession {
		t.Fatalf("another session's disconnect: %+v", r)
	}
	if r := s.receive(bye, ms(1001), nil); r.ev != evDisconnected || s.ended.Sub(s.accepted) != time.Second {
		t.Fatalf("disconnect: %+v after %v", r, s.ended.Sub(s.accepted))
	}
	// The copies that follow are read and ignored; nothing more is sent.
	if r := s.receive(bye, ms(1001), nil); r.ev != evIgnoredState {
		t.Fatalf("copy: %+v", r)
	}
	if !s.next().IsZero() {
		t.Fatal("a disconnected session still has a timer")
	}
}

// A session that starts over forgets its last attempt but for its
// settings: a late copy of the disconnect that ended it names the old
// nonce and is ignored.
func TestBeginStartsOver(t *testing.T) {
	s := newTestSession()
	connect(t, s)
	bye := serverPacket(netcode.TypeDisconnect, testSession, disconnectSize, testNonce)
	bye[netcode.HeaderSize] = byte(netcode.ReasonTimeout)
	s.receive(bye, ms(3001), nil)
	if !s.over() {
		t.Fatalf("state %d: a disconnected attempt is over", s.state)
	}
	o := s.outcome()
	if o.state != stateDisconnected || o.reason != byte(netcode.ReasonTimeout) || o.ended.Sub(o.accepted) != 3*time.Second || o.server.session != testSession {
		t.Fatalf("outcome %+v", o)
	}
	req := s.begin(ms(3101), testNonce+1, nil)
	if binary.LittleEndian.Uint64(req[8:]) != testNonce+1 || s.state != stateRequesting || s.over() ||
		s.id != 0 || !s.accepted.IsZero() || !s.ended.IsZero() || s.reason != 0 || s.responseLen != 0 ||
		s.keepalive != 2*time.Second || s.handshakeTimeout != 5*time.Second || !s.next().Equal(ms(3201)) {
		t.Fatalf("after begin: %+v", s)
	}
	if r := s.receive(bye, ms(3102), nil); r.ev != evIgnoredNonce || s.state != stateRequesting {
		t.Fatalf("late copy of the old disconnect: %+v, state %d", r, s.state)
	}
	// A failed socket is not an attempt that ended: it cannot start over.
	s.fail(ms(3103))
	if s.state != stateFailed || s.over() {
		t.Fatalf("failed: state %d, over %v", s.state, s.over())
	}
}

func TestMalformedIgnored(t *testing.T) {
	s := newTestSession()
	connect(t, s)
	for _, c := range []struct {
		b  []byte
		ev event
	}{
		{nil, evIgnoredHeader},
		{[]byte{0x46, 0x4C, 1}, evIgnoredHeader},
		{[]byte("not a flotilla packet"), evIgnoredHeader},
		{append(serverPacket(netcode.TypeKeepalive, testSession, keepaliveSize, 0)[:2:2], 2, 8, 0, 0, 0, 0), evIgnoredHeader}, // version 2
		{serverPacket(netcode.Type(9), testSession, 14, 0), evIgnoredHeader},
		{serverPacket(netcode.TypeRequest, 0, netcode.RequestSize, 0), evIgnoredType},
		{serverPacket(netcode.TypeKeepalive, testSession, keepaliveSize+1, 0), evIgnoredLength},
		{serverPacket(netcode.TypeUnreliable, testSession, netcode.MaxPacket+1, 0), evIgnoredLength},
		{serverPacket(netcode.TypeUnreliable, testSession+1, 20, 0), evIgnoredSession},
		{serverPacket(netcode.TypeChallenge, 0, challengeSize, testNonce), evIgnoredState},
	} {
		if r := s.receive(c.b, ms(10), nil); r.ev != c.ev || r.reply != nil {
			t.Errorf("% x: event %d, want %d", c.b, r.ev, c.ev)
		}
	}
	if s.state != stateConnected {
		t.Fatalf("state %d", s.state)
	}
}

// Any datagram, in any state: no panic, a reply only to a challenge (the
// response, never larger than the challenge), and no state left but by the
// rules.
func FuzzReceive(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add(serverPacket(netcode.TypeChallenge, 0, challengeSize, testNonce), uint8(0))
	f.Add(serverPacket(netcode.TypeAccept, testSession, acceptSize, testNonce), uint8(1))
	f.Add(serverPacket(netcode.TypeDisconnect, testSession, disconnectSize, testNonce), uint8(2))
	f.Add(serverPacket(netcode.TypeUnreliable, testSession, 40, 0), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, at uint8) {
		s := newTestSession()
		s.begin(t0, testNonce, nil)
		if at >= 1 {
			s.receive(serverPacket(netcode.TypeChallenge, 0, challengeSize, testNonce), t0, nil)
		}
		if at >= 2 {
			s.receive(serverPacket(netcode.TypeAccept, testSession, acceptSize, testNonce), t0, nil)
		}
		before := s.state
		r := s.receive(b, ms(1), nil)
		if r.reply != nil && (before != stateRequesting || len(r.reply) != responseSize || len(b) != challengeSize) {
			t.Fatalf("state %d: reply of %d bytes to %d bytes", before, len(r.reply), len(b))
		}
		if before == stateConnected && s.state != stateConnected && s.state != stateDisconnected {
			t.Fatalf("connected session went to state %d", s.state)
		}
	})
}

// A connected session reads, counts and sends keepalives without
// allocating.
func TestSteadyStateAllocatesNothing(t *testing.T) {
	s := newTestSession()
	connect(t, s)
	var n counters
	un := serverPacket(netcode.TypeUnreliable, testSession, 200, 0)
	out := make([]byte, 0, netcode.RequestSize)
	now := s.next()
	allocs := testing.AllocsPerRun(1000, func() {
		n.received(s.receive(un, now, out[:0]), len(un))
		b, ev := s.tick(now, out[:0])
		n.count(ev)
		n.sent(b)
		now = now.Add(s.keepalive)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per datagram and keepalive", allocs)
	}
}
