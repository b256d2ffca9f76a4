package demowire

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// GameConfig configures the demo game as a room runs it.
type GameConfig struct {
	// Fleet is the game's configuration (zero fields: fleet's defaults);
	// Seed seeds its world.
	Fleet fleet.Config
	Seed  uint64
	// Interest says what each client sees around its ship's tile (zero:
	// DefaultInterest).
	Interest Interest
}

// Game is the demo fleet game as the server's game-logic API
// (server.Game): the world, its wire schema, the view of a client on a
// tile, and the join and leave the room makes for its clients. A client's
// avatar is its ship; its focus is its ship's tile. It is owned by one
// goroutine (the room's), like the world inside it.
type Game struct {
	wire   *Wire
	game   *fleet.Game
	world  *sim.World
	in     Interest
	events eventLog
	evs    []fleet.CombatEvent // scratch
	params []byte
}

// NewGame builds the demo game.
func NewGame(cfg GameConfig) (*Game, error) {
	if err := cfg.Fleet.Validate(); err != nil {
		return nil, fmt.Errorf("demowire: %w", err)
	}
	fc := cfg.Fleet.WithDefaults()
	w, err := New(fc)
	if err != nil {
		return nil, err
	}
	in := cfg.Interest
	if in == (Interest{}) {
		in = DefaultInterest()
	}
	g := fleet.New(fc, cfg.Seed)
	return &Game{wire: w, game: g, world: sim.NewWorld(g), in: in, params: AppendParams(nil, fc)}, nil
}

// Fleet is the game inside (for scenarios and tests); World steps it.
func (g *Game) Fleet() *fleet.Game { return g.game }

// World is the world that steps the game.
func (g *Game) World() *sim.World { return g.world }

// Wire is the game's wire schema and quantizers.
func (g *Game) Wire() *Wire { return g.wire }

// Schema implements server.Game.
func (g *Game) Schema() *codec.Schema { return g.wire.Schema }

// Params implements server.Game: the tile size and world radius (see
// AppendParams).
func (g *Game) Params() []byte { return g.params }

// Step implements server.Game: it steps the world and keeps the frame's
// combat events for the views of the next frames.
func (g *Game) Step(frame uint32, actions []sim.Action, dst []sim.Result) ([]sim.Result, error) {
	dst, err := g.world.Step(frame, actions, dst)
	if err == nil {
		g.events.record(frame, g.game.Events())
	}
	return dst, err
}

// Hash implements server.Game.
func (g *Game) Hash() uint64 { return g.world.Hash() }

// Join implements server.Game: a ship of the smallest team; its class
// follows the client id, so a crowd mixes classes.
func (g *Game) Join(client uint32) sim.Action {
	return sim.Action{Kind: fleet.KindJoin, Args: [4]int32{-1, int32(client % fleet.NumClasses)}}
}

// Leave implements server.Game: every ship of the client.
func (g *Game) Leave(uint32) sim.Action { return sim.Action{Kind: fleet.KindLeave} }

// ClientMay implements server.Game: every kind but join and leave.
func (g *Game) ClientMay(kind uint16) bool {
	return kind != fleet.KindJoin && kind != fleet.KindLeave && kind >= 1 && kind <= fleet.NumKinds
}

// Avatar implements server.Game: the newest ship the client owns.
func (g *Game) Avatar(origin uint16, client uint32) uint32 {
	ships := g.game.Ships()
	for i := len(ships) - 1; i >= 0; i-- {
		if ships[i].Owner == client && ships[i].Origin == origin {
			return ships[i].ID
		}
	}
	return 0
}

// Focus implements server.Game: the tile of the avatar's ship, or the
// centre tile without one.
func (g *Game) Focus(avatar uint32) uint64 {
	var h sim.Hex
	if avatar != 0 {
		if i := g.game.ShipIndex(avatar); i >= 0 {
			h = g.game.Ships()[i].Tile
		}
	}
	return FocusOf(h)
}

// FocusOf packs a tile into a focus key.
func FocusOf(h sim.Hex) uint64 { return uint64(uint32(h.Q))<<32 | uint64(uint32(h.R)) }

// TileOf unpacks a focus key.
func TileOf(focus uint64) sim.Hex {
	return sim.Hex{Q: int32(uint32(focus >> 32)), R: int32(uint32(focus))}
}

// AppendView implements server.Game: what an observer on the focus tile
// sees now, with the combat events of the frames after since it can see.
func (g *Game) AppendView(dst *codec.View, focus uint64, since uint32) {
	tile := TileOf(focus)
	g.wire.AppendEntities(dst, g.game, tile, g.in)
	g.evs = g.events.since(g.evs[:0], since, g.world.Frame())
	g.wire.AppendEvents(dst, g.evs, tile, g.in)
}

// ErrParams is wrapped by ParseParams' errors.
var ErrParams = errors.New("demowire: bad game params")

// AppendParams appends what a client needs to build the same wire schema
// as the server: [tile size] (uvarint, raw sim.Fixed) [world radius]
// (uvarint, raw sim.Fixed).
func AppendParams(b []byte, cfg fleet.Config) []byte {
	b = binary.AppendUvarint(b, uint64(cfg.TileSize))
	return binary.AppendUvarint(b, uint64(cfg.WorldRadius))
}

// ParseParams reads what AppendParams wrote into a fleet configuration
// (its other fields zero).
func ParseParams(b []byte) (fleet.Config, error) {
	ts, n := binary.Uvarint(b)
	if n <= 0 || ts == 0 || ts > 1<<40 {
		return fleet.Config{}, fmt.Errorf("%w: tile size", ErrParams)
	}
	wr, m := binary.Uvarint(b[n:])
	if m <= 0 || wr == 0 || wr > 1<<40 || n+m != len(b) {
		return fleet.Config{}, fmt.Errorf("%w: world radius", ErrParams)
	}
	cfg := fleet.Config{TileSize: sim.Fixed(ts), WorldRadius: sim.Fixed(wr)}
	if err := cfg.Validate(); err != nil {
		return fleet.Config{}, fmt.Errorf("%w: %w", ErrParams, err)
	}
	return cfg, nil
}

// eventLog keeps the combat events of the last eventFrames frames, so a
// snapshot can carry every event since the client's previous snapshot even
// when snapshots are rarer than frames. Bounds: a ring of eventFrames
// frames; each keeps at most the game's MaxEventsPerFrame (the game drops
// beyond that).
type eventLog struct {
	frames [eventFrames]frameEvents
}

// eventFrames is how far back a view's events reach: a client whose
// previous snapshot is older than this gets only the last eventFrames
// frames' events (a client at 1 Hz on a 30 Hz room loses none).
const eventFrames = 32

type frameEvents struct {
	frame  uint32
	events []fleet.CombatEvent
}

// record keeps frame's events (copied).
func (l *eventLog) record(frame uint32, evs []fleet.CombatEvent) {
	s := &l.frames[frame%eventFrames]
	s.frame = frame
	s.events = append(s.events[:0], evs...)
}

// since appends to dst the events of frames after from, up to and including
// to, oldest frame first, and returns dst.
func (l *eventLog) since(dst []fleet.CombatEvent, from, to uint32) []fleet.CombatEvent {
	if to-from > eventFrames {
		from = to - eventFrames
	}
	for f := from + 1; f != to+1; f++ {
		if s := &l.frames[f%eventFrames]; s.frame == f {
			dst = append(dst, s.events...)
		}
	}
	return dst
}
