package fleet

import "github.com/flotilla/flotilla/sim"

// pusher is the scripted driver of cubes901's pusher body: it pushes toward a
// waypoint and picks a new random waypoint inside the grid on arrival.
type pusher struct {
	id       uint32
	client   uint32
	seq      uint32
	waypoint sim.Vec2
}

// cubes901 layout.
const (
	cubeGrid      = 30
	cubeSpacing   = 4 * sim.One
	cubeRadius    = 3 * sim.One / 2
	pusherRadius  = 3 * sim.One
	pusherMass    = 4 * sim.One
	pusherSpeed   = 3 * sim.One / 5 // cruise speed in units per frame
	waypointReach = 4 * sim.One
)

// setupCubes901 lays 900 resting cubes in a 30×30 grid on the floor with
// random yaw, and a pusher body outside the grid owned by client 1.
func setupCubes901(s *Scenario) error {
	for i := int64(0); i < cubeGrid*cubeGrid; i++ {
		x, y := i%cubeGrid, i/cubeGrid
		_, err := s.Game.AddBody(Body{
			Radius: cubeRadius,
			Mass:   sim.One,
			Pos:    sim.Vec3{X: sim.Fixed(2*x-cubeGrid+1) * cubeSpacing / 2, Y: sim.Fixed(2*y-cubeGrid+1) * cubeSpacing / 2, Z: cubeRadius},
			Rot:    sim.QuatYaw(sim.Angle(s.rng.Uint64())),
		})
		if err != nil {
			return err
		}
	}
	id, err := s.Game.AddBody(Body{
		Owner:  1,
		Radius: pusherRadius,
		Mass:   pusherMass,
		Pos:    sim.Vec3{X: -80 * sim.One, Z: pusherRadius},
	})
	if err != nil {
		return err
	}
	s.pusher = pusher{id: id, client: 1}
	s.newWaypoint()
	return nil
}

// newWaypoint picks a random point within the cube grid.
func (s *Scenario) newWaypoint() {
	half := sim.Fixed(cubeGrid/2) * cubeSpacing
	s.pusher.waypoint = s.randomIn(sim.Vec2{}, half)
}

// pushActions steers the pusher toward its waypoint with one Push per frame.
func (s *Scenario) pushActions(frame uint32, dst []sim.Action) []sim.Action {
	g := s.Game
	bi := g.BodyIndex(s.pusher.id)
	if bi < 0 {
		return dst
	}
	b := &g.bodies[bi]
	to := s.pusher.waypoint.Sub(sim.Vec2{X: b.Pos.X, Y: b.Pos.Y})
	if inRange(sim.Vec2{}, to, waypointReach) {
		s.newWaypoint()
		to = s.pusher.waypoint.Sub(sim.Vec2{X: b.Pos.X, Y: b.Pos.Y})
	}
	want := towards(to, pusherSpeed)
	fx := sim.Clamp(want.X-b.Vel.X, -MaxPush, MaxPush)
	fy := sim.Clamp(want.Y-b.Vel.Y, -MaxPush, MaxPush)
	s.pusher.seq++
	return append(dst, sim.Action{
		Frame: frame, Client: s.pusher.client, Seq: s.pusher.seq, Kind: KindPush,
		Args: [4]int32{int32(fx), int32(fy), 0, int32(s.pusher.id)},
	})
}
