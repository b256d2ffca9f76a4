package fleet

import (
	"errors"
	"fmt"

	"github.com/flotilla/flotilla/sim"
)

// Config holds the game's tunables. Zero fields take the defaults of
// DefaultConfig when passed to New.
type Config struct {
	// TileSize is the hex tile size (center to corner). Default 64 units.
	TileSize sim.Fixed
	// WorldRadius bounds positions: |x|, |y| <= WorldRadius (and 0 <= z <=
	// WorldRadius for bodies). Default 8192 units.
	WorldRadius sim.Fixed
	// TickHz is the number of frames per second the game is tuned for.
	// Default 30.
	TickHz int
	// MaxShips bounds the number of ships; Join fizzles with sim.ReasonFull
	// beyond it. Default 65536.
	MaxShips int
	// MaxShipsPerClient bounds the ships one client (Owner, Origin) may
	// own; a Join beyond it fizzles with sim.ReasonFull. Default 1.
	MaxShipsPerClient int
	// MaxProjectiles bounds live projectiles; a torpedo fired beyond it
	// fizzles with sim.ReasonFull. Default 65536.
	MaxProjectiles int
	// MaxEventsPerFrame bounds Events(); further events of a frame are
	// dropped and counted. Default 4096.
	MaxEventsPerFrame int
	// RespawnFrames is how long a destroyed ship waits before it respawns at
	// its home position. Default 90.
	RespawnFrames uint16
}

// Default configuration values.
const (
	DefaultTileSize          = 64 * sim.One
	DefaultWorldRadius       = 8192 * sim.One
	DefaultTickHz            = 30
	DefaultMaxShips          = 1 << 16
	DefaultMaxProjectiles    = 1 << 16
	DefaultMaxShipsPerClient = 1
	DefaultMaxEventsPerFrame = 4096
	DefaultRespawnFrames     = 90
)

// maxGridCells bounds the dense tile index a Config may ask for.
const maxGridCells = 1 << 22

// DefaultConfig returns the default configuration.
func DefaultConfig() Config {
	return Config{
		TileSize:          DefaultTileSize,
		WorldRadius:       DefaultWorldRadius,
		TickHz:            DefaultTickHz,
		MaxShips:          DefaultMaxShips,
		MaxProjectiles:    DefaultMaxProjectiles,
		MaxShipsPerClient: DefaultMaxShipsPerClient,
		MaxEventsPerFrame: DefaultMaxEventsPerFrame,
		RespawnFrames:     DefaultRespawnFrames,
	}
}

// WithDefaults returns c with its zero fields replaced by the values of
// DefaultConfig, as New applies them.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.TileSize == 0 {
		c.TileSize = d.TileSize
	}
	if c.WorldRadius == 0 {
		c.WorldRadius = d.WorldRadius
	}
	if c.TickHz == 0 {
		c.TickHz = d.TickHz
	}
	if c.MaxShips == 0 {
		c.MaxShips = d.MaxShips
	}
	if c.MaxProjectiles == 0 {
		c.MaxProjectiles = d.MaxProjectiles
	}
	if c.MaxShipsPerClient == 0 {
		c.MaxShipsPerClient = d.MaxShipsPerClient
	}
	if c.MaxEventsPerFrame == 0 {
		c.MaxEventsPerFrame = d.MaxEventsPerFrame
	}
	if c.RespawnFrames == 0 {
		c.RespawnFrames = d.RespawnFrames
	}
	return c
}

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("fleet: invalid config")

// Validate checks c after defaults are applied.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.TileSize < sim.One:
		return fmt.Errorf("%w: TileSize %d below one unit", ErrConfig, c.TileSize)
	case c.WorldRadius < c.TileSize || c.WorldRadius > 1<<20*sim.One:
		return fmt.Errorf("%w: WorldRadius %d outside [TileSize, 2^20 units]", ErrConfig, c.WorldRadius)
	case c.TickHz < 1 || c.TickHz > 1000:
		return fmt.Errorf("%w: TickHz %d outside 1..1000", ErrConfig, c.TickHz)
	case c.MaxShips < 1 || c.MaxProjectiles < 1 || c.MaxEventsPerFrame < 1 || c.MaxShipsPerClient < 1:
		return fmt.Errorf("%w: limits must be positive", ErrConfig)
	}
	if n := newGridShape(c).cells(); n > maxGridCells {
		return fmt.Errorf("%w: %d tiles in the world, limit %d", ErrConfig, n, maxGridCells)
	}
	return nil
}
