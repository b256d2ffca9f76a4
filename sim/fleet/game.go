package fleet

import (
	"fmt"
	"slices"

	"github.com/flotilla/flotilla/sim"
)

// Game is the fleet-battle game. It implements sim.Game.
type Game struct {
	cfg           Config
	rng           sim.Rand
	nextID        uint32
	eventSeq      uint32
	eventsDropped uint64
	ships         []Ship
	projectiles   []Projectile
	bodies        []Body
	orders        []fireOrder
	events        []CombatEvent
	touched       []int32 // ship indices hit this frame (scratch)
	index         tileIndex
}

var _ sim.Game = (*Game)(nil)

// New returns an empty game. Zero fields of cfg take their defaults; New
// panics if the result fails Config.Validate (call Validate first to get an
// error instead). seed seeds the game's random generator.
func New(cfg Config, seed uint64) *Game {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.WithDefaults()
	return &Game{
		cfg:    cfg,
		rng:    sim.NewRand(seed),
		nextID: 1,
		index:  newTileIndex(newGridShape(cfg)),
	}
}

// Config returns the game's configuration with defaults applied.
func (g *Game) Config() Config { return g.cfg }

// Ships returns the ships sorted by ID.
func (g *Game) Ships() []Ship { return g.ships }

// Projectiles returns the projectiles in flight sorted by ID.
func (g *Game) Projectiles() []Projectile { return g.projectiles }

// Bodies returns the rigid bodies sorted by ID.
func (g *Game) Bodies() []Body { return g.bodies }

// Events returns the combat events of the last Step, in Seq order.
func (g *Game) Events() []CombatEvent { return g.events }

// EventsDropped returns how many events were dropped over the game's life
// because a frame exceeded Config.MaxEventsPerFrame.
func (g *Game) EventsDropped() uint64 { return g.eventsDropped }

// newID allocates the next entity id.
func (g *Game) newID() uint32 {
	id := g.nextID
	g.nextID++
	return id
}

// ShipIndex returns the index in Ships() of the ship with the given id, or -1.
func (g *Game) ShipIndex(id uint32) int {
	i, ok := slices.BinarySearchFunc(g.ships, id, func(s Ship, id uint32) int { return cmpU32(s.ID, id) })
	if !ok {
		return -1
	}
	return i
}

// BodyIndex returns the index in Bodies() of the body with the given id, or -1.
func (g *Game) BodyIndex(id uint32) int {
	i, ok := slices.BinarySearchFunc(g.bodies, id, func(b Body, id uint32) int { return cmpU32(b.ID, id) })
	if !ok {
		return -1
	}
	return i
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ShipSpec describes a ship to spawn.
type ShipSpec struct {
	Team    uint8 // 0..NumTeams-1
	Class   uint8 // 0..NumClasses-1
	Origin  uint16
	Owner   uint32
	Pos     sim.Vec2 // clamped into the world; also the ship's home
	Heading sim.Angle
}

// SpawnShip adds a ship at full hull and shield, at rest, and returns its id.
// It is for scenario setup and for Join; it returns an error when the world
// is full or the spec is out of range.
func (g *Game) SpawnShip(spec ShipSpec) (uint32, error) {
	if len(g.ships) >= g.cfg.MaxShips {
		return 0, fmt.Errorf("fleet: spawn ship: %d ships, limit reached", len(g.ships))
	}
	if spec.Team >= NumTeams || spec.Class >= NumClasses {
		return 0, fmt.Errorf("fleet: spawn ship: team %d class %d out of range", spec.Team, spec.Class)
	}
	c := Class(spec.Class)
	pos := g.clampPos(spec.Pos)
	g.ships = append(g.ships, Ship{
		ID:            g.newID(),
		Team:          spec.Team,
		Class:         spec.Class,
		Origin:        spec.Origin,
		Owner:         spec.Owner,
		Pos:           pos,
		Home:          pos,
		Tile:          sim.HexOf(pos, g.cfg.TileSize),
		Heading:       spec.Heading,
		TargetHeading: spec.Heading,
		Hull:          c.MaxHull,
		Shield:        c.MaxShield,
	})
	g.index.dirty = true
	return g.ships[len(g.ships)-1].ID, nil
}

// clampPos limits p to the world square.
func (g *Game) clampPos(p sim.Vec2) sim.Vec2 {
	r := g.cfg.WorldRadius
	return sim.Vec2{X: sim.Clamp(p.X, -r, r), Y: sim.Clamp(p.Y, -r, r)}
}

// Step advances the game by one frame: it resolves the shots fired by this
// frame's actions, moves torpedoes, ships and bodies, and respawns ships.
// Events() then holds this frame's events.
func (g *Game) Step(frame uint32) {
	g.events = g.events[:0]
	g.touched = g.touched[:0]
	g.resolveOrders()
	g.stepProjectiles()
	for i := range g.ships {
		g.stepShip(&g.ships[i])
	}
	for _, i := range g.touched {
		g.ships[i].Active = true
	}
	g.stepBodies()
	g.index.dirty = true
}
