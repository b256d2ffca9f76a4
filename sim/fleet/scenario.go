package fleet

import (
	"fmt"
	"strings"

	"github.com/flotilla/flotilla/sim"
)

// Scenario is a seeded, scripted game shared by tests, simcheck and the perf
// harness: a Game, the World stepping it, and scripted pilots that generate
// each frame's actions from the scenario's own random generator (separate
// from the game's). A Scenario is not safe for concurrent use.
type Scenario struct {
	Name  string
	Hz    int // frames per second the scenario is meant to run at
	Game  *Game
	World *sim.World

	rng        sim.Rand
	pilots     []pilot  // combat scenarios: the active slots
	controlled []bool   // by ship index: held by a pilot
	seq        []uint32 // by ship index: the owner's next action Seq
	arena      sim.Fixed
	pusher     pusher // cubes901
	actions    []sim.Action
	results    []sim.Result
}

// scenarioSpec describes one named scenario.
type scenarioSpec struct {
	name  string
	hz    int
	setup func(s *Scenario) error
}

// scenarios lists the scenarios in ScenarioNames order.
var scenarios = []scenarioSpec{
	{"combat100", 30, setupCombat100},
	{"cubes901", 60, setupCubes901},
	{"crowd10k", 30, setupCrowd10k},
}

// ScenarioNames returns the names NewScenario accepts.
func ScenarioNames() []string {
	names := make([]string, len(scenarios))
	for i, sc := range scenarios {
		names[i] = sc.name
	}
	return names
}

// NewScenario builds the named scenario from seed. An unknown name returns an
// error listing the valid names.
func NewScenario(name string, seed uint64) (*Scenario, error) {
	for _, sc := range scenarios {
		if sc.name != name {
			continue
		}
		root := sim.NewRand(seed)
		cfg := DefaultConfig()
		cfg.TickHz = sc.hz
		g := New(cfg, root.Uint64())
		s := &Scenario{Name: name, Hz: sc.hz, Game: g, World: sim.NewWorld(g), rng: sim.NewRand(root.Uint64())}
		if err := sc.setup(s); err != nil {
			return nil, fmt.Errorf("fleet: scenario %s: %w", name, err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("fleet: unknown scenario %q (valid: %s)", name, strings.Join(ScenarioNames(), ", "))
}

// Actions appends the scripted pilots' actions for the given frame. It
// advances the pilots and the scenario's random generator, so call it once
// per frame, in frame order, with the world at frame-1 (Step does this).
func (s *Scenario) Actions(frame uint32, dst []sim.Action) []sim.Action {
	if s.pusher.id != 0 {
		return s.pushActions(frame, dst)
	}
	return s.pilotActions(frame, dst)
}

// Step generates the actions for the next frame and steps the world.
// It does not allocate in steady state.
func (s *Scenario) Step() error {
	frame := s.World.Frame() + 1
	s.actions = s.Actions(frame, s.actions[:0])
	var err error
	s.results, err = s.World.Step(frame, s.actions, s.results[:0])
	return err
}

// Results returns the results of the last Step, valid until the next Step.
func (s *Scenario) Results() []sim.Result { return s.results }

// action returns an action of the given kind from ship index i's owner.
func (s *Scenario) action(frame uint32, i int, kind uint16, a0, a1 int32) sim.Action {
	sh := &s.Game.ships[i]
	s.seq[i]++
	return sim.Action{
		Frame: frame, Origin: sh.Origin, Client: sh.Owner, Seq: s.seq[i],
		Kind: kind, Args: [4]int32{a0, a1, 0, int32(sh.ID)},
	}
}

// spawnFleet spawns ships owned by clients 1..n (origin 0), alternating
// teams, with random classes and headings, at positions from place.
func (s *Scenario) spawnFleet(n int, place func(i int) sim.Vec2) error {
	for i := 0; i < n; i++ {
		_, err := s.Game.SpawnShip(ShipSpec{
			Team:    uint8(i % 2),
			Class:   uint8(s.rng.Intn(NumClasses)),
			Owner:   uint32(i + 1),
			Pos:     place(i),
			Heading: sim.Angle(s.rng.Uint64()),
		})
		if err != nil {
			return err
		}
	}
	s.controlled = make([]bool, n)
	s.seq = make([]uint32, n)
	return nil
}

// randomIn returns a uniformly random point in the square of half-width r
// around c.
func (s *Scenario) randomIn(c sim.Vec2, r sim.Fixed) sim.Vec2 {
	return sim.Vec2{
		X: c.X + sim.Fixed(s.rng.Range(int64(-r), int64(r))),
		Y: c.Y + sim.Fixed(s.rng.Range(int64(-r), int64(r))),
	}
}

// combatPilots is the number of combat100 pilots. With the ships they hit,
// destroy or leave cooling down, about 100 ships are Active in a frame.
const combatPilots = 80

// setupCombat100 places 1,000 ships on the 19 tiles within distance 2 of the
// origin, with combatPilots pilots active at a time.
func setupCombat100(s *Scenario) error {
	size := s.Game.cfg.TileSize
	tiles := sim.AppendRange(nil, sim.Hex{}, 2)
	s.arena = 5 * size
	if err := s.spawnFleet(1000, func(int) sim.Vec2 {
		return s.randomIn(tiles[s.rng.Intn(len(tiles))].Center(size), size/2)
	}); err != nil {
		return err
	}
	s.pilots = newPilots(combatPilots)
	return nil
}

// CrowdHotShare is the number of crowd10k ships, out of 10,000, placed in the
// hot region: the 7 tiles within distance 1 of the origin.
const CrowdHotShare = 3500

// setupCrowd10k places 10,000 ships: CrowdHotShare of them in the 7 hot tiles
// around the origin, the rest spread uniformly over the map; 1,000 pilots.
func setupCrowd10k(s *Scenario) error {
	size := s.Game.cfg.TileSize
	hot := sim.AppendRange(nil, sim.Hex{}, 1)
	wide := s.Game.cfg.WorldRadius - size
	s.arena = 3 * size
	if err := s.spawnFleet(10000, func(i int) sim.Vec2 {
		if i < CrowdHotShare {
			return s.randomIn(hot[s.rng.Intn(len(hot))].Center(size), size/2)
		}
		return s.randomIn(sim.Vec2{}, wide)
	}); err != nil {
		return err
	}
	s.pilots = newPilots(1000)
	return nil
}
