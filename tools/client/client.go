package client

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/netcode/batch"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
)

// Errors. Match them with errors.Is; they come wrapped with detail.
var (
	// ErrNotReady: Act before the Welcome and the ship arrived, or after the
	// client failed.
	ErrNotReady = errors.New("client: not ready")
	// ErrBacklog: Act while the action Config.MaxInFlight sequences back
	// still awaits its result.
	ErrBacklog = errors.New("client: too many actions awaiting results")
	// ErrJoin: the server could not give this client a ship.
	ErrJoin = errors.New("client: join fizzled")
	// ErrSession: the session ended, or never started.
	ErrSession = errors.New("client: no session")
	// ErrWelcome: the server's Welcome is malformed or describes a world the
	// demo wire schema cannot carry.
	ErrWelcome = errors.New("client: bad welcome")
	// ErrSchema: the server speaks another wire schema than this client
	// (the Welcome's schema hash differs from the demo schema's): its
	// snapshots could not be decoded, so the client does not go on.
	ErrSchema = errors.New("client: the server's wire schema is not this client's")
)

// Config configures a Client.
type Config struct {
	// Server is the server's address. Required.
	Server netip.AddrPort
	// Net tunes the netcode transport. New sets its Server and Handler.
	// Over WebRTC only SendQueue counts: it bounds the reliable messages
	// sent and not yet acknowledged.
	Net netcode.ClientConfig
	// Rate, when not zero, is sent once right after the Welcome: the
	// snapshot rate and byte budget this client asks for (zero fields: the
	// server's defaults). Rate.Hz is at most protocol.MaxRateHz.
	Rate protocol.Rate
	// Detail, when not zero, is sent once right after the Welcome (and
	// the Rate): the levels of detail the client wants (protocol.Detail,
	// 1..protocol.MaxDetail; zero: the server's default, all).
	Detail uint8
	// MaxInFlight bounds the actions awaiting a result (see Act). Default
	// 256; at most half of Net.SendQueue (default 1024), so that actions
	// alone can never fill the reliable send queue.
	MaxInFlight int
	// ViewCapacity is how many entities each of the protocol.History+1 views
	// holds before it grows. Views grow to the largest view seen and then
	// stay. Default 64.
	ViewCapacity int
	// DesyncAfter is how long a desync episode may last before it counts as
	// permanent. Default 1 s.
	DesyncAfter time.Duration
	// OnResult, if set, is called for every action's result (not the
	// join's), inside Poll. The Outcome's Effect is zero.
	OnResult func(o Outcome)
	// OnEffect, if set, is called once for each applied action when an
	// accepted snapshot reaches its frame, inside Poll.
	OnEffect func(o Outcome)
	// OnSnapshot, if set, is called for every snapshot datagram received,
	// accepted or refused, inside Poll, after the view is updated.
	OnSnapshot func(s SnapshotInfo)
}

// Defaults of Config.
const (
	DefaultMaxInFlight  = 256
	DefaultViewCapacity = 64
	DefaultDesyncAfter  = time.Second
	maxViewCapacity     = 1 << 16
	defaultSendQueue    = 1024 // netcode's default Config.SendQueue
	initialEvents       = 8
)

// Outcome is what became of one action.
type Outcome struct {
	Action   protocol.Action
	Result   protocol.Result
	Sent     time.Time // the now given to Act
	Received time.Time // the now of the Poll that delivered the result
	// Effect (OnEffect only) is when the effect became visible: the later
	// of Received and the arrival of the first accepted snapshot whose frame
	// is at or past Result.Frame.
	Effect time.Time
}

// SnapshotInfo describes one snapshot datagram.
type SnapshotInfo struct {
	Seq uint16 // the snapshot sequence (zero when the head is malformed)
	// Form is what the head says; zero (Full) when the head is malformed.
	Form protocol.Form
	// Frame is the snapshot's frame when the client could tell it (accepted,
	// or refused for a checksum mismatch); zero otherwise.
	Frame uint32
	// Bytes is the datagram's UDP payload size: the snapshot payload plus
	// what the transport adds, DatagramOverhead over netcode,
	// bridge.Overhead (DTLS and SCTP) over WebRTC.
	Bytes   int
	Refusal Refusal // Accepted, or why it was refused
}

// Client is one session to a game server. See the package comment for its
// goroutine rules.
type Client struct {
	cfg Config
	tr  transport
	now time.Time // the now of the running or last Poll
	// overhead is what the transport adds to a snapshot payload on the
	// wire (SnapshotInfo.Bytes).
	overhead int

	welcome protocol.Welcome
	wire    *demowire.Wire
	codec   *codec.Codec
	ship    uint32
	joined  bool
	err     error
	closing bool // err is fatal: close the session at the end of Poll
	// A native client keeps its socket and netcode settings to follow a
	// Redirect: redirect is where to go (invalid: nowhere), hops how many
	// it followed.
	conn     batch.Conn
	ncfg     netcode.ClientConfig
	redirect netip.AddrPort
	hops     int
	leaving  bool // closing the session a Redirect ends
	pending  int  // Pending as of the last Poll while the session was live

	hist    history
	desync  episode
	actions actions

	st  counters
	buf [protocol.MaxMessage]byte // outgoing reliable message
}

// New validates cfg and starts connecting over conn, which the caller keeps
// owning (Close does not close it). now is the caller's clock.
func New(conn batch.Conn, cfg Config, now time.Time) (*Client, error) {
	if !cfg.Server.IsValid() {
		return nil, errors.New("client: Config.Server is required")
	}
	c, err := newClient(cfg, now)
	if err != nil {
		return nil, err
	}
	c.overhead = DatagramOverhead
	c.conn = conn
	c.ncfg = c.cfg.Net
	c.ncfg.Handler = (*handler)(c)
	if err := c.dial(cfg.Server, now); err != nil {
		return nil, err
	}
	return c, nil
}

// MaxRedirects bounds how many Redirects a client follows in a row.
const MaxRedirects = 3

// dial starts a netcode session with server over the client's socket.
func (c *Client) dial(server netip.AddrPort, now time.Time) error {
	nc := c.ncfg
	nc.Server = server
	n, err := netcode.NewClient(c.conn, nc, now)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	if err := n.Connect(now); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	c.tr = n
	return nil
}

// follow goes where a Redirect pointed: the session ends (the server
// expects it) and a new one starts with the member named.
func (c *Client) follow(now time.Time) {
	to := c.redirect
	c.redirect = netip.AddrPort{}
	if c.conn == nil {
		c.fatal(fmt.Errorf("%w: redirected to %v, which a WebRTC client does not follow", ErrSession, to))
		return
	}
	if c.hops++; c.hops > MaxRedirects {
		c.fatal(fmt.Errorf("%w: more than %d redirects", ErrSession, MaxRedirects))
		return
	}
	c.leaving = true
	c.tr.Close(now)
	c.leaving = false
	if err := c.dial(to, now); err != nil {
		c.fail(err)
		return
	}
	c.st.redirects.Add(1)
}

// sendQueue is the bound on reliable messages queued or unacknowledged:
// Net.SendQueue, or netcode's default.
func sendQueue(cfg *Config) int {
	if cfg.Net.SendQueue == 0 {
		return defaultSendQueue
	}
	return cfg.Net.SendQueue
}

// newClient validates cfg and returns a Client with no transport yet.
func newClient(cfg Config, now time.Time) (*Client, error) {
	if cfg.Detail > protocol.MaxDetail {
		return nil, fmt.Errorf("client: detail %d over %d tiers", cfg.Detail, protocol.MaxDetail)
	}
	if cfg.Rate.Hz > protocol.MaxRateHz {
		return nil, fmt.Errorf("client: rate %d Hz over %d", cfg.Rate.Hz, protocol.MaxRateHz)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if queue := sendQueue(&cfg); cfg.MaxInFlight < 1 || cfg.MaxInFlight > queue/2 {
		return nil, fmt.Errorf("client: max in flight %d outside [1, %d] (half the send queue)", cfg.MaxInFlight, queue/2)
	}
	if cfg.ViewCapacity == 0 {
		cfg.ViewCapacity = DefaultViewCapacity
	}
	if cfg.ViewCapacity < 1 || cfg.ViewCapacity > maxViewCapacity {
		return nil, fmt.Errorf("client: view capacity %d outside [1, %d]", cfg.ViewCapacity, maxViewCapacity)
	}
	if cfg.DesyncAfter == 0 {
		cfg.DesyncAfter = DefaultDesyncAfter
	}
	if cfg.DesyncAfter < 0 {
		return nil, fmt.Errorf("client: desync window %v must be positive", cfg.DesyncAfter)
	}
	c := &Client{cfg: cfg, now: now}
	c.hist.init(cfg.ViewCapacity)
	c.actions.init(cfg.MaxInFlight)
	return c, nil
}

// Poll processes what arrived (running the callbacks), writes what is
// queued and returns when it next needs to run (zero: only when something
// arrives). The error is the connection's: the batch.Conn failed.
func (c *Client) Poll(now time.Time) (time.Time, error) {
	c.now = now
	// Before the transport runs, so that a permanent-desync report goes out
	// in this Poll.
	c.checkPermanent(now)
	next, err := c.tr.Poll(now)
	if c.redirect.IsValid() && c.err == nil {
		c.follow(now)
		return now, err // poll again at once: the new session's handshake
	}
	switch st := c.tr.State(); st {
	case netcode.StateConnected:
		c.pending = c.tr.Pending()
		if c.closing {
			c.tr.Close(now)
		}
	case netcode.StateRefused, netcode.StateHandshakeTimedOut:
		c.fail(fmt.Errorf("%w: %v: %v", ErrSession, st, c.tr.Reason()))
	}
	if due, ok := c.desyncDue(); ok && (next.IsZero() || due.Before(next)) {
		next = due
	}
	return next, err
}

// Wait blocks until datagrams arrive (over WebRTC: until pion queues an
// event), Wake is called, or the deadline passes (zero: no limit). The
// next Poll processes what arrived.
func (c *Client) Wait(deadline time.Time) error { return c.tr.Wait(deadline) }

// Wake makes a Wait return at once. Safe from any goroutine.
func (c *Client) Wake() { c.tr.Wake() }

// Close ends the session, telling the server, and writes the disconnect
// now. Callbacks no longer run. It does not close the batch.Conn.
func (c *Client) Close(now time.Time) {
	if c.tr.State() == netcode.StateConnected {
		c.pending = c.tr.Pending()
	}
	c.tr.Close(now)
	c.fail(fmt.Errorf("%w: closed", ErrSession))
}

// Ready reports whether the client can act: the Welcome and its ship came,
// and nothing failed.
func (c *Client) Ready() bool { return c.joined && c.err == nil }

// Err is why the client cannot play, or nil: the handshake was refused or
// timed out, the session ended (wraps ErrSession), the join fizzled
// (ErrJoin), or the Welcome was bad (ErrWelcome). It never clears.
func (c *Client) Err() error { return c.err }

func (c *Client) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

// State is the transport's connection state. Safe from any goroutine (the
// value may be stale).
func (c *Client) State() netcode.State { return c.tr.State() }

// Reason says why the transport's session was refused, timed out or
// ended (the server's reason: a disconnect's over netcode, a Bye's over
// WebRTC); netcode.ReasonNone while it is live.
func (c *Client) Reason() netcode.Reason { return c.tr.Reason() }

// Welcome is the server's Welcome; zero before it came.
func (c *Client) Welcome() protocol.Welcome { return c.welcome }

// Wire is the demo game's wire schema built from the Welcome (nil before
// it): its quantizers turn view fields back into world units. It is
// immutable and safe for concurrent use.
func (c *Client) Wire() *demowire.Wire { return c.wire }

// Ship is the id of the client's ship; zero before the join result.
func (c *Client) Ship() uint32 { return c.ship }

// View returns the newest accepted view and its frame, or ok false before
// the first. The view is the client's own: read it, never change it; it
// stays valid until the next Poll.
func (c *Client) View() (v *codec.View, frame uint32, ok bool) {
	s := c.hist.newest
	if s == nil {
		return nil, 0, false
	}
	return &s.view, s.frame, true
}

// InFlight is how many actions await their result.
func (c *Client) InFlight() int { return c.actions.inFlight }

// Pending is how many reliable segments (one per action, desync report or
// rate request) are queued or not yet acknowledged by the server. After the
// session ended it is the count as of the last Poll while it was live.
func (c *Client) Pending() int {
	if c.tr.State() == netcode.StateConnected {
		return c.tr.Pending()
	}
	return c.pending
}

// Stats returns the counters. Safe from any goroutine.
func (c *Client) Stats() Stats { return c.st.snapshot() }

// Transport returns the transport's counters. Safe from any goroutine.
func (c *Client) Transport() netcode.Stats { return c.tr.Stats() }

// LocalAddr is the client's own address.
func (c *Client) LocalAddr() netip.AddrPort { return c.tr.LocalAddr() }

// handler is the Client as the transport's netcode.Handler: its methods
// run inside Poll.
type handler Client

func (h *handler) Connected(netcode.SessionID, netip.AddrPort) {}

func (h *handler) Disconnected(_ netcode.SessionID, reason netcode.Reason) {
	if h.leaving {
		return // the session a Redirect ends
	}
	(*Client)(h).fail(fmt.Errorf("%w: ended: %v", ErrSession, reason))
}

func (h *handler) Reliable(_ netcode.SessionID, msg []byte) { (*Client)(h).reliable(msg) }

func (h *handler) Unreliable(_ netcode.SessionID, _ uint16, payload []byte) bool {
	_, ok := (*Client)(h).receive(payload)
	return ok
}

func (h *handler) Acked(netcode.SessionID, uint16) {}

// reliable handles one message of the reliable channel.
func (c *Client) reliable(msg []byte) {
	t, err := protocol.Type(msg)
	if err != nil {
		c.st.badMessage.Add(1)
		return
	}
	switch t {
	case protocol.MsgWelcome:
		c.takeWelcome(msg)
	case protocol.MsgRedirect:
		var d protocol.Redirect
		if c.codec != nil || protocol.ParseRedirect(msg, &d) != nil {
			c.st.badMessage.Add(1) // only instead of a Welcome
			return
		}
		c.redirect = d.Addr
	case protocol.MsgResult:
		var r protocol.Result
		if err := protocol.ParseResult(msg, &r); err != nil {
			c.st.badMessage.Add(1)
			return
		}
		c.result(&r)
	default:
		c.st.badMessage.Add(1)
	}
}

func (c *Client) takeWelcome(msg []byte) {
	if c.codec != nil {
		c.st.badMessage.Add(1)
		return
	}
	var w protocol.Welcome
	if err := protocol.ParseWelcome(msg, &w); err != nil {
		c.fatal(fmt.Errorf("%w: %w", ErrWelcome, err))
		return
	}
	fc, err := demowire.ParseParams(w.Game)
	if err != nil {
		c.fatal(fmt.Errorf("%w: %w", ErrWelcome, err))
		return
	}
	wire, err := demowire.New(fc)
	if err != nil {
		c.fatal(fmt.Errorf("%w: %w", ErrWelcome, err))
		return
	}
	if h := wire.Schema.Hash(); h != w.SchemaHash {
		c.fatal(fmt.Errorf("%w: server %s, client %s", ErrSchema, codec.FormatSchemaHash(w.SchemaHash), codec.FormatSchemaHash(h)))
		return
	}
	c.welcome, c.wire, c.codec = w, wire, codec.NewCodec(wire.Schema)
	if c.cfg.Rate != (protocol.Rate{}) {
		// A failure here means the session is already over; Err says so.
		_ = c.tr.SendReliable(protocol.AppendRate(c.buf[:0], &c.cfg.Rate))
	}
	if c.cfg.Detail != 0 {
		_ = c.tr.SendReliable(protocol.AppendDetail(c.buf[:0], &protocol.Detail{Tiers: c.cfg.Detail}))
	}
}

// fatal fails the client and has Poll close the session.
func (c *Client) fatal(err error) {
	c.fail(err)
	c.closing = true
}
