package demowire

import (
	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Interest says what an observer sees around its tile: an entity whose tile
// lies at hex distance d from the observer's tile is sent at the first tier t
// with d <= Radius[t], and not at all if there is none. A negative radius
// disables a tier. Torpedoes are never sent below LODMedium.
type Interest struct {
	Radius [codec.NumLODs]int32
}

// TileInterest is the observer's tile and its 6 neighbours at full detail,
// nothing beyond: the view the design's bandwidth goals are stated for.
func TileInterest() Interest { return Interest{Radius: [codec.NumLODs]int32{1, -1, -1, -1}} }

// DefaultInterest adds lower tiers farther out: full detail within 1 tile,
// medium within 2, low within 3, sensor blips within 5.
func DefaultInterest() Interest { return Interest{Radius: [codec.NumLODs]int32{1, 2, 3, 5}} }

func (in *Interest) tier(d int32) (uint8, bool) {
	for t, r := range in.Radius {
		if d <= r {
			return uint8(t), true
		}
	}
	return 0, false
}

func (in *Interest) reach() int32 {
	m := int32(-1)
	for _, r := range in.Radius {
		m = max(m, r)
	}
	return m
}

// AppendView appends to dst what an observer on tile center sees of g now:
// ships, torpedoes and bodies in id order, quantized at their tier, and this
// frame's combat events whose cell is within reach. Fields a tier does not
// carry are left zero. It allocates only when dst lacks capacity; it does
// not reset dst. Safe for concurrent use on distinct dst views.
func (w *Wire) AppendView(dst *codec.View, g *fleet.Game, center sim.Hex, in Interest) {
	w.AppendEntities(dst, g, center, in)
	w.AppendEvents(dst, g.Events(), center, in)
}

// AppendEntities is AppendView without the events.
func (w *Wire) AppendEntities(dst *codec.View, g *fleet.Game, center sim.Hex, in Interest) {
	ships, torps, bodies := g.Ships(), g.Projectiles(), g.Bodies()
	i, j, k := 0, 0, 0
	const none = ^uint32(0)
	for {
		si, ti, bi := none, none, none
		if i < len(ships) {
			si = ships[i].ID
		}
		if j < len(torps) {
			ti = torps[j].ID
		}
		if k < len(bodies) {
			bi = bodies[k].ID
		}
		switch {
		case si == none && ti == none && bi == none:
			return
		case si <= ti && si <= bi:
			s := &ships[i]
			i++
			if !s.Alive() {
				continue
			}
			if t, ok := in.tier(sim.HexDistance(center, s.Tile)); ok {
				dst.Entities = append(dst.Entities, w.ship(s, t))
			}
		case ti <= bi:
			p := &torps[j]
			j++
			if t, ok := in.tier(sim.HexDistance(center, sim.HexOf(p.Pos, w.tileSize))); ok && t <= codec.LODMedium {
				dst.Entities = append(dst.Entities, w.torpedo(p, t))
			}
		default:
			b := &bodies[k]
			k++
			if t, ok := in.tier(sim.HexDistance(center, sim.HexOf(sim.Vec2{X: b.Pos.X, Y: b.Pos.Y}, w.tileSize))); ok {
				dst.Entities = append(dst.Entities, w.body(b, t))
			}
		}
	}
}

func (w *Wire) ship(s *fleet.Ship, t uint8) codec.Entity {
	e := codec.Entity{ID: s.ID, Kind: KindShip, LOD: t}
	v := &e.V
	switch t {
	case codec.LODFull, codec.LODMedium:
		v[ShipX] = w.Pos.Quantize(int64(s.Pos.X))
		v[ShipY] = w.Pos.Quantize(int64(s.Pos.Y))
		v[ShipHeading] = w.Heading.Quantize(uint16(s.Heading))
		v[ShipHull] = int32(s.Hull)
		v[ShipTeam] = int32(s.Team)
		v[ShipClass] = int32(s.Class)
		v[ShipStatus] = int32(s.Status & (1<<fleet.NumStatusBits - 1))
		if t == codec.LODFull {
			v[ShipVX] = w.ShipVel.Quantize(int64(s.Vel.X))
			v[ShipVY] = w.ShipVel.Quantize(int64(s.Vel.Y))
			v[ShipShield] = int32(s.Shield)
		}
	case codec.LODLow:
		v[ShipLX] = w.PosLow.Quantize(int64(s.Pos.X))
		v[ShipLY] = w.PosLow.Quantize(int64(s.Pos.Y))
		v[ShipTeam] = int32(s.Team)
		v[ShipClass] = int32(s.Class)
	default:
		v[ShipBX] = w.PosLow.Quantize(int64(s.Pos.X)) >> 4
		v[ShipBY] = w.PosLow.Quantize(int64(s.Pos.Y)) >> 4
		v[ShipTeam] = int32(s.Team)
	}
	return e
}

func (w *Wire) torpedo(p *fleet.Projectile, t uint8) codec.Entity {
	e := codec.Entity{ID: p.ID, Kind: KindTorpedo, LOD: t}
	e.V[TorpX] = w.Pos.Quantize(int64(p.Pos.X))
	e.V[TorpY] = w.Pos.Quantize(int64(p.Pos.Y))
	if t == codec.LODFull {
		e.V[TorpVX] = w.TorpVel.Quantize(int64(p.Vel.X))
		e.V[TorpVY] = w.TorpVel.Quantize(int64(p.Vel.Y))
		e.V[TorpTarget] = int32(min(p.Target, MaxEntityID))
	}
	return e
}

func (w *Wire) body(b *fleet.Body, t uint8) codec.Entity {
	e := codec.Entity{ID: b.ID, Kind: KindBody, LOD: t}
	v := &e.V
	if t <= codec.LODMedium {
		v[BodyX] = w.BodyPos.Quantize(int64(b.Pos.X))
		v[BodyY] = w.BodyPos.Quantize(int64(b.Pos.Y))
		v[BodyZ] = w.BodyZPos.Quantize(int64(b.Pos.Z))
		if t == codec.LODFull {
			v[BodyRot] = w.BodyRot.Quantize(int64(b.Rot.X), int64(b.Rot.Y), int64(b.Rot.Z), int64(b.Rot.W))
		}
		return e
	}
	v[BodyLX] = w.PosLow.Quantize(int64(b.Pos.X))
	v[BodyLY] = w.PosLow.Quantize(int64(b.Pos.Y))
	if t == codec.LODLow {
		v[BodyLZ] = w.PosLow.Quantize(int64(b.Pos.Z))
	}
	return e
}

// AppendEvents appends to dst the events of evs whose cell an observer on
// tile center can see under in, in the order of evs. A sender whose
// snapshots are rarer than frames uses it to carry the events of every frame
// since its last snapshot. It allocates only when dst lacks capacity.
func (w *Wire) AppendEvents(dst *codec.View, evs []fleet.CombatEvent, center sim.Hex, in Interest) {
	reach := in.reach()
	for i := range evs {
		ev := &evs[i]
		if sim.HexDistance(center, ev.Cell) > reach {
			continue
		}
		dst.Events = append(dst.Events, codec.Event{Kind: EventCombat, V: [codec.MaxFields]int32{
			EvSeq:    int32(ev.Seq & MaxEntityID),
			EvSource: int32(min(ev.Source, MaxEntityID)),
			EvTarget: int32(min(ev.Target, MaxEntityID)),
			EvCard:   int32(ev.Card),
			EvType:   int32(ev.Type),
			EvCellQ:  ev.Cell.Q,
			EvCellR:  ev.Cell.R,
			EvDamage: max(-MaxDamage-1, min(MaxDamage, ev.Damage)),
			EvHP:     ev.HP,
			EvStatus: int32(ev.Status & (1<<fleet.NumStatusBits - 1)),
		}})
	}
}
