package payload

import (
	"fmt"
	"math"
	"slices"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Observer describes the one client whose view a scenario is measured for.
// The choices are those of protocol/demowire's tests (TestBytesPerClientTick),
// so the figures here and there describe the same stream.
type Observer struct {
	// Warm is the number of frames stepped before the observer is placed
	// and measuring starts.
	Warm int
	// Interest is what the observer sees around its tile.
	Interest demowire.Interest
	// InterestName names Interest in reports.
	InterestName string
}

// ObserverFor returns the observer used for scenario name: combat100 and
// crowd10k see their tile and its 6 neighbours at full detail (the view the
// design's bandwidth goals are stated for); cubes901 sees rings at the four
// tiers (its tile within 1, medium within 2, low within 3, blips within 5),
// which covers all 901 bodies.
func ObserverFor(name string) Observer {
	switch name {
	case "cubes901":
		return Observer{Warm: 300, Interest: demowire.DefaultInterest(), InterestName: "rings 1/2/3/5"}
	case "crowd10k":
		return Observer{Warm: 100, Interest: demowire.TileInterest(), InterestName: "tile + 6 neighbours"}
	default:
		return Observer{Warm: 300, Interest: demowire.TileInterest(), InterestName: "tile + 6 neighbours"}
	}
}

// tick is one tick of the observer's stream in the two forms the formats
// start from: the quantized view (what demowire sends) and the naive
// full-precision records of the same entities and events.
type tick struct {
	View  codec.View
	Naive naiveFrame
}

// source steps a scenario and builds the observer's frames.
type source struct {
	sc     *fleet.Scenario
	wire   *demowire.Wire
	center sim.Hex
	obs    Observer
}

// newSource builds scenario name from seed, steps it obs.Warm frames and
// places the observer: on the tile holding the most ships (ties: the
// smallest tile key), or, in a world without ships, on the tile of the
// first body.
func newSource(name string, seed uint64) (*source, error) {
	sc, err := fleet.NewScenario(name, seed)
	if err != nil {
		return nil, err
	}
	w, err := demowire.New(sc.Game.Config())
	if err != nil {
		return nil, err
	}
	obs := ObserverFor(name)
	for range obs.Warm {
		if err := sc.Step(); err != nil {
			return nil, fmt.Errorf("payload: %s warm-up: %w", name, err)
		}
	}
	center := busiestTile(sc.Game)
	if len(sc.Game.Ships()) == 0 && len(sc.Game.Bodies()) > 0 {
		b := sc.Game.Bodies()[0].Pos
		center = sim.HexOf(sim.Vec2{X: b.X, Y: b.Y}, sc.Game.Config().TileSize)
	}
	return &source{sc: sc, wire: w, center: center, obs: obs}, nil
}

// busiestTile returns the tile holding the most ships, ties broken by the
// smallest Hex.Key (the rule of demowire's tests).
func busiestTile(g *fleet.Game) sim.Hex {
	ships := g.Ships()
	if len(ships) == 0 {
		return sim.Hex{}
	}
	keys := make([]uint64, len(ships))
	byKey := make(map[uint64]sim.Hex, 64)
	for i := range ships {
		keys[i] = ships[i].Tile.Key()
		byKey[keys[i]] = ships[i].Tile
	}
	slices.Sort(keys)
	best, bestN := keys[0], 0
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j] == keys[i] {
			j++
		}
		if j-i > bestN { // strictly more: ties keep the smaller key met first
			best, bestN = keys[i], j-i
		}
		i = j
	}
	return byKey[best]
}

// next steps the world one frame and fills f with the observer's view and
// the naive records of the same entities and events. It reuses f's capacity.
func (s *source) next(f *tick) error {
	if err := s.sc.Step(); err != nil {
		return fmt.Errorf("payload: %s step: %w", s.sc.Name, err)
	}
	f.View.Reset()
	s.wire.AppendView(&f.View, s.sc.Game, s.center, s.obs.Interest)
	return s.fillNaive(&f.Naive, &f.View)
}

// fillNaive builds the naive records of v's entities from the game's
// full-precision state (every field of the kind, whatever the tier) and of
// v's events.
func (s *source) fillNaive(n *naiveFrame, v *codec.View) error {
	g := s.sc.Game
	n.Entities = n.Entities[:0]
	n.Events = n.Events[:0]
	for i := range v.Entities {
		e := &v.Entities[i]
		r := naiveRecord{ID: e.ID, Kind: e.Kind}
		w := &r.W
		switch e.Kind {
		case demowire.KindShip:
			j := g.ShipIndex(e.ID)
			if j < 0 {
				return fmt.Errorf("payload: ship %d of the view is not in the game", e.ID)
			}
			sh := &g.Ships()[j]
			*w = [naiveMaxWords]uint32{
				f32(sh.Pos.X), f32(sh.Pos.Y), f32(sh.Vel.X), f32(sh.Vel.Y),
				math.Float32bits(float32(float64(sh.Heading) * (2 * math.Pi / 65536))),
				uint32(sh.Hull), uint32(sh.Shield), uint32(sh.Team), uint32(sh.Class), sh.Status,
			}
		case demowire.KindTorpedo:
			ps := g.Projectiles()
			j, ok := slices.BinarySearchFunc(ps, e.ID, func(p fleet.Projectile, id uint32) int { return cmpU32(p.ID, id) })
			if !ok {
				return fmt.Errorf("payload: torpedo %d of the view is not in the game", e.ID)
			}
			p := &ps[j]
			*w = [naiveMaxWords]uint32{f32(p.Pos.X), f32(p.Pos.Y), f32(p.Vel.X), f32(p.Vel.Y), p.Target}
		case demowire.KindBody:
			j := g.BodyIndex(e.ID)
			if j < 0 {
				return fmt.Errorf("payload: body %d of the view is not in the game", e.ID)
			}
			b := &g.Bodies()[j]
			*w = [naiveMaxWords]uint32{
				f32(b.Pos.X), f32(b.Pos.Y), f32(b.Pos.Z),
				f32(b.Rot.X), f32(b.Rot.Y), f32(b.Rot.Z), f32(b.Rot.W),
			}
		default:
			return fmt.Errorf("payload: entity %d has unknown kind %d", e.ID, e.Kind)
		}
		n.Entities = append(n.Entities, r)
	}
	for i := range v.Events {
		ev := &v.Events[i]
		r := naiveRecord{Kind: ev.Kind}
		for f := range naiveWords(naiveEventKind) {
			r.W[f] = uint32(ev.V[f])
		}
		n.Events = append(n.Events, r)
	}
	return nil
}

// f32 returns the float32 bits of a fixed-point value in world units.
func f32(x sim.Fixed) uint32 {
	return math.Float32bits(float32(float64(x) / float64(sim.One)))
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
