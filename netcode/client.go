package netcode

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/flotilla/flotilla/netcode/batch"
)

// State is a client's connection state. Negative states are final failures;
// STANDARD.md section 3.8 numbers them the same way.
type State int8

// Client states.
const (
	StateTimedOut          State = -4 // connected, then heard nothing for the timeout
	StateHandshakeTimedOut State = -3 // no answer to the handshake in time
	StateRefused           State = -2 // the server refused; Reason says why
	StateClosed            State = -1 // the session ended; Reason says why
	StateIdle              State = 0  // not started
	StateRequesting        State = 1  // sending connect requests
	StateResponding        State = 2  // sending the challenge response
	StateConnected         State = 3
	// States 4 to 7 are reserved for a signed connect token and key exchange,
	// which will come before StateRequesting.
)

func (s State) String() string {
	switch s {
	case StateTimedOut:
		return "timed out"
	case StateHandshakeTimedOut:
		return "handshake timed out"
	case StateRefused:
		return "refused"
	case StateClosed:
		return "closed"
	case StateIdle:
		return "idle"
	case StateRequesting:
		return "requesting"
	case StateResponding:
		return "responding"
	case StateConnected:
		return "connected"
	}
	return fmt.Sprintf("state(%d)", int8(s))
}

// ClientConfig configures a Client. Keepalive and Timeout are replaced by
// the server's values when the session starts.
type ClientConfig struct {
	Config
	// Server is the server's address. Required.
	Server netip.AddrPort
	// Handler receives the session and its messages. Required.
	Handler Handler
	// HandshakeTimeout bounds the handshake. Default 5 s.
	HandshakeTimeout time.Duration
	// Resend is the interval between handshake packets. Default 100 ms.
	Resend time.Duration
}

// Client is the client side of the protocol: one session to one server. It is
// owned by one goroutine; only Stats, Wake and State may be called from
// others (State's value may be stale).
type Client struct {
	ep      endpoint
	cfg     ClientConfig
	state   State
	shared  atomic.Int32 // state, for State from other goroutines
	reason  Reason
	nonce   uint64
	cookie  [4 + macSize]byte
	started int64
	resent  int64
	peer    *peer
	onClose func(*peer, Reason, bool)
	// serverMax is the largest reliable message the server accepts.
	serverMax int
}

// NewClient prepares a client on conn; Connect starts the handshake.
func NewClient(conn batch.Conn, cfg ClientConfig, now time.Time) (*Client, error) {
	if cfg.Handler == nil {
		return nil, fmt.Errorf("netcode: ClientConfig.Handler is required")
	}
	if !cfg.Server.IsValid() {
		return nil, fmt.Errorf("netcode: ClientConfig.Server is required")
	}
	cfg.Config = cfg.Config.withDefaults()
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = 5 * time.Second
	}
	if cfg.Resend == 0 {
		cfg.Resend = 100 * time.Millisecond
	}
	if cfg.HandshakeTimeout < 0 || cfg.Resend <= 0 {
		return nil, fmt.Errorf("netcode: handshake timeout %v and resend %v must be positive", cfg.HandshakeTimeout, cfg.Resend)
	}
	if err := cfg.Config.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg}
	c.ep.init(conn, cfg.Config, cfg.Handler, now)
	c.ep.ackDue = make([]*peer, 0, 1)
	c.onClose = c.closed
	return c, nil
}

// Connect starts the handshake; Poll carries it on.
func (c *Client) Connect(now time.Time) error {
	if c.state != StateIdle {
		return fmt.Errorf("netcode: Connect in state %v", c.state)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("netcode: nonce: %w", err)
	}
	c.nonce = binary.LittleEndian.Uint64(b[:])
	c.ep.setNow(now)
	c.started = c.ep.now
	c.setState(StateRequesting)
	c.sendHandshake()
	c.ep.flush()
	return nil
}

// State is the connection state.
func (c *Client) State() State { return State(c.shared.Load()) }

func (c *Client) setState(s State) {
	c.state = s
	c.shared.Store(int32(s))
}

// Reason says why a refused or closed session ended.
func (c *Client) Reason() Reason { return c.reason }

// Session is the session id, once connected.
func (c *Client) Session() SessionID {
	if c.peer == nil {
		return 0
	}
	return SessionID(c.peer.id)
}

// Stats returns the counters.
func (c *Client) Stats() Stats { return c.ep.stats.snapshot() }

// LocalAddr is the client's own address.
func (c *Client) LocalAddr() netip.AddrPort { return c.ep.conn.LocalAddr() }

// Wake makes a Wait return at once. Safe from any goroutine.
func (c *Client) Wake() { c.ep.conn.Wake() }

// Wait blocks until datagrams arrive, Wake is called, or the deadline passes
// (zero: no limit). The datagrams are processed by the next Poll.
func (c *Client) Wait(deadline time.Time) error { return c.ep.wait(deadline) }

// Flush writes the queued datagrams now.
func (c *Client) Flush() { c.ep.flush() }

// Poll processes what arrived, carries the handshake on, runs due timers and
// writes what is queued. It returns when it next needs to run.
func (c *Client) Poll(now time.Time) (time.Time, error) {
	c.ep.setNow(now)
	c.ep.receive(c.handle)
	next := never
	if c.state == StateRequesting || c.state == StateResponding {
		if c.ep.now-c.started >= c.cfg.HandshakeTimeout.Nanoseconds() {
			c.setState(StateHandshakeTimedOut)
		} else {
			if c.ep.now-c.resent >= c.cfg.Resend.Nanoseconds() {
				c.sendHandshake()
			}
			next = c.resent + c.cfg.Resend.Nanoseconds()
		}
	}
	c.ep.runTimers()
	c.ep.sendAcks()
	c.ep.flush()
	if n := c.ep.wheel.next(); n < next {
		next = n
	}
	return c.ep.timeAt(next), c.ep.err
}

func (c *Client) sendHandshake() {
	c.resent = c.ep.now
	if c.state == StateRequesting {
		writeRequest(&c.ep, c.cfg.Server, c.nonce)
		return
	}
	d := writeResponse(&c.ep, c.cfg.Server, c.nonce, c.cookie[:])
	c.ep.sent(d, TypeResponse)
}

// writeRequest queues a connect request (3.3) to addr.
func writeRequest(ep *endpoint, addr netip.AddrPort, nonce uint64) {
	d := ep.slot(addr)
	putHeader(d.Buf, TypeRequest, 0)
	binary.LittleEndian.PutUint64(d.Buf[HeaderSize:], nonce)
	clear(d.Buf[HeaderSize+8 : RequestSize])
	d.N = RequestSize
	ep.sent(d, TypeRequest)
}

// writeResponse fills a response echoing cookie (bucket and mac) to addr
// and returns it unsent, so that a dialing server can append its proof
// (3.10) before it counts it sent.
func writeResponse(ep *endpoint, addr netip.AddrPort, nonce uint64, cookie []byte) *batch.Datagram {
	d := ep.slot(addr)
	putHeader(d.Buf, TypeResponse, 0)
	binary.LittleEndian.PutUint64(d.Buf[HeaderSize:], nonce)
	copy(d.Buf[HeaderSize+8:], cookie)
	d.N = responseSize
	return d
}

// SendReliable queues msg on the reliable channel; the next Poll writes it
// (see Server.SendReliable).
func (c *Client) SendReliable(msg []byte) error {
	if c.peer == nil || c.peer.closed {
		return ErrNotConnected
	}
	if len(msg) > c.serverMax {
		return ErrTooLarge
	}
	return c.peer.sendReliable(msg)
}

// Pending is how many reliable segments are queued or in flight: what counts
// against Config.SendQueue.
func (c *Client) Pending() int {
	if c.peer == nil || c.peer.closed {
		return 0
	}
	return c.peer.kcp.WaitSnd()
}

// SendUnreliable writes payload as the next unreliable datagram.
func (c *Client) SendUnreliable(payload []byte) (uint16, error) {
	if c.peer == nil || c.peer.closed {
		return 0, ErrNotConnected
	}
	return c.peer.sendUnreliable(payload)
}

// Close ends the session, telling the server, and writes the disconnect now.
func (c *Client) Close(now time.Time) {
	c.ep.setNow(now)
	if c.peer != nil && !c.peer.closed {
		c.peer.close(ReasonClosed, true)
	} else if c.state > StateIdle {
		c.setState(StateClosed)
		c.reason = ReasonClosed
	}
	c.ep.flush()
}

func (c *Client) closed(_ *peer, reason Reason, _ bool) {
	c.ep.stats.sessions.Add(-1)
	c.reason = reason
	if reason == ReasonTimeout {
		c.setState(StateTimedOut)
	} else {
		c.setState(StateClosed)
	}
}

// clientReceives is what a client accepts; anything else is DropType.
var clientReceives = types(TypeChallenge, TypeAccept, TypeDisconnect, TypeReliable, TypeUnreliable, TypeKeepalive)

func (c *Client) handle(d *batch.Datagram) {
	ep := &c.ep
	b := d.Payload()
	h, ok := ep.admit(b, clientReceives)
	if !ok {
		return
	}
	if d.Addr != c.cfg.Server {
		ep.drop(DropAddress)
		return
	}
	switch h.Type {
	case TypeChallenge:
		if c.state != StateRequesting {
			ep.drop(DropState)
			return
		}
		if binary.LittleEndian.Uint64(b[HeaderSize:]) != c.nonce {
			ep.drop(DropNonce)
			return
		}
		copy(c.cookie[:], b[HeaderSize+8:challengeSize])
		c.setState(StateResponding)
		c.sendHandshake()
	case TypeAccept:
		if c.state != StateResponding {
			ep.drop(DropState) // a repeated accept, or one never asked for
			return
		}
		if binary.LittleEndian.Uint64(b[HeaderSize:]) != c.nonce {
			ep.drop(DropNonce)
			return
		}
		if h.Session == 0 {
			ep.drop(DropSession)
			return
		}
		keepalive := time.Duration(binary.LittleEndian.Uint16(b[HeaderSize+8:])) * time.Millisecond
		timeout := time.Duration(binary.LittleEndian.Uint16(b[HeaderSize+10:])) * 100 * time.Millisecond
		if keepalive > 0 && timeout > keepalive {
			ep.cfg.Keepalive, ep.cfg.Timeout = keepalive, timeout
		}
		c.serverMax = int(binary.LittleEndian.Uint32(b[HeaderSize+12:]))
		c.peer = newPeer(ep, h.Session, d.Addr, c.nonce, false, c.onClose)
		c.setState(StateConnected)
		ep.stats.sessions.Add(1)
		ep.stats.connects.Add(1)
		ep.handler.Connected(SessionID(h.Session), d.Addr)
	case TypeDisconnect:
		if binary.LittleEndian.Uint64(b[HeaderSize+1:]) != c.nonce {
			ep.drop(DropNonce)
			return
		}
		reason := readReason(b[HeaderSize])
		switch {
		case c.state == StateRequesting || c.state == StateResponding:
			c.setState(StateRefused)
			c.reason = reason
		case c.peer != nil && !c.peer.closed && h.Session == c.peer.id:
			c.peer.close(reason, false)
		default:
			ep.drop(DropState)
			return
		}
	default:
		if c.peer == nil || c.peer.closed || h.Session != c.peer.id {
			ep.drop(DropSession)
			return
		}
		c.peer.receive(h.Type, b)
		return
	}
	ep.stats.rxByType[h.Type].Add(1)
}

// Dial runs the handshake to completion over conn, polling and waiting on the
// real clock, and returns the connected client. It fails with the server's
// reason if refused, or when the handshake times out or ctx ends.
func Dial(ctx context.Context, conn batch.Conn, cfg ClientConfig) (*Client, error) {
	c, err := NewClient(conn, cfg, time.Now())
	if err != nil {
		return nil, err
	}
	if err := c.Connect(time.Now()); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, conn.Wake)
	defer stop()
	for {
		next, err := c.Poll(time.Now())
		if err != nil {
			return nil, err
		}
		switch c.state {
		case StateConnected:
			return c, nil
		case StateRefused:
			return nil, fmt.Errorf("netcode: refused by %v: %v", cfg.Server, c.reason)
		case StateHandshakeTimedOut:
			return nil, fmt.Errorf("netcode: no answer from %v within %v", cfg.Server, c.cfg.HandshakeTimeout)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := c.Wait(next); err != nil {
			return nil, err
		}
	}
}
