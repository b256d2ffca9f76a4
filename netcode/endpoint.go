package netcode

import (
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// SessionID names a session on the wire. The server draws it at random when
// the handshake completes; it is never 0.
type SessionID uint32

// Handler receives what an endpoint delivers. Its methods run on the goroutine
// that calls Poll, inside Poll; they may call the endpoint's Send and
// Disconnect methods. Byte slices are valid only during the call.
type Handler interface {
	// Connected: the handshake completed.
	Connected(id SessionID, addr netip.AddrPort)
	// Disconnected: the session ended, for the reason given. Nothing more
	// arrives for id; sends to it fail.
	Disconnected(id SessionID, reason Reason)
	// Reliable: the next message of the reliable-ordered channel.
	Reliable(id SessionID, msg []byte)
	// Unreliable: a payload newer than any delivered before on this session.
	// Returning true accepts it: seq is acknowledged to the peer and older
	// payloads are no longer delivered. Returning false refuses it (the
	// receiver could not use it): seq is never acknowledged, so a sender that
	// encodes against acknowledged state never builds on it.
	Unreliable(id SessionID, seq uint16, payload []byte) bool
	// Acked: the peer reported that it delivered unreliable payload seq.
	// Each sequence is reported at most once.
	Acked(id SessionID, seq uint16)
}

// Errors returned by Send methods and constructors.
var (
	ErrNoSession    = errors.New("netcode: no such session")
	ErrTooLarge     = errors.New("netcode: message over the size limit")
	ErrEmpty        = errors.New("netcode: empty reliable message")
	ErrBacklog      = errors.New("netcode: reliable send queue full; session disconnected")
	ErrNotConnected = errors.New("netcode: not connected")
)

// Config is what servers and clients share.
type Config struct {
	// Keepalive: an endpoint that has sent nothing to a peer for this long
	// sends a keepalive. Default 250 ms.
	Keepalive time.Duration
	// Timeout: a session that has heard nothing from its peer for this long
	// ends with ReasonTimeout. Default 5 s.
	Timeout time.Duration
	// MaxMessage bounds a reliable message, both ways. Default 16 KiB; at most
	// what fits in the receive window (127 segments of 1,162 bytes with the
	// default window).
	MaxMessage int
	// SendQueue bounds the KCP segments waiting or in flight per session.
	// A send beyond it ends the session with ReasonBacklog. Default 1024.
	SendQueue int
	// KCP tunes the reliable channel; the zero value is the documented tuning.
	KCP KCPConfig
	// PeerAckDelay is how long a peer session's (Dial's) KCP acks and
	// retransmissions may wait, after its last datagram, for a message to
	// ride with. Peers send each other one small message a frame: with the
	// frame period and a little more, each frame costs one datagram each
	// way instead of a message and an ack. Zero (the default) waits only
	// for KCP's flush interval, as client sessions do; at most 1 s.
	PeerAckDelay time.Duration
	// Batch is how many datagrams one read or write moves. Default 64.
	Batch int
}

func (c Config) withDefaults() Config {
	if c.Keepalive == 0 {
		c.Keepalive = 250 * time.Millisecond
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.MaxMessage == 0 {
		c.MaxMessage = 16 << 10
	}
	if c.SendQueue == 0 {
		c.SendQueue = 1024
	}
	if c.Batch == 0 {
		c.Batch = 64
	}
	c.KCP = c.KCP.withDefaults()
	return c
}

func (c Config) validate() error {
	if err := c.KCP.validate(); err != nil {
		return err
	}
	if c.PeerAckDelay < 0 || c.PeerAckDelay > time.Second {
		return fmt.Errorf("netcode: peer ack delay %v outside [0, 1s]", c.PeerAckDelay)
	}
	if c.Keepalive <= 0 || c.Timeout <= c.Keepalive {
		return fmt.Errorf("netcode: keepalive %v must be positive and below the timeout %v", c.Keepalive, c.Timeout)
	}
	if c.Timeout > time.Hour {
		return fmt.Errorf("netcode: timeout %v over one hour", c.Timeout)
	}
	if limit := maxMessageFor(c.KCP.RecvWindow); c.MaxMessage < 1 || c.MaxMessage > limit {
		return fmt.Errorf("netcode: max message %d outside [1, %d] (the receive window of %d segments)", c.MaxMessage, limit, c.KCP.RecvWindow)
	}
	if c.SendQueue < c.KCP.SendWindow {
		return fmt.Errorf("netcode: send queue %d below the send window %d", c.SendQueue, c.KCP.SendWindow)
	}
	if frags := (c.MaxMessage + kcpMSS - 1) / kcpMSS; c.SendQueue < frags {
		// A largest message on an empty queue would end the session.
		return fmt.Errorf("netcode: send queue %d below the %d segments of a %d-byte message", c.SendQueue, frags, c.MaxMessage)
	}
	if c.Batch < 1 || c.Batch > 1024 {
		return fmt.Errorf("netcode: batch %d outside [1, 1024]", c.Batch)
	}
	return nil
}

// Stats are an endpoint's cumulative counters, safe to read from any goroutine.
// Byte counts are UDP payload bytes. RxPackets and RxBytes count datagrams that
// passed the header, type and length checks (STANDARD.md 3.9, steps 1 to 5);
// RxByType counts those the endpoint acted on. TxPackets and TxBytes count what
// the endpoint handed to its batch.Conn.
type Stats struct {
	Sessions      int
	RxPackets     uint64
	RxBytes       uint64
	TxPackets     uint64
	TxBytes       uint64
	RxByType      [numTypes]uint64 // accepted datagrams per packet type
	TxByType      [numTypes]uint64
	Drops         [NumDrops]uint64   // ignored datagrams per reason
	Refused       [numReasons]uint64 // handshakes answered with a disconnect, per reason
	Disconnects   [numReasons]uint64 // sessions ended, per reason
	Connects      uint64
	Acked         uint64 // unreliable payloads the peers acknowledged
	ReliableIn    uint64 // reliable messages delivered
	ReliableOut   uint64 // reliable messages queued
	UnreliableIn  uint64 // unreliable payloads delivered to the handler
	UnreliableOut uint64 // unreliable payloads sent
	// UnreliableRefused counts payloads the handler refused (not acked).
	UnreliableRefused uint64
	// Dials counts this server's peer dials: started, connected, refused,
	// timed out (Server.Dial).
	Dials [numDialOutcomes]uint64
	// PeerSessions counts peer sessions made (dialed or accepted).
	PeerSessions uint64
}

type counters struct {
	sessions                    atomic.Int64
	rxPackets, rxBytes, txBytes atomic.Uint64
	rxByType, txByType          [numTypes]atomic.Uint64
	drops                       [NumDrops]atomic.Uint64
	refused, disconnects        [numReasons]atomic.Uint64
	connects, acked             atomic.Uint64
	reliableIn, reliableOut     atomic.Uint64
	unreliableIn, unreliableOut atomic.Uint64
	unreliableRefused           atomic.Uint64
	dials                       [numDialOutcomes]atomic.Uint64
	peerSessions                atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Sessions:  int(c.sessions.Load()),
		RxPackets: c.rxPackets.Load(), RxBytes: c.rxBytes.Load(),
		TxBytes:  c.txBytes.Load(),
		Connects: c.connects.Load(), Acked: c.acked.Load(),
		ReliableIn: c.reliableIn.Load(), ReliableOut: c.reliableOut.Load(),
		UnreliableIn: c.unreliableIn.Load(), UnreliableOut: c.unreliableOut.Load(),
		UnreliableRefused: c.unreliableRefused.Load(),
		PeerSessions:      c.peerSessions.Load(),
	}
	for i := range s.Dials {
		s.Dials[i] = c.dials[i].Load()
	}
	for i := range s.RxByType {
		s.RxByType[i] = c.rxByType[i].Load()
		s.TxByType[i] = c.txByType[i].Load()
		s.TxPackets += s.TxByType[i]
	}
	for i := range s.Drops {
		s.Drops[i] = c.drops[i].Load()
	}
	for i := range s.Refused {
		s.Refused[i] = c.refused[i].Load()
		s.Disconnects[i] = c.disconnects[i].Load()
	}
	return s
}

// endpoint is the machinery servers and clients share: the batches, the
// clock, the timer wheel and the counters.
type endpoint struct {
	conn    batch.Conn
	cfg     Config
	handler Handler

	rx        []batch.Datagram
	rxPending int // datagrams Wait read that Poll has not processed
	tx        []batch.Datagram
	txN       int

	epoch time.Time
	now   int64 // ns since epoch, as of the current Poll
	clock kcpClock
	wheel *wheel
	due   []*timer

	ackDue []*peer // peers owing an ack-only packet at the end of this Poll
	msg    []byte  // receive buffer for one reliable message

	stats counters
	err   error // the first error of the connection; sticky
}

func (e *endpoint) init(conn batch.Conn, cfg Config, h Handler, now time.Time) {
	e.conn, e.cfg, e.handler = conn, cfg, h
	e.rx = batch.NewBuffers(cfg.Batch)
	e.tx = batch.NewBuffers(cfg.Batch)
	e.epoch = now
	e.clock = newKCPClock()
	e.wheel = newWheel(0)
	e.due = make([]*timer, 0, 64)
	e.msg = make([]byte, cfg.MaxMessage)
}

func (e *endpoint) setNow(now time.Time) { e.now = int64(now.Sub(e.epoch)) }

func (e *endpoint) timeAt(ns int64) time.Time {
	if ns == never {
		return time.Time{}
	}
	return e.epoch.Add(time.Duration(ns))
}

func (e *endpoint) drop(d Drop) { e.stats.drops[d].Add(1) }

// slot returns the next outgoing datagram, flushing the batch when full.
func (e *endpoint) slot(addr netip.AddrPort) *batch.Datagram {
	if e.txN == len(e.tx) {
		e.flush()
	}
	d := &e.tx[e.txN]
	e.txN++
	d.Addr = addr
	d.N = 0
	return d
}

// sent accounts a datagram written into a slot.
func (e *endpoint) sent(d *batch.Datagram, t Type) {
	e.stats.txBytes.Add(uint64(d.N))
	e.stats.txByType[t].Add(1)
}

// flush writes the pending outgoing batch.
func (e *endpoint) flush() {
	if e.txN == 0 {
		return
	}
	if _, err := e.conn.WriteBatch(e.tx[:e.txN]); err != nil && e.err == nil {
		e.err = err
	}
	e.txN = 0
}

// read returns the next batch of received datagrams without waiting.
func (e *endpoint) read() []batch.Datagram {
	if n := e.rxPending; n > 0 {
		e.rxPending = 0
		return e.rx[:n]
	}
	n, err := e.conn.ReadBatch(e.rx, pollDeadline)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return nil
	}
	return e.rx[:n]
}

// pollDeadline is a deadline in the past: ReadBatch returns at once.
var pollDeadline = time.Unix(0, 1)

// wait blocks until datagrams arrive, Wake, or the deadline.
func (e *endpoint) wait(deadline time.Time) error {
	if e.rxPending > 0 {
		return nil
	}
	n, err := e.conn.ReadBatch(e.rx, deadline)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return err
	}
	e.rxPending = n
	return nil
}

// typeSet is a set of packet types, a bit per type.
type typeSet uint16

func types(ts ...Type) typeSet {
	var s typeSet
	for _, t := range ts {
		s |= 1 << t
	}
	return s
}

// admit makes the checks every receiver makes first (STANDARD.md 3.9, steps
// 1 to 5) and counts a datagram that passes them. receives is the set of
// types this side accepts.
func (e *endpoint) admit(b []byte, receives typeSet) (Header, bool) {
	h, err := ParseHeader(b)
	switch {
	case err == ErrShort:
		e.drop(DropShort)
	case err != nil:
		e.drop(DropProtocol)
	case h.Version != Version:
		e.drop(DropVersion)
	case h.Type >= numTypes || receives&(1<<h.Type) == 0:
		e.drop(DropType)
	case !validLength(h.Type, len(b)):
		e.drop(DropLength)
	default:
		e.stats.rxPackets.Add(1)
		e.stats.rxBytes.Add(uint64(len(b)))
		return h, true
	}
	return h, false
}

// receive reads and handles what has arrived, at most maxReadsPerPoll
// batches.
func (e *endpoint) receive(handle func(d *batch.Datagram)) {
	for range maxReadsPerPoll {
		ds := e.read()
		for i := range ds {
			handle(&ds[i])
		}
		if len(ds) < len(e.rx) {
			return
		}
	}
}

// maxReadsPerPoll bounds how many batches one Poll reads, so timers and sends
// get their turn under a flood.
const maxReadsPerPoll = 16

// runTimers fires every due timer.
func (e *endpoint) runTimers() {
	e.due = e.wheel.advance(e.now, e.due[:0])
	for i, t := range e.due {
		e.due[i] = nil
		t.owner.fire(t)
	}
}

// sendAcks sends an ack-only packet to each peer that delivered an unreliable
// payload during this Poll and has sent it nothing since.
func (e *endpoint) sendAcks() {
	for i, p := range e.ackDue {
		e.ackDue[i] = nil
		if p.ackOwed && !p.closed {
			p.sendKeepalive()
		}
	}
	e.ackDue = e.ackDue[:0]
}

// next is when the endpoint next needs a Poll for its timers.
func (e *endpoint) next() time.Time { return e.timeAt(e.wheel.next()) }
