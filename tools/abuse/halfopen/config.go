package halfopen

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Defaults of Config.
const (
	DefaultSessions         = 2000
	DefaultKeepalive        = 2 * time.Second
	DefaultDuration         = 30 * time.Second
	DefaultHandshakeTimeout = 5 * time.Second // STANDARD.md 3.8, state −3
	DefaultProgressEvery    = time.Second
	DefaultReconnectDelay   = 100 * time.Millisecond

	// MaxSessions bounds Config.Sessions: each session holds a socket, and
	// a source address has about 28,000 ephemeral ports on a default Linux.
	MaxSessions = 1 << 20
)

// ErrConfig is returned, wrapped, for a Config outside its limits.
var ErrConfig = errors.New("halfopen: bad config")

// Config describes a run. The zero value of every field but Server asks for
// its default.
type Config struct {
	// Server is the netcode server's UDP address. Required.
	Server netip.AddrPort
	// Sessions is how many half-open sessions to open. Default 2000.
	Sessions int
	// Keepalive is how often an accepted session sends its keepalive. The
	// first goes one interval after the accept. Default 2 s.
	Keepalive time.Duration
	// Duration bounds the run, from the first handshake. At its end the
	// sockets close without a disconnect: the server keeps the sessions
	// until its own timeout. Default 30 s.
	Duration time.Duration
	// Rate is how many handshakes begin per second, evenly spaced, first
	// handshakes and, with Reconnect, handshakes that start over alike.
	// Zero begins them all at once and starts over without waiting for a
	// turn (the command's default is 2000).
	Rate int
	// Reconnect makes a session whose handshake attempt ended (the server
	// refused it, disconnected it after accepting it, or never answered
	// within HandshakeTimeout) start over on the same socket with a new
	// nonce ReconnectDelay later (default 100 ms), at its turn under Rate,
	// until the run ends: the run keeps up to Sessions sessions open on
	// the server whatever its timeouts. A session whose socket failed does
	// not start over. The report keeps each ended attempt's outcome, about
	// 100 bytes: a run at 2,000 handshakes a second holds 12 MB a minute.
	Reconnect      bool
	ReconnectDelay time.Duration
	// Sources are the local addresses the sessions' sockets bind to, taken
	// in turn (session i binds Sources[i % len]). Empty lets the kernel pick
	// (127.0.0.1 for a server on 127.0.0.1).
	Sources []netip.Addr
	// HandshakeTimeout is how long a session tries to complete its
	// handshake. Default 5 s.
	HandshakeTimeout time.Duration
	// OnProgress, when set, is called every ProgressEvery (default 1 s)
	// from the goroutine that called Run.
	OnProgress    func(Progress)
	ProgressEvery time.Duration

	// dial opens a session's socket; nil means a connected UDP socket. The
	// package's tests replace it with the network simulator.
	dial func(src netip.Addr, server netip.AddrPort) (conn, error)
}

// WithDefaults returns c with every zero field but Server, Rate, Sources and
// OnProgress set to its default.
func (c Config) WithDefaults() Config {
	if c.Sessions == 0 {
		c.Sessions = DefaultSessions
	}
	if c.Keepalive == 0 {
		c.Keepalive = DefaultKeepalive
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	if c.ReconnectDelay == 0 {
		c.ReconnectDelay = DefaultReconnectDelay
	}
	return c
}

// Validate reports the first field outside its limits, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case !c.Server.IsValid() || c.Server.Port() == 0:
		return bad("server address %v is not host:port", c.Server)
	case c.Sessions < 1 || c.Sessions > MaxSessions:
		return bad("sessions %d outside [1, %d]", c.Sessions, MaxSessions)
	case c.Keepalive <= 0:
		return bad("keepalive %v must be positive", c.Keepalive)
	case c.Duration <= 0:
		return bad("duration %v must be positive", c.Duration)
	case c.Rate < 0:
		return bad("rate %d must not be negative", c.Rate)
	case c.HandshakeTimeout <= 0:
		return bad("handshake timeout %v must be positive", c.HandshakeTimeout)
	case c.ProgressEvery <= 0:
		return bad("progress interval %v must be positive", c.ProgressEvery)
	case c.ReconnectDelay <= 0:
		return bad("reconnect delay %v must be positive", c.ReconnectDelay)
	}
	v4 := c.Server.Addr().Unmap().Is4()
	for _, a := range c.Sources {
		if !a.IsValid() || a.Unmap().Is4() != v4 {
			return bad("source %v is not an address of the server's family (%v)", a, c.Server)
		}
	}
	return nil
}
