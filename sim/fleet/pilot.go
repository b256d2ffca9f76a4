package fleet

import "github.com/flotilla/flotilla/sim"

// pilot is one active slot of a combat scenario: it flies one ship for a
// spell of frames, then hands over to another random idle ship.
type pilot struct {
	ship   int32  // ship index; -1 before the first spell
	target uint32 // enemy ship id; 0 for none
	frames int32  // frames left in the spell
}

// Pilot tuning.
const (
	spellMin, spellMax = 60, 180       // spell length in frames
	turnSlack          = 256           // heading error tolerated before a new Turn
	chaseThrottle      = 40            // throttle toward a distant target
	homeThrottle       = 30            // throttle back toward home
	closeRange         = 70 * sim.One  // no thrust when this close to the target
	specialOdds        = 20            // 1 in specialOdds frames tries a slot-1 card
	specialTail        = 90            // no slot-1 card in a spell's last frames
	acquireTries       = 6             // random picks when looking for a target
	pickTries          = 16            // random picks when choosing a new ship
	laserRange         = 100 * sim.One // the laser card's range
)

// newPilots returns n pilots without ships.
func newPilots(n int) []pilot {
	p := make([]pilot, n)
	for i := range p {
		p[i].ship = -1
	}
	return p
}

// pilotActions runs every pilot for one frame.
func (s *Scenario) pilotActions(frame uint32, dst []sim.Action) []sim.Action {
	for i := range s.pilots {
		dst = s.fly(&s.pilots[i], frame, dst)
	}
	return dst
}

// fly appends one pilot's actions for the frame.
func (s *Scenario) fly(p *pilot, frame uint32, dst []sim.Action) []sim.Action {
	g := s.Game
	if p.ship >= 0 && (p.frames <= 0 || !g.ships[p.ship].Alive()) {
		sh := &g.ships[p.ship]
		if sh.Alive() && sh.Throttle != 0 {
			dst = append(dst, s.action(frame, int(p.ship), KindThrust, 0, 0))
		}
		s.controlled[p.ship] = false
		p.ship = -1
	}
	if p.ship < 0 {
		s.pick(p) // the new ship gets its first actions next frame
		return dst
	}
	p.frames--
	i := int(p.ship)
	sh := &g.ships[i]
	t := s.acquire(p, sh)
	var want sim.Vec2
	throttle := int8(0)
	switch {
	case sh.Pos.Sub(sh.Home).LenSq() > sim.Mul(s.arena, s.arena) || t == nil:
		want, throttle = sh.Home.Sub(sh.Pos), homeThrottle
		if want.LenSq() < sim.Mul(closeRange, closeRange) {
			throttle = 0
		}
	default:
		want = t.Pos.Sub(sh.Pos)
		if !inRange(sh.Pos, t.Pos, closeRange) {
			throttle = chaseThrottle
		}
	}
	if !want.IsZero() {
		h := sim.Atan2(want.Y, want.X)
		if d := int16(h - sh.TargetHeading); d > turnSlack || d < -turnSlack {
			dst = append(dst, s.action(frame, i, KindTurn, int32(h), 0))
		}
	}
	if throttle != sh.Throttle {
		dst = append(dst, s.action(frame, i, KindThrust, int32(throttle), 0))
	}
	if t == nil || sh.Status&StatusStunned != 0 {
		return dst
	}
	if sh.Cooldown[0] == 0 {
		dst = append(dst, s.action(frame, i, KindFire, int32(CardLaser), int32(t.ID)))
	}
	if sh.Cooldown[1] == 0 && p.frames > specialTail && s.rng.Intn(specialOdds) == 0 {
		switch {
		case sh.Hull < Class(sh.Class).MaxHull/2:
			dst = append(dst, s.action(frame, i, KindFire, int32(CardRepair), int32(sh.ID)))
		case s.rng.Intn(3) == 0:
			dst = append(dst, s.action(frame, i, KindFire, int32(CardEMP), int32(t.ID)))
		default:
			dst = append(dst, s.action(frame, i, KindFire, int32(CardTorpedo), int32(t.ID)))
		}
	}
	return dst
}

// pick gives p a random idle, live ship and a new spell; false if none found.
func (s *Scenario) pick(p *pilot) bool {
	g := s.Game
	for range pickTries {
		i := s.rng.Intn(len(g.ships))
		if s.controlled[i] || !g.ships[i].Alive() {
			continue
		}
		s.controlled[i] = true
		*p = pilot{ship: int32(i), frames: int32(s.rng.Range(spellMin, spellMax))}
		return true
	}
	return false
}

// acquire returns the pilot's target, keeping the current one while it is
// alive and within laser range, else trying a few random ships of the tile
// and its neighbours. It returns nil when no enemy is found.
func (s *Scenario) acquire(p *pilot, sh *Ship) *Ship {
	g := s.Game
	if p.target != 0 {
		if ti := g.ShipIndex(p.target); ti >= 0 {
			t := &g.ships[ti]
			if t.Alive() && inRange(sh.Pos, t.Pos, laserRange) {
				return t
			}
		}
		p.target = 0
	}
	for range acquireTries {
		d := s.rng.Intn(7)
		h := sh.Tile
		if d < 6 {
			h = h.Add(sim.HexDir(d))
		}
		list := g.ShipsInTile(h)
		if len(list) == 0 {
			continue
		}
		t := &g.ships[list[s.rng.Intn(len(list))]]
		if t.Team != sh.Team && t.Alive() && inRange(sh.Pos, t.Pos, laserRange) {
			p.target = t.ID
			return t
		}
	}
	return nil
}
