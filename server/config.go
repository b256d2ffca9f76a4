package server

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/flotilla/flotilla/protocol"
)

// ErrConfig is wrapped by every error Config.Validate returns.
var ErrConfig = errors.New("server: invalid config")

// Defaults.
const (
	DefaultTickHz         = 30
	DefaultSnapshotHz     = 20
	DefaultBytesPerSec    = 20000
	DefaultMaxBytesPerSec = 200000
	DefaultInputDelay     = 2
	// DefaultMaxClients is what the tick sustains on the 2-core
	// development machine within a 30 Hz frame (README, "Clients per
	// room"); raise it on bigger machines.
	DefaultMaxClients         = 400
	DefaultMaxUnproven        = 512
	DefaultMaxUnprovenPerAddr = 32
	DefaultMaxClientsPerAddr  = 64
	DefaultProofTimeout       = 3 * time.Second
	DefaultAckTimeout         = 10 * time.Second
	DefaultProofHz            = 4
	DefaultMaxPendingActions  = 32
	DefaultMaxActionsPerFrame = 16384
	DefaultMaxFreeViewBytes   = 4 << 20
	// DefaultMaxLagFrames: a room that falls this many frames behind its
	// clock skips ahead instead of running them all at once.
	DefaultMaxLagFrames = 15
)

// MaxWorkers bounds Config.Workers.
const MaxWorkers = 256

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
	// Mesh makes the room one member of a mesh of servers stepping one
	// world (nil: a server alone). See MeshConfig.
	Mesh *MeshConfig
	// MaxClients bounds the proven clients: those that acknowledged a
	// snapshot and got their place in the world (default 400). A client
	// that proves itself beyond it is sent away with ReasonFull.
	MaxClients int
	// MaxClientsPerAddr bounds the proven clients of one IP address (an
	// IPv6 address's /64) (default 64): beyond it, a client that proves
	// itself is sent away with ReasonThrottled, so one address cannot fill
	// the room.
	MaxClientsPerAddr int
	// MaxUnproven bounds the sessions that have not yet acknowledged a
	// snapshot (default 512): when it is reached, the oldest of them is
	// sent away (ReasonThrottled) to make room for a new one, since a real
	// client proves itself within a round trip. MaxUnprovenPerAddr bounds
	// them per IP address (default 32; an IPv6 address counts under its
	// /64): beyond it a new session is refused (ReasonThrottled) before the
	// transport spends anything on it. An unproven session holds no avatar
	// and no view of its own: it is sent a small shared proof snapshot on
	// arrival and ProofHz times a second (default 4) until it acknowledges
	// one, and is sent away with ReasonTimeout after ProofTimeout (default
	// 3 s) whatever else it sends.
	MaxUnproven, MaxUnprovenPerAddr int
	ProofHz                         int
	ProofTimeout                    time.Duration
	// AckTimeout ends a proven client that has acknowledged none of the
	// snapshots sent to it for this long (default 10 s).
	AckTimeout time.Duration
	// MaxPendingActions bounds one client's actions awaiting their frame;
	// more are fizzled at once with protocol.ReasonBusy (default 32).
	MaxPendingActions int
	// MaxActionsPerFrame bounds the actions the room's own clients may
	// stamp for one frame (default 16384); more are fizzled with
	// protocol.ReasonBusy as they arrive. The quota is decided where an
	// action enters, so a mesh peer's batch for a frame is accepted whole.
	MaxActionsPerFrame int
	// MaxFreeViewBytes is the floor of the bound on the memory the room
	// keeps in idle views for reuse (default 4 MiB); above it the room
	// keeps twice what a recent tick needed, and gives the rest back
	// within seconds when a crowd leaves.
	MaxFreeViewBytes int
	// MaxViewEntities, when not zero, coarsens crowded views: when what a
	// client sees holds more entities than this, the coarsest level of
	// detail leaves its view from the next snapshot, then the next level,
	// until it fits or only full detail is left (the crowd's nearest); a
	// level comes back once the view with it would hold at most three
	// quarters of the bound, so that a crowd near the bound does not
	// flicker. A crowd's snapshots then carry the fight around each client
	// rather than blips of everyone, and the per-client work, linear in
	// the view, shrinks with it. Counted in Stats.CrowdCoarsened. Default
	// 0: views are what the game gives.
	MaxViewEntities int
	// Workers is how many goroutines build the clients' snapshots each
	// tick, the room's own included (default GOMAXPROCS). The world steps
	// on the room's goroutine alone, and the bytes sent do not depend on
	// the number of workers. The others start at the first tick with
	// enough clients for them (16 snapshots) and end when the room is
	// closed (Close, or Run's return): a room driven by Poll and Tick must
	// be closed. Default GOMAXPROCS, at most 256.
	Workers int
	// MaxLagFrames: when the room is this many frames behind its clock it
	// steps the late frames at once, with their actions but without their
	// snapshots, and counts them (default 15).
	MaxLagFrames int
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
	def(&c.MaxUnproven, DefaultMaxUnproven)
	// The per-address bounds follow the overall ones down.
	def(&c.MaxUnprovenPerAddr, min(DefaultMaxUnprovenPerAddr, c.MaxUnproven))
	def(&c.MaxClientsPerAddr, min(DefaultMaxClientsPerAddr, c.MaxClients))
	def(&c.ProofHz, DefaultProofHz)
	def(&c.MaxFreeViewBytes, DefaultMaxFreeViewBytes)
	if c.ProofTimeout == 0 {
		c.ProofTimeout = DefaultProofTimeout
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	def(&c.MaxPendingActions, DefaultMaxPendingActions)
	def(&c.MaxActionsPerFrame, DefaultMaxActionsPerFrame)
	def(&c.MaxLagFrames, DefaultMaxLagFrames)
	def(&c.Workers, min(runtime.GOMAXPROCS(0), MaxWorkers))
	if c.Mesh != nil {
		m := *c.Mesh // the caller's stays as it was
		m.Members = slices.Clone(m.Members)
		def(&m.MaxChunk, DefaultMaxChunk)
		def(&m.RedirectMargin, DefaultRedirectMargin)
		c.Mesh = &m
	}
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
	case c.MaxUnproven < 1 || c.MaxUnproven > 1<<20:
		return bad("max unproven sessions %d outside 1..%d", c.MaxUnproven, 1<<20)
	case c.MaxUnprovenPerAddr < 1 || c.MaxUnprovenPerAddr > c.MaxUnproven:
		return bad("max unproven sessions per address %d outside 1..max unproven %d", c.MaxUnprovenPerAddr, c.MaxUnproven)
	case c.MaxClientsPerAddr < 1 || c.MaxClientsPerAddr > c.MaxClients:
		return bad("max clients per address %d outside 1..max clients %d", c.MaxClientsPerAddr, c.MaxClients)
	case c.ProofHz < 1 || c.ProofHz > c.TickHz:
		return bad("proof snapshot rate %d Hz outside 1..tick rate %d", c.ProofHz, c.TickHz)
	case c.ProofTimeout < 100*time.Millisecond:
		return bad("proof timeout %v under 100ms", c.ProofTimeout)
	case c.AckTimeout < time.Second:
		return bad("ack timeout %v under 1s", c.AckTimeout)
	case c.MaxFreeViewBytes < 0:
		return bad("max free view bytes %d negative", c.MaxFreeViewBytes)
	case c.MaxPendingActions < 1 || c.MaxPendingActions > 1<<16:
		return bad("max pending actions %d outside 1..65536", c.MaxPendingActions)
	case c.MaxActionsPerFrame < 1 || c.MaxActionsPerFrame > 1<<22:
		return bad("max actions per frame %d outside 1..%d", c.MaxActionsPerFrame, 1<<22)
	case c.MaxViewEntities < 0:
		return bad("max view entities %d negative", c.MaxViewEntities)
	case c.Workers < 1 || c.Workers > MaxWorkers:
		return bad("workers %d outside 1..%d", c.Workers, MaxWorkers)
	case c.MaxLagFrames < 1:
		return bad("max lag %d frames under 1", c.MaxLagFrames)
	}
	if c.Mesh != nil {
		if err := c.Mesh.validate(); err != nil {
			return bad("%v", err)
		}
		// A frame's own batch (its clients' actions, and a join and a
		// leave per client at most) fits the 255 chunks of a batch.
		most := c.MaxActionsPerFrame + 2*c.MaxClients
		if per := min((c.Mesh.MaxChunk-protocol.BatchHeadSize)/protocol.MaxBatchActionSize, protocol.MaxBatchActions); most > protocol.MaxBatchChunks*per {
			return bad("a frame's batch of up to %d actions (max actions per frame and two per client) exceeds %d chunks of %d bytes", most, protocol.MaxBatchChunks, c.Mesh.MaxChunk)
		}
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
