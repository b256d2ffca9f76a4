package fleet

import "github.com/flotilla/flotilla/sim"

// Action kinds. Every kind except KindJoin names its entity in Args[3]
// (a ship id, or a body id for KindPush).
const (
	// KindJoin spawns a ship for the client near its team's spawn point.
	// Args[0] team 0..NumTeams-1, or -1 for the team with the fewest ships;
	// Args[1] class 0..NumClasses-1. Fizzles with sim.ReasonFull when
	// Config.MaxShips is reached or the client already owns
	// Config.MaxShipsPerClient ships. The client finds its new ship by
	// Owner.
	KindJoin uint16 = 1
	// KindThrust sets the throttle: Args[0] in -127..127.
	KindThrust uint16 = 2
	// KindTurn sets the heading the ship turns toward: Args[0] in 0..65535.
	KindTurn uint16 = 3
	// KindFire fires a card: Args[0] card id, Args[1] target ship id.
	KindFire uint16 = 4
	// KindPush applies a force to a body the client owns: Args[0..2] are the
	// raw sim.Fixed X, Y, Z of the velocity change, each within ±MaxPush.
	KindPush uint16 = 5
	// KindLeave removes the ship named in Args[3], or every ship of the
	// client when Args[3] is 0.
	KindLeave uint16 = 6
	// NumKinds is the highest action kind.
	NumKinds = 6
)

// Fleet-specific fizzle reasons (sim's common reasons are used too).
const (
	ReasonCooldown    = sim.ReasonGameBase + iota // the card's slot is cooling down
	ReasonNoTarget                                // the target does not exist or is destroyed
	ReasonOutOfRange                              // the target is beyond the card's range
	ReasonUnknownCard                             // Args[0] is not a card id
	ReasonStunned                                 // the ship is stunned and cannot fire
	ReasonDestroyed                               // the ship is destroyed, waiting to respawn
	ReasonWrongTeam                               // enemy card at an ally, or repair at an enemy
)

// MaxPush bounds each component of a KindPush velocity change.
const MaxPush = sim.One / 8

// fireOrder is a validated Fire action waiting for Step to resolve it.
type fireOrder struct {
	Ship, Target uint32
	Card         uint16
}

// Apply applies one action at the start of the current frame.
func (g *Game) Apply(a *sim.Action) (sim.Status, uint8) {
	var r uint8
	switch a.Kind {
	case KindJoin:
		r = g.applyJoin(a)
	case KindThrust, KindTurn, KindFire:
		r = g.applyShip(a)
	case KindPush:
		r = g.applyPush(a)
	case KindLeave:
		r = g.applyLeave(a)
	default:
		r = sim.ReasonUnknownKind
	}
	if r != sim.ReasonNone {
		return sim.StatusFizzled, r
	}
	return sim.StatusApplied, sim.ReasonNone
}

// ownedShip returns the ship named by Args[3] if the action's client owns it.
// Client 0 owns nothing: Owner 0 marks AI ships.
func (g *Game) ownedShip(a *sim.Action) (*Ship, uint8) {
	i := g.ShipIndex(uint32(a.Args[3]))
	if i < 0 {
		return nil, sim.ReasonNoEntity
	}
	s := &g.ships[i]
	if a.Client == 0 || s.Owner != a.Client || s.Origin != a.Origin {
		return nil, sim.ReasonNotOwner
	}
	return s, sim.ReasonNone
}

func (g *Game) applyJoin(a *sim.Action) uint8 {
	team, class := a.Args[0], a.Args[1]
	if team < -1 || team >= NumTeams || class < 0 || class >= NumClasses {
		return sim.ReasonBadArgs
	}
	if len(g.ships) >= g.cfg.MaxShips || g.owned(a.Origin, a.Client) >= g.cfg.MaxShipsPerClient {
		return sim.ReasonFull
	}
	if team < 0 {
		team = int32(g.smallestTeam())
	}
	// Spawn points sit on a ring of 256 units, one per team, with a random
	// offset of up to half a tile.
	home := sim.Dir(sim.Angle(team) * (sim.HalfTurn / 2)).Scale(256 * sim.One)
	off := g.cfg.TileSize / 2
	home.X += sim.Fixed(g.rng.Range(int64(-off), int64(off)))
	home.Y += sim.Fixed(g.rng.Range(int64(-off), int64(off)))
	heading := sim.Atan2(-home.Y, -home.X)
	if _, err := g.SpawnShip(ShipSpec{Team: uint8(team), Class: uint8(class), Origin: a.Origin, Owner: a.Client, Pos: home, Heading: heading}); err != nil {
		return sim.ReasonFull
	}
	return sim.ReasonNone
}

// owned counts the ships of one client (client 0, the AI, owns none).
func (g *Game) owned(origin uint16, client uint32) int {
	if client == 0 {
		return 0
	}
	n := 0
	for i := range g.ships {
		if g.ships[i].Owner == client && g.ships[i].Origin == origin {
			n++
		}
	}
	return n
}

// smallestTeam returns the team with the fewest ships, lowest team on ties.
func (g *Game) smallestTeam() uint8 {
	var n [NumTeams]int
	for i := range g.ships {
		n[g.ships[i].Team]++
	}
	best := 0
	for t := 1; t < NumTeams; t++ {
		if n[t] < n[best] {
			best = t
		}
	}
	return uint8(best)
}

func (g *Game) applyShip(a *sim.Action) uint8 {
	s, r := g.ownedShip(a)
	if r != sim.ReasonNone {
		return r
	}
	if !s.Alive() {
		return ReasonDestroyed
	}
	switch a.Kind {
	case KindThrust:
		if a.Args[0] < -127 || a.Args[0] > 127 {
			return sim.ReasonBadArgs
		}
		s.Throttle = int8(a.Args[0])
	case KindTurn:
		if a.Args[0] < 0 || a.Args[0] > 65535 {
			return sim.ReasonBadArgs
		}
		s.TargetHeading = sim.Angle(a.Args[0])
	default:
		return g.applyFire(s, uint16(a.Args[0]), uint32(a.Args[1]), a.Args[0])
	}
	return sim.ReasonNone
}

// applyFire validates a Fire action and queues it for Step.
func (g *Game) applyFire(s *Ship, cardID uint16, target uint32, rawCard int32) uint8 {
	card, ok := CardByID(cardID)
	if !ok || rawCard != int32(cardID) {
		return ReasonUnknownCard
	}
	if s.Status&StatusStunned != 0 {
		return ReasonStunned
	}
	if s.Cooldown[card.Slot] != 0 {
		return ReasonCooldown
	}
	ti := g.ShipIndex(target)
	if ti < 0 || !g.ships[ti].Alive() {
		return ReasonNoTarget
	}
	t := &g.ships[ti]
	if (t.Team == s.Team) != card.Ally {
		return ReasonWrongTeam
	}
	if !inRange(s.Pos, t.Pos, card.Range) {
		return ReasonOutOfRange
	}
	if cardID == CardTorpedo && len(g.projectiles) >= g.cfg.MaxProjectiles {
		return sim.ReasonFull
	}
	s.Cooldown[card.Slot] = card.Cooldown
	g.orders = append(g.orders, fireOrder{Ship: s.ID, Target: target, Card: cardID})
	return sim.ReasonNone
}

// inRange reports whether |a-b| <= r.
func inRange(a, b sim.Vec2, r sim.Fixed) bool {
	d := b.Sub(a)
	if sim.Abs(d.X) > r || sim.Abs(d.Y) > r {
		return false
	}
	return d.LenSq() <= sim.Mul(r, r)
}

func (g *Game) applyPush(a *sim.Action) uint8 {
	i := g.BodyIndex(uint32(a.Args[3]))
	if i < 0 {
		return sim.ReasonNoEntity
	}
	b := &g.bodies[i]
	if b.Owner == 0 || b.Owner != a.Client || b.Origin != a.Origin {
		return sim.ReasonNotOwner
	}
	for _, v := range a.Args[:3] {
		if sim.Fixed(v) < -MaxPush || sim.Fixed(v) > MaxPush {
			return sim.ReasonBadArgs
		}
	}
	b.Vel = clampVel3(b.Vel.Add(sim.Vec3{X: sim.Fixed(a.Args[0]), Y: sim.Fixed(a.Args[1]), Z: sim.Fixed(a.Args[2])}))
	b.wake()
	return sim.ReasonNone
}

func (g *Game) applyLeave(a *sim.Action) uint8 {
	if a.Client == 0 {
		return sim.ReasonNotOwner
	}
	if a.Args[3] != 0 {
		if _, r := g.ownedShip(a); r != sim.ReasonNone {
			return r
		}
	}
	n, kept := 0, g.ships[:0]
	for _, s := range g.ships {
		if s.Owner == a.Client && s.Origin == a.Origin && (a.Args[3] == 0 || s.ID == uint32(a.Args[3])) {
			n++
			continue
		}
		kept = append(kept, s)
	}
	clear(g.ships[len(kept):])
	g.ships = kept
	if n == 0 {
		return sim.ReasonNoEntity
	}
	g.index.dirty = true
	return sim.ReasonNone
}
