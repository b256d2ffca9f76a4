package netcode

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"

	"github.com/flotilla/flotilla/netcode/batch"

	kcp "github.com/xtaci/kcp-go/v5"
)

// peer is one session's state, on either side: its KCP core, the unreliable
// channel's windows, its timers. It belongs to the endpoint's goroutine.
type peer struct {
	ep    *endpoint
	id    uint32
	addr  netip.AddrPort
	nonce uint64

	kcp *kcp.KCP

	send sendWindow
	recv recvHistory

	ackOwed  bool  // delivered an unreliable payload and sent nothing since
	lastRecv int64 // ns on the endpoint clock
	lastSend int64

	kcpTimer, house timer
	kcpDue          uint32 // the KCP-clock time kcpTimer was armed for

	// held is KCP output of acknowledgements only, which a peer session
	// keeps until heldAt for its next message to carry (Config.PeerAckDelay).
	held    []byte
	heldAt  int64
	closed  bool
	isPeer  bool                                    // a peer session (another server's), not a client's
	onClose func(p *peer, reason Reason, tell bool) // the owner removes the session
}

func newPeer(ep *endpoint, id uint32, addr netip.AddrPort, nonce uint64, isPeer bool, onClose func(*peer, Reason, bool)) *peer {
	p := &peer{ep: ep, id: id, addr: addr, nonce: nonce, isPeer: isPeer, onClose: onClose}
	p.send.start(randomSeq())
	p.kcp = newKCP(id, ep.cfg.KCP, p.output)
	p.lastRecv, p.lastSend = ep.now, ep.now
	p.kcpTimer.init(p, timerKCP)
	p.house.init(p, timerHouse)
	ep.wheel.schedule(&p.house, ep.now+ep.cfg.Keepalive.Nanoseconds())
	return p
}

// randomSeq draws a session's first unreliable sequence.
func randomSeq() uint16 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("netcode: crypto/rand failed: " + err.Error())
	}
	return binary.LittleEndian.Uint16(b[:])
}

// output is KCP's output callback: KCP reuses buf, so the segments are
// copied at once, into a datagram or, for a peer session's acknowledgements
// alone, into held. kcp-go flushes whenever input moves its send window, so
// two peers that each send a message a frame would otherwise send each
// other two datagrams a frame: the message, and the acks of the other's.
func (p *peer) output(buf []byte, size int) {
	segs := buf[:size]
	if p.isPeer && p.ep.cfg.PeerAckDelay > 0 && acksOnly(segs) && len(p.held)+size <= kcpMTU {
		if len(p.held) == 0 {
			if p.held == nil {
				p.held = make([]byte, 0, kcpMTU)
			}
			p.heldAt = p.lastSend + p.ep.cfg.PeerAckDelay.Nanoseconds()
		}
		p.held = append(p.held, segs...)
		if !p.kcpTimer.scheduled() || p.kcpTimer.at > p.heldAt {
			p.ep.wheel.schedule(&p.kcpTimer, p.heldAt)
		}
		return
	}
	if len(p.held)+size > kcpMTU {
		p.sendHeld()
	}
	d := p.ep.slot(p.addr)
	putHeader(d.Buf, TypeReliable, p.id)
	putAcks(d.Buf[HeaderSize:], p.recv.report())
	n := HeaderSize + AckSize + copy(d.Buf[HeaderSize+AckSize:], p.held)
	d.N = n + copy(d.Buf[n:MaxPacket], segs)
	p.held = p.held[:0]
	p.didSend(d, TypeReliable)
}

// sendHeld writes the held acknowledgements in a datagram of their own.
func (p *peer) sendHeld() {
	if len(p.held) == 0 {
		return
	}
	d := p.ep.slot(p.addr)
	putHeader(d.Buf, TypeReliable, p.id)
	putAcks(d.Buf[HeaderSize:], p.recv.report())
	d.N = HeaderSize + AckSize + copy(d.Buf[HeaderSize+AckSize:], p.held)
	p.held = p.held[:0]
	p.didSend(d, TypeReliable)
}

// acksOnly reports whether KCP output is acknowledgement segments only.
func acksOnly(segs []byte) bool {
	for len(segs) >= kcpOverhead {
		if segs[4] != kcp.IKCP_CMD_ACK {
			return false
		}
		n := kcpOverhead + int(binary.LittleEndian.Uint32(segs[20:]))
		if n > len(segs) {
			return false
		}
		segs = segs[n:]
	}
	return len(segs) == 0
}

func (p *peer) didSend(d *batch.Datagram, t Type) {
	p.ackOwed = false
	p.lastSend = p.ep.now
	p.ep.sent(d, t)
}

func (p *peer) sendKeepalive() {
	d := p.ep.slot(p.addr)
	putHeader(d.Buf, TypeKeepalive, p.id)
	putAcks(d.Buf[HeaderSize:], p.recv.report())
	d.N = keepaliveSize
	p.didSend(d, TypeKeepalive)
}

// sendUnreliable writes payload as the next unreliable datagram.
func (p *peer) sendUnreliable(payload []byte) (uint16, error) {
	if len(payload) > MaxUnreliablePayload {
		return 0, ErrTooLarge
	}
	seq := p.send.take()
	d := p.ep.slot(p.addr)
	putHeader(d.Buf, TypeUnreliable, p.id)
	putAcks(d.Buf[HeaderSize:], p.recv.report())
	binary.LittleEndian.PutUint16(d.Buf[HeaderSize+AckSize:], seq)
	d.N = unreliableHead + copy(d.Buf[unreliableHead:], payload)
	p.didSend(d, TypeUnreliable)
	p.ep.stats.unreliableOut.Add(1)
	return seq, nil
}

// sendReliable queues msg on the reliable channel.
func (p *peer) sendReliable(msg []byte) error {
	if len(msg) == 0 {
		return ErrEmpty
	}
	if len(msg) > p.ep.cfg.MaxMessage {
		return ErrTooLarge
	}
	frags := (len(msg) + kcpMSS - 1) / kcpMSS
	if p.kcp.WaitSnd()+frags > p.ep.cfg.SendQueue {
		p.close(ReasonBacklog, true)
		return ErrBacklog
	}
	if p.kcp.Send(msg) < 0 {
		return ErrTooLarge
	}
	p.ep.stats.reliableOut.Add(1)
	p.armKCP(false)
	return nil
}

// armKCP schedules the next KCP update at the time KCP asks for. lazy is
// for an update nothing new was queued for (acks owed, retransmissions):
// a peer session puts it off until PeerAckDelay after its last datagram, so
// that its acks ride with its next message instead of a datagram of their own.
func (p *peer) armKCP(lazy bool) {
	due := p.kcp.Check()
	at := p.ep.now + kcpDelay(due, p.ep.clock.nowMs())
	if lazy && p.isPeer {
		at = max(at, p.lastSend+p.ep.cfg.PeerAckDelay.Nanoseconds())
	}
	if len(p.held) > 0 {
		at = min(at, p.heldAt)
	}
	if !p.kcpTimer.scheduled() || p.kcpTimer.at > at {
		p.ep.wheel.schedule(&p.kcpTimer, at)
		p.kcpDue = due
	}
}

// fire runs one of the peer's timers.
func (p *peer) fire(t *timer) {
	if p.closed {
		return
	}
	switch t.kind {
	case timerKCP:
		if len(p.held) > 0 && p.ep.now >= p.heldAt {
			p.sendHeld()
		}
		// The wheel runs on the caller's clock, KCP on its own: a Poll's
		// now is older than the moment a timer is armed in it, so the
		// timer can fire before KCP's clock reaches the flush time, when
		// Update would do nothing and owed acks would wait for the next
		// event. Wait out the remainder instead.
		if kcpNow := p.ep.clock.nowMs(); int32(p.kcpDue-kcpNow) > 0 {
			at := p.ep.now + kcpDelay(p.kcpDue, kcpNow)
			if len(p.held) > 0 {
				at = min(at, p.heldAt)
			}
			p.ep.wheel.schedule(&p.kcpTimer, at)
			return
		}
		p.kcp.Update()
		// Only a session with segments in flight or queued, or acks held,
		// needs KCP again; acks owed from input were flushed by this Update.
		if p.kcp.WaitSnd() > 0 || len(p.held) > 0 {
			p.armKCP(true)
		}
	case timerHouse:
		now := p.ep.now
		if now-p.lastRecv >= p.ep.cfg.Timeout.Nanoseconds() {
			p.close(ReasonTimeout, true)
			return
		}
		if now-p.lastSend >= p.ep.cfg.Keepalive.Nanoseconds() {
			p.sendKeepalive()
		}
		next := min(p.lastSend+p.ep.cfg.Keepalive.Nanoseconds(), p.lastRecv+p.ep.cfg.Timeout.Nanoseconds())
		p.ep.wheel.schedule(&p.house, next)
	}
}

// receive handles a session datagram that passed the header, length, session
// and address checks.
func (p *peer) receive(t Type, b []byte) {
	ep := p.ep
	p.lastRecv = ep.now
	if !p.send.ack(readAcks(b[HeaderSize:]), p) {
		// An acknowledgement of a payload never sent: the peer claims
		// what it did not receive.
		ep.drop(DropAck)
		p.close(ReasonProtocol, true)
		return
	}
	if p.closed {
		return
	}
	switch t {
	case TypeKeepalive:
	case TypeUnreliable:
		seq := binary.LittleEndian.Uint16(b[HeaderSize+AckSize:])
		if !p.recv.newer(seq) {
			ep.drop(DropStale)
			return
		}
		ep.stats.unreliableIn.Add(1)
		if !ep.handler.Unreliable(SessionID(p.id), seq, b[unreliableHead:]) {
			ep.stats.unreliableRefused.Add(1)
			return
		}
		if p.closed {
			return
		}
		p.recv.accept(seq)
		if !p.ackOwed {
			p.ackOwed = true
			ep.ackDue = append(ep.ackDue, p)
		}
	case TypeReliable:
		if p.kcp.Input(b[HeaderSize+AckSize:], kcp.IKCP_PACKET_REGULAR, false) < 0 {
			ep.drop(DropKCP)
			return
		}
		p.armKCP(true)
		p.drainReliable()
	}
}

// drainReliable delivers every complete message KCP holds.
func (p *peer) drainReliable() {
	ep := p.ep
	for !p.closed {
		size := p.kcp.PeekSize()
		if size < 0 {
			return
		}
		if size > len(ep.msg) {
			ep.drop(DropOversize)
			p.close(ReasonProtocol, true)
			return
		}
		n := p.kcp.Recv(ep.msg)
		if n < 0 {
			return
		}
		ep.stats.reliableIn.Add(1)
		ep.handler.Reliable(SessionID(p.id), ep.msg[:n])
	}
}

// acked is called by the send window for each newly acknowledged sequence.
func (p *peer) acked(seq uint16) {
	if p.closed {
		return // the handler ended the session while this report was read
	}
	p.ep.stats.acked.Add(1)
	p.ep.handler.Acked(SessionID(p.id), seq)
}

// sendDisconnect writes the disconnect packet several times: it is the last
// word, and nothing resends it.
func (p *peer) sendDisconnect(reason Reason) {
	copies := DisconnectCopies
	if reason == ReasonTimeout || reason == ReasonThrottled {
		// A peer that fell silent, or a session sent away before it
		// proved it listens: one copy, not a flood's worth of three.
		copies = 1
	}
	for range copies {
		writeDisconnect(p.ep, p.addr, p.id, reason, p.nonce)
	}
}

// DisconnectCopies is how many times an endpoint sends its disconnect
// packet (once only for reasons timeout and throttled). The receiver acts
// on the first; the others find no session and are dropped (DropSession).
const DisconnectCopies = 3

func writeDisconnect(ep *endpoint, addr netip.AddrPort, session uint32, reason Reason, nonce uint64) {
	d := ep.slot(addr)
	putHeader(d.Buf, TypeDisconnect, session)
	d.Buf[HeaderSize] = byte(reason)
	binary.LittleEndian.PutUint64(d.Buf[HeaderSize+1:], nonce)
	d.N = disconnectSize
	ep.sent(d, TypeDisconnect)
}

// close ends the session: timers stop, the owner forgets it, the handler is
// told. tell sends the peer a disconnect.
func (p *peer) close(reason Reason, tell bool) {
	if p.closed {
		return
	}
	p.closed = true
	p.ep.wheel.stop(&p.kcpTimer)
	p.ep.wheel.stop(&p.house)
	if tell {
		p.sendDisconnect(reason)
	}
	p.ep.stats.disconnects[reason].Add(1)
	p.onClose(p, reason, tell)
	p.ep.handler.Disconnected(SessionID(p.id), reason)
}
