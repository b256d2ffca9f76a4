package fleet

import "github.com/flotilla/flotilla/sim"

// Ship motion constants.
const (
	// ShipDrag is the fraction of velocity (1/ShipDrag) a ship loses each
	// frame with its throttle at zero (rounded toward zero, so it is symmetric).
	ShipDrag = 4
	// ShipStopSpeed: with the throttle at zero, a ship whose |Vel.X| and
	// |Vel.Y| are both below this stops dead (exact zero velocity).
	ShipStopSpeed = sim.One / 32
)

// stepShip advances one ship by a frame: timers, turning, thrust or drag,
// and position. It sets Active to whether anything changed.
func (g *Game) stepShip(s *Ship) {
	if !s.Alive() {
		g.stepDestroyed(s)
		return
	}
	busy := false
	for i := range s.Cooldown {
		if s.Cooldown[i] > 0 {
			s.Cooldown[i]--
			busy = true
		}
	}
	if s.StatusTTL > 0 {
		s.StatusTTL--
		if s.StatusTTL == 0 {
			s.Status &^= StatusStunned | StatusInvulnerable
		}
		busy = true
	}
	c := Class(s.Class)
	stunned := s.Status&StatusStunned != 0
	if !stunned && s.Heading != s.TargetHeading {
		diff := int32(int16(s.TargetHeading - s.Heading))
		step := min(max(diff, -int32(c.TurnRate)), int32(c.TurnRate))
		s.Heading += sim.Angle(step)
		busy = true
	}
	switch {
	case !stunned && s.Throttle != 0:
		acc := sim.Fixed(sim.FloorDiv(int64(c.Accel)*int64(s.Throttle), 127))
		s.Vel = limitSpeed(s.Vel.Add(sim.Dir(s.Heading).Scale(acc)), c.MaxSpeed)
		busy = true
	case !s.Vel.IsZero():
		s.Vel.X -= s.Vel.X / ShipDrag
		s.Vel.Y -= s.Vel.Y / ShipDrag
		if sim.Abs(s.Vel.X) < ShipStopSpeed && sim.Abs(s.Vel.Y) < ShipStopSpeed {
			s.Vel = sim.Vec2{}
		}
		busy = true
	}
	if !s.Vel.IsZero() {
		g.moveShip(s)
		busy = true
	}
	s.Active = busy
}

// moveShip adds the velocity to the position, stopping at the world's edge.
func (g *Game) moveShip(s *Ship) {
	p := s.Pos.Add(s.Vel)
	r := g.cfg.WorldRadius
	if p.X < -r || p.X > r {
		p.X = sim.Clamp(p.X, -r, r)
		s.Vel.X = 0
	}
	if p.Y < -r || p.Y > r {
		p.Y = sim.Clamp(p.Y, -r, r)
		s.Vel.Y = 0
	}
	s.Pos = p
	s.Tile = sim.HexOf(p, g.cfg.TileSize)
}

// limitSpeed scales v down to length max if it is longer, rounding toward
// zero so the result is never longer than max.
func limitSpeed(v sim.Vec2, max sim.Fixed) sim.Vec2 {
	if v.LenSq() <= sim.Mul(max, max) {
		return v
	}
	return towards(v, max)
}

// stepDestroyed counts down a destroyed ship and respawns it at home.
func (g *Game) stepDestroyed(s *Ship) {
	s.Active = true
	if s.Respawn > 1 {
		s.Respawn--
		return
	}
	c := Class(s.Class)
	s.Respawn = 0
	s.Status = StatusInvulnerable
	s.StatusTTL = InvulnerableFrames
	s.Hull, s.Shield = c.MaxHull, c.MaxShield
	s.Pos, s.Vel, s.Throttle = s.Home, sim.Vec2{}, 0
	s.TargetHeading = s.Heading
	s.Tile = sim.HexOf(s.Pos, g.cfg.TileSize)
	g.emit(EventRespawn, s.ID, 0, s, 0)
}
