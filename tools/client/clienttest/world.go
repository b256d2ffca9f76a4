package clienttest

import (
	"math"
	"slices"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Teams is how many teams the toy world deals ships into, by ship id.
const Teams = 2

// laserDamage is what a laser takes off a hull.
const laserDamage = 8

// ship is a toy ship: it flies at throttle/127 units per frame along its
// heading.
type ship struct {
	id       uint32
	team     int32
	x, y     sim.Fixed
	vx, vy   sim.Fixed
	heading  uint16
	throttle int32
	hull     int32
}

// spawn adds a ship and returns its id: teams alternate, spawn points lie
// on either side of the origin, 20 units apart.
func (s *Server) spawn() uint32 {
	id := s.nextShip
	s.nextShip++
	team := int32(id % Teams)
	side := sim.Fixed(team*2-1) * 50 * sim.One
	s.ships = append(s.ships, ship{
		id: id, team: team, x: side, y: sim.Fixed(id%16) * 20 * sim.One,
		hull: fleet.MaxHull,
	})
	return id
}

func (s *Server) removeShip(id uint32) {
	if i := s.shipIndex(id); i >= 0 {
		s.ships = slices.Delete(s.ships, i, i+1)
	}
}

func (s *Server) shipIndex(id uint32) int {
	i, ok := slices.BinarySearchFunc(s.ships, id, func(sh ship, id uint32) int {
		switch {
		case sh.id < id:
			return -1
		case sh.id > id:
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

// apply runs one action at the current frame and sends its result (unless
// Config.Answer withholds it).
func (s *Server) apply(ss *Session, a *protocol.Action) {
	r := protocol.Result{Seq: a.Seq, Frame: s.frame, Status: protocol.Applied}
	if reason := s.rule(ss, a); reason != sim.ReasonNone {
		r.Status, r.Reason = protocol.Fizzled, reason
	}
	if s.cfg.Answer != nil && !s.cfg.Answer(a, &r) {
		ss.Withheld++
		return
	}
	s.sendReliable(ss, protocol.AppendResult(s.msg[:0], &r))
}

// rule applies a and returns sim.ReasonNone, or why it fizzles.
func (s *Server) rule(ss *Session, a *protocol.Action) uint8 {
	if uint32(a.Args[3]) != ss.Ship {
		return sim.ReasonNotOwner
	}
	i := s.shipIndex(ss.Ship)
	if i < 0 {
		return sim.ReasonNoEntity
	}
	sh := &s.ships[i]
	switch a.Kind {
	case fleet.KindThrust:
		if a.Args[0] < -127 || a.Args[0] > 127 {
			return sim.ReasonBadArgs
		}
		sh.throttle = a.Args[0]
	case fleet.KindTurn:
		if a.Args[0] < 0 || a.Args[0] > 65535 {
			return sim.ReasonBadArgs
		}
		sh.heading = uint16(a.Args[0])
	case fleet.KindFire:
		if a.Args[0] != int32(fleet.CardLaser) {
			return fleet.ReasonUnknownCard
		}
		j := s.shipIndex(uint32(a.Args[1]))
		if j < 0 {
			return fleet.ReasonNoTarget
		}
		t := &s.ships[j]
		if t.team == sh.team {
			return fleet.ReasonWrongTeam
		}
		if t.hull -= laserDamage; t.hull <= 0 {
			t.hull = fleet.MaxHull // respawned in place
		}
		s.eventSeq++
		var ev codec.Event
		ev.Kind = demowire.EventCombat
		ev.V[demowire.EvSeq] = s.eventSeq
		ev.V[demowire.EvSource] = int32(sh.id)
		ev.V[demowire.EvTarget] = int32(t.id)
		ev.V[demowire.EvCard] = int32(fleet.CardLaser)
		ev.V[demowire.EvType] = int32(fleet.EventHit)
		ev.V[demowire.EvDamage] = laserDamage
		ev.V[demowire.EvHP] = t.hull
		s.events = append(s.events, ev)
	default:
		return sim.ReasonUnknownKind
	}
	return sim.ReasonNone
}

// move advances every ship one frame, keeping it within half the world
// radius.
func (s *Server) move() {
	limit := float64(s.radius) / 2
	for i := range s.ships {
		sh := &s.ships[i]
		speed := float64(sh.throttle) / 127 * float64(sim.One)
		angle := float64(sh.heading) / 65536 * 2 * math.Pi
		sh.vx = sim.Fixed(math.Round(speed * math.Cos(angle)))
		sh.vy = sim.Fixed(math.Round(speed * math.Sin(angle)))
		sh.x = sim.Fixed(math.Max(-limit, math.Min(limit, float64(sh.x+sh.vx))))
		sh.y = sim.Fixed(math.Max(-limit, math.Min(limit, float64(sh.y+sh.vy))))
	}
}

// Move sets a ship's position and stops it: a change every view shows.
// It reports false for an unknown ship.
func (s *Server) Move(id uint32, x, y sim.Fixed) bool {
	i := s.shipIndex(id)
	if i < 0 {
		return false
	}
	sh := &s.ships[i]
	sh.x, sh.y, sh.throttle = x, y, 0
	return true
}

// BuildView replaces dst with what every session sees now: every ship at
// full detail, and this frame's combat events.
func (s *Server) BuildView(dst *codec.View) {
	w := s.wire
	dst.Reset()
	for i := range s.ships {
		sh := &s.ships[i]
		e := codec.Entity{ID: sh.id, Kind: demowire.KindShip, LOD: codec.LODFull}
		e.V[demowire.ShipX] = w.Pos.Quantize(int64(sh.x))
		e.V[demowire.ShipY] = w.Pos.Quantize(int64(sh.y))
		e.V[demowire.ShipVX] = w.ShipVel.Quantize(int64(sh.vx))
		e.V[demowire.ShipVY] = w.ShipVel.Quantize(int64(sh.vy))
		e.V[demowire.ShipHeading] = w.Heading.Quantize(sh.heading)
		e.V[demowire.ShipHull] = sh.hull
		e.V[demowire.ShipTeam] = sh.team
		dst.Entities = append(dst.Entities, e)
	}
	dst.Events = append(dst.Events, s.events...)
}
