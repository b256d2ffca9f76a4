package server

import (
	"errors"
	"fmt"
	"time"

	"github.com/flotilla/flotilla/netcode"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// ErrConfig is wrapped by every error Config.Validate returns.
var ErrConfig = errors.New("server: invalid config")

// Defaults.
const (
	DefaultTickHz             = 30
	DefaultSnapshotHz         = 20
	DefaultBytesPerSec        = 20000
	DefaultMaxBytesPerSec     = 200000
	DefaultInputDelay         = 2
	DefaultMaxClients         = 4096
	DefaultMaxPendingActions  = 32
	DefaultMaxActionsPerFrame = 16384
	// DefaultMaxLagFrames: a room that falls this many frames behind its
	// clock skips ahead instead of running them all at once.
	DefaultMaxLagFrames = 15
)

// Config holds a room's settings. Zero fields take the defaults.
type Config struct {
	// TickHz is the simulation rate in frames per second (default 30).
	TickHz int
	// SnapshotHz is a client's snapshot rate unless it asks for less
	// (default 20). Clients may ask for up to MaxSnapshotHz (default: the
	// tick rate), never more than TickHz.
	SnapshotHz, MaxSnapshotHz int
	// BytesPerSec is a client's snapshot budget in UDP payload bytes per
	// second unless it asks for less (default 20,000); MaxBytesPerSec
	// (default 200,000) bounds what it may ask for.
	BytesPerSec, MaxBytesPerSec int
	// InputDelay is how many frames after the next one an action received
	// now is stamped for (default 2): the slack a mesh needs to gather
	// every server's actions for a frame.
	InputDelay int
	// MaxClients bounds connected clients (default 4096).
	MaxClients int
	// MaxPendingActions bounds one client's actions awaiting their frame;
	// more are fizzled at once with protocol.ReasonBusy (default 32).
	MaxPendingActions int
	// MaxActionsPerFrame bounds the actions of one frame over all sources
	// (default 16384); more are fizzled with protocol.ReasonBusy.
	MaxActionsPerFrame int
	// MaxLagFrames: when the room is this many frames behind its clock it
	// drops the backlog and counts it (default 15).
	MaxLagFrames int
	// Interest says what each client sees around its ship's tile (default
	// demowire.DefaultInterest: full detail within 1 tile, lower tiers out
	// to 5).
	Interest *demowire.Interest
	// Game is the demo game's configuration; Seed seeds it.
	Game fleet.Config
	Seed uint64
	// Net configures the transport (keepalive, timeout, KCP, batch).
	Net netcode.Config
	// CookieKey keys the handshake cookies; nil draws a random key.
	CookieKey []byte
}

// WithDefaults returns c with zero fields replaced by the defaults.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.TickHz, DefaultTickHz)
	def(&c.SnapshotHz, DefaultSnapshotHz)
	def(&c.MaxSnapshotHz, c.TickHz)
	def(&c.BytesPerSec, DefaultBytesPerSec)
	def(&c.MaxBytesPerSec, DefaultMaxBytesPerSec)
	def(&c.InputDelay, DefaultInputDelay)
	def(&c.MaxClients, DefaultMaxClients)
	def(&c.MaxPendingActions, DefaultMaxPendingActions)
	def(&c.MaxActionsPerFrame, DefaultMaxActionsPerFrame)
	def(&c.MaxLagFrames, DefaultMaxLagFrames)
	if c.Interest == nil {
		in := demowire.DefaultInterest()
		c.Interest = &in
	}
	c.Game = c.Game.WithDefaults()
	c.Game.TickHz = c.TickHz
	return c
}

// Validate checks c after defaults are applied.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case c.TickHz < 1 || c.TickHz > protocol.MaxRateHz:
		return bad("tick rate %d Hz outside 1..%d", c.TickHz, protocol.MaxRateHz)
	case c.MaxSnapshotHz < 1 || c.MaxSnapshotHz > c.TickHz:
		return bad("max snapshot rate %d Hz outside 1..tick rate %d", c.MaxSnapshotHz, c.TickHz)
	case c.SnapshotHz < 1 || c.SnapshotHz > c.MaxSnapshotHz:
		return bad("snapshot rate %d Hz outside 1..max snapshot rate %d", c.SnapshotHz, c.MaxSnapshotHz)
	case c.MaxBytesPerSec < minBytesPerSec:
		return bad("max bytes per second %d under %d", c.MaxBytesPerSec, minBytesPerSec)
	case c.BytesPerSec < minBytesPerSec || c.BytesPerSec > c.MaxBytesPerSec:
		return bad("bytes per second %d outside %d..max %d", c.BytesPerSec, minBytesPerSec, c.MaxBytesPerSec)
	case c.InputDelay < 0 || c.InputDelay > maxInputDelay:
		return bad("input delay %d outside 0..%d frames", c.InputDelay, maxInputDelay)
	case c.MaxClients < 1 || c.MaxClients > 1<<20:
		return bad("max clients %d outside 1..%d", c.MaxClients, 1<<20)
	case c.MaxPendingActions < 1 || c.MaxPendingActions > 1<<16:
		return bad("max pending actions %d outside 1..65536", c.MaxPendingActions)
	case c.MaxActionsPerFrame < 1 || c.MaxActionsPerFrame > 1<<22:
		return bad("max actions per frame %d outside 1..%d", c.MaxActionsPerFrame, 1<<22)
	case c.MaxLagFrames < 1:
		return bad("max lag %d frames under 1", c.MaxLagFrames)
	}
	if err := c.Game.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// tick returns the duration of one frame.
func (c *Config) tick() time.Duration { return time.Second / time.Duration(c.TickHz) }

// Limits of the settings.
const (
	// minBytesPerSec lets a client at 1 Hz still receive heartbeats and
	// small deltas.
	minBytesPerSec = 1000
	maxInputDelay  = 60
)
