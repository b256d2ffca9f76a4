package fleet

import (
	"fmt"

	"github.com/flotilla/flotilla/sim"
)

// Body is a 3D rigid body (cargo crate or debris), simulated as a sphere for
// collisions, with a rotation that tumbles while it moves. A Resting body is
// skipped by the simulation, so its fields stay bit-identical until something
// touches it.
type Body struct {
	ID     uint32
	Origin uint16    // server of the owning client
	Owner  uint32    // client that may Push it; 0 = nobody
	Radius sim.Fixed // collision radius, One/4..MaxBodyRadius
	Mass   sim.Fixed // One/4..MaxBodyMass
	// Pos is the center: |X|, |Y| <= Config.WorldRadius, Radius <= Z <= WorldRadius.
	Pos sim.Vec3
	// Vel is in units per frame, each component within ±MaxBodySpeed.
	Vel sim.Vec3
	// Rot is a unit quaternion, each component within [-One, One].
	Rot sim.Quat
	// AngVel is in radians per frame (world axes), each component within ±MaxBodySpin.
	AngVel  sim.Vec3
	Calm    uint8 // consecutive calm frames on the floor, 0..BodyRestFrames
	Resting bool
}

// Body constants.
const (
	MaxBodyRadius  = 8 * sim.One
	MaxBodyMass    = 64 * sim.One
	MaxBodySpeed   = 2 * sim.One
	MaxBodySpin    = sim.One / 4
	BodyGravity    = sim.One / 32 // units per frame²
	BodyFriction   = 8            // a body on the floor loses 1/8 of its speed and spin per frame
	BodyStopSpeed  = sim.One / 64 // velocity components below this snap to zero
	BodyStopSpin   = sim.One / 256
	BodyBounceMin  = sim.One / 8 // slower vertical impacts do not bounce
	BodyRestFrames = 8           // calm frames on the floor before a body rests
)

// AddBody adds a body for scenario setup and returns its id. ID, Calm and
// Resting are ignored: the body starts resting if it is on the floor with no
// velocity or spin. A zero Rot becomes sim.QuatIdentity.
func (g *Game) AddBody(b Body) (uint32, error) {
	if b.Radius < sim.One/4 || b.Radius > MaxBodyRadius || b.Mass < sim.One/4 || b.Mass > MaxBodyMass {
		return 0, fmt.Errorf("fleet: add body: radius %d or mass %d out of range", b.Radius, b.Mass)
	}
	if b.Rot == (sim.Quat{}) {
		b.Rot = sim.QuatIdentity
	}
	b.ID = g.newID()
	b.Pos = g.clampBody(b.Pos, b.Radius)
	b.Vel = clampVel3(b.Vel)
	b.AngVel = clampSpin(b.AngVel)
	b.Calm = 0
	b.Resting = b.Pos.Z == b.Radius && b.Vel.IsZero() && b.AngVel.IsZero()
	g.bodies = append(g.bodies, b)
	return b.ID, nil
}

// wake makes a body simulated again.
func (b *Body) wake() { b.Resting, b.Calm = false, 0 }

func (g *Game) clampBody(p sim.Vec3, radius sim.Fixed) sim.Vec3 {
	r := g.cfg.WorldRadius
	return sim.Vec3{X: sim.Clamp(p.X, -r, r), Y: sim.Clamp(p.Y, -r, r), Z: sim.Clamp(p.Z, radius, r)}
}

func clampVel3(v sim.Vec3) sim.Vec3 {
	return sim.Vec3{
		X: sim.Clamp(v.X, -MaxBodySpeed, MaxBodySpeed),
		Y: sim.Clamp(v.Y, -MaxBodySpeed, MaxBodySpeed),
		Z: sim.Clamp(v.Z, -MaxBodySpeed, MaxBodySpeed),
	}
}

func clampSpin(v sim.Vec3) sim.Vec3 {
	return sim.Vec3{
		X: sim.Clamp(v.X, -MaxBodySpin, MaxBodySpin),
		Y: sim.Clamp(v.Y, -MaxBodySpin, MaxBodySpin),
		Z: sim.Clamp(v.Z, -MaxBodySpin, MaxBodySpin),
	}
}

// stepBodies integrates every awake body, then resolves collisions of awake
// bodies against all others, then lets calm bodies come to rest.
func (g *Game) stepBodies() {
	for i := range g.bodies {
		if !g.bodies[i].Resting {
			g.integrate(&g.bodies[i])
		}
	}
	for i := range g.bodies {
		if !g.bodies[i].Resting {
			g.collide(i)
		}
	}
	for i := range g.bodies {
		b := &g.bodies[i]
		if b.Resting {
			continue
		}
		if b.Pos.Z == b.Radius && b.Vel.IsZero() && b.AngVel.IsZero() {
			b.Calm++
			if b.Calm >= BodyRestFrames {
				b.Resting, b.Calm = true, 0
			}
		} else {
			b.Calm = 0
		}
	}
}

// integrate applies gravity, floor contact, friction and spin to one body.
func (g *Game) integrate(b *Body) {
	b.Vel.Z -= BodyGravity
	b.Pos = b.Pos.Add(b.Vel)
	if b.Pos.Z <= b.Radius {
		b.Pos.Z = b.Radius
		if b.Vel.Z < -BodyBounceMin {
			b.Vel.Z = -b.Vel.Z / 4
		} else if b.Vel.Z < 0 {
			b.Vel.Z = 0
		}
		b.Vel.X -= b.Vel.X / BodyFriction
		b.Vel.Y -= b.Vel.Y / BodyFriction
		b.AngVel = b.AngVel.Sub(sim.Vec3{X: b.AngVel.X / BodyFriction, Y: b.AngVel.Y / BodyFriction, Z: b.AngVel.Z / BodyFriction})
	}
	b.Pos = g.clampBody(b.Pos, b.Radius)
	b.Vel = snap3(clampVel3(b.Vel), BodyStopSpeed)
	b.AngVel = snap3(b.AngVel, BodyStopSpin)
	if !b.AngVel.IsZero() {
		b.Rot = b.Rot.Integrate(b.AngVel, sim.One)
	}
}

// snap3 zeroes the components of v below eps in magnitude.
func snap3(v sim.Vec3, eps sim.Fixed) sim.Vec3 {
	if sim.Abs(v.X) < eps {
		v.X = 0
	}
	if sim.Abs(v.Y) < eps {
		v.Y = 0
	}
	if sim.Abs(v.Z) < eps {
		v.Z = 0
	}
	return v
}

// collide resolves overlaps between awake body i and every other body, in
// ascending index order. Pairs of awake bodies are resolved once, by the
// lower index.
func (g *Game) collide(i int) {
	a := &g.bodies[i]
	for j := range g.bodies {
		b := &g.bodies[j]
		reach := a.Radius + MaxBodyRadius // cheap reject before the exact test
		if dx := b.Pos.X - a.Pos.X; dx >= reach || dx <= -reach || j == i || (j < i && !b.Resting) {
			continue
		}
		g.collidePair(a, b)
	}
}

// collidePair separates two overlapping spheres and exchanges an impulse
// along the contact normal (restitution 1/2, split by mass). The struck
// bodies gain spin as if rolling along the floor in their new direction.
func (g *Game) collidePair(a, b *Body) {
	rr := a.Radius + b.Radius
	d := b.Pos.Sub(a.Pos)
	if sim.Abs(d.X) >= rr || sim.Abs(d.Y) >= rr || sim.Abs(d.Z) >= rr {
		return
	}
	dsq := d.LenSq()
	if dsq >= sim.Mul(rr, rr) {
		return
	}
	dist := sim.Sqrt(dsq)
	n := sim.Vec3{X: sim.One}
	if dist > 0 {
		n = sim.Vec3{X: sim.Div(d.X, dist), Y: sim.Div(d.Y, dist), Z: sim.Div(d.Z, dist)}
	}
	total := a.Mass + b.Mass
	wa, wb := sim.Div(b.Mass, total), sim.Div(a.Mass, total)
	overlap := rr - dist
	a.Pos = g.clampBody(a.Pos.Sub(n.Scale(sim.Mul(overlap, wa))), a.Radius)
	b.Pos = g.clampBody(b.Pos.Add(n.Scale(sim.Mul(overlap, wb))), b.Radius)
	vn := b.Vel.Sub(a.Vel).Dot(n)
	if vn < 0 {
		j := -(vn + vn/2) // (1 + restitution) · |vn|
		da, db := n.Scale(-sim.Mul(j, wa)), n.Scale(sim.Mul(j, wb))
		a.Vel = clampVel3(a.Vel.Add(da))
		b.Vel = clampVel3(b.Vel.Add(db))
		up := sim.Vec3{Z: sim.One}
		a.AngVel = clampSpin(a.AngVel.Add(rollSpin(up.Cross(da), a.Radius)))
		b.AngVel = clampSpin(b.AngVel.Add(rollSpin(up.Cross(db), b.Radius)))
	}
	a.wake()
	b.wake()
}

// rollSpin returns v/radius: the spin of a sphere rolling at v.
func rollSpin(v sim.Vec3, radius sim.Fixed) sim.Vec3 {
	return sim.Vec3{X: sim.Div(v.X, radius), Y: sim.Div(v.Y, radius), Z: sim.Div(v.Z, radius)}
}
