package fleet

import "github.com/flotilla/flotilla/sim"

// resolveOrders resolves this frame's Fire actions in the order they applied.
func (g *Game) resolveOrders() {
	for _, o := range g.orders {
		si, ti := g.ShipIndex(o.Ship), g.ShipIndex(o.Target)
		if si < 0 || ti < 0 {
			continue // left the game after firing; Leave already reported it
		}
		s, t := &g.ships[si], &g.ships[ti]
		card := cardTable[o.Card]
		if !s.Alive() || !t.Alive() {
			g.emit(EventMiss, s.ID, o.Card, t, 0)
			continue
		}
		switch o.Card {
		case CardTorpedo:
			g.launch(s, t, card, o.Card)
		case CardRepair:
			g.repair(s, t, card)
		case CardEMP:
			g.emp(s, t, card, int32(ti))
		default:
			if g.rng.Intn(100) >= card.HitChance {
				g.emit(EventMiss, s.ID, o.Card, t, 0)
				continue
			}
			g.damage(s.ID, o.Card, int32(ti), card.Damage)
		}
	}
	g.orders = g.orders[:0]
}

// launch spawns a torpedo aimed at t.
func (g *Game) launch(s, t *Ship, card Card, id uint16) {
	g.projectiles = append(g.projectiles, Projectile{
		ID:     g.newID(),
		Source: s.ID,
		Target: t.ID,
		Card:   id,
		Pos:    s.Pos,
		Vel:    towards(t.Pos.Sub(s.Pos), card.Speed),
		TTL:    card.TTL,
	})
}

// towards returns d scaled to length speed (zero if d is zero), each
// component rounded toward zero so the result never exceeds speed.
func towards(d sim.Vec2, speed sim.Fixed) sim.Vec2 {
	l := d.Len()
	if l == 0 {
		return sim.Vec2{}
	}
	return sim.Vec2{X: scaleTrunc(d.X, speed, l), Y: scaleTrunc(d.Y, speed, l)}
}

// scaleTrunc returns v·num/den rounded toward zero (num, den > 0).
func scaleTrunc(v, num, den sim.Fixed) sim.Fixed {
	if v < 0 {
		return -sim.Div(sim.Mul(-v, num), den)
	}
	return sim.Div(sim.Mul(v, num), den)
}

func (g *Game) repair(s, t *Ship, card Card) {
	c := Class(t.Class)
	before := t.Hull
	t.Hull = uint16(min(int32(c.MaxHull), int32(t.Hull)+card.Damage))
	t.Shield = uint16(min(int32(c.MaxShield), int32(t.Shield)+card.Shield))
	if t.Shield > 0 {
		t.Status &^= StatusShieldDown
	}
	g.touch(t)
	g.emit(EventRepair, s.ID, CardRepair, t, -int32(t.Hull-before))
}

func (g *Game) emp(s, t *Ship, card Card, ti int32) {
	if t.Status&StatusInvulnerable != 0 {
		g.emit(EventMiss, s.ID, CardEMP, t, 0)
		return
	}
	drained := min(int32(t.Shield), card.Shield)
	t.Shield -= uint16(drained)
	if t.Shield == 0 {
		t.Status |= StatusShieldDown
	}
	t.Status |= StatusStunned
	t.StatusTTL = max(t.StatusTTL, card.StunTTL)
	g.touched = append(g.touched, ti)
	g.emit(EventStatus, s.ID, CardEMP, t, drained)
}

// touch marks ship t as changed this frame.
func (g *Game) touch(t *Ship) { g.touched = append(g.touched, int32(g.ShipIndex(t.ID))) }

// damage deals amount to ship ti: the shield absorbs first, then the hull.
func (g *Game) damage(source uint32, card uint16, ti int32, amount int32) {
	t := &g.ships[ti]
	if t.Status&StatusInvulnerable != 0 {
		g.emit(EventMiss, source, card, t, 0)
		return
	}
	g.touched = append(g.touched, ti)
	absorbed := min(int32(t.Shield), amount)
	t.Shield -= uint16(absorbed)
	if t.Shield == 0 {
		t.Status |= StatusShieldDown
	}
	rest := amount - absorbed
	if rest == 0 {
		g.emit(EventShieldHit, source, card, t, amount)
		return
	}
	t.Hull -= uint16(min(int32(t.Hull), rest))
	if t.Hull > 0 {
		g.emit(EventHit, source, card, t, amount)
		return
	}
	t.Status = StatusDestroyed | StatusShieldDown
	t.StatusTTL = 0
	t.Respawn = g.cfg.RespawnFrames
	t.Vel = sim.Vec2{}
	t.Throttle = 0
	t.Cooldown = [2]uint16{}
	g.emit(EventDestroyed, source, card, t, amount)
}

// stepProjectiles homes every torpedo on its target, resolving hits and
// expiries, and drops spent torpedoes keeping the rest in ID order.
func (g *Game) stepProjectiles() {
	kept := g.projectiles[:0]
	for _, p := range g.projectiles {
		if g.stepProjectile(&p) {
			kept = append(kept, p)
		}
	}
	clear(g.projectiles[len(kept):])
	g.projectiles = kept
}

// stepProjectile advances p by one frame and reports whether it is still live.
func (g *Game) stepProjectile(p *Projectile) bool {
	ti := g.ShipIndex(p.Target)
	if ti < 0 {
		return false // the target left the game: nothing to report it to
	}
	t := &g.ships[ti]
	if !t.Alive() {
		g.emit(EventMiss, p.Source, p.Card, t, 0)
		return false
	}
	card := cardTable[p.Card]
	d := t.Pos.Sub(p.Pos)
	if inRange(p.Pos, t.Pos, card.Speed+TorpedoHitRadius) {
		g.damage(p.Source, p.Card, int32(ti), card.Damage)
		return false
	}
	p.TTL--
	if p.TTL == 0 {
		g.emit(EventMiss, p.Source, p.Card, t, 0)
		return false
	}
	p.Vel = towards(d, card.Speed)
	p.Pos = g.clampPos(p.Pos.Add(p.Vel))
	return true
}
