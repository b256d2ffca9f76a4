package fleet

import (
	"testing"

	"github.com/flotilla/flotilla/sim"
)

// duel returns a world with ship 1 (team 0, client 1) and ship 2 (team 1,
// client 2) 50 units apart, and ship 3 (team 0, client 3) beyond laser range.
func duel(t *testing.T, cfg Config) (*Game, *sim.World) {
	t.Helper()
	g := New(cfg, 1)
	for _, s := range []ShipSpec{
		{Team: 0, Owner: 1, Pos: sim.Vec2{}},
		{Team: 1, Owner: 2, Pos: sim.Vec2{X: 50 * sim.One}},
		{Team: 0, Owner: 3, Pos: sim.Vec2{X: -500 * sim.One}},
	} {
		if _, err := g.SpawnShip(s); err != nil {
			t.Fatal(err)
		}
	}
	return g, sim.NewWorld(g)
}

func act(frame, client uint32, kind uint16, a0, a1 int32, id uint32) sim.Action {
	return sim.Action{Frame: frame, Client: client, Kind: kind, Args: [4]int32{a0, a1, 0, int32(id)}}
}

func step(t *testing.T, w *sim.World, acts ...sim.Action) []sim.Result {
	t.Helper()
	for i := range acts {
		acts[i].Seq = uint32(i + 1) // keep each client's actions in the order given
	}
	res, err := w.Step(w.Frame()+1, acts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantReasons(t *testing.T, res []sim.Result, want ...uint8) {
	t.Helper()
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i, r := range res {
		if r.Reason != want[i] || (r.Status == sim.StatusApplied) != (want[i] == sim.ReasonNone) {
			t.Errorf("result %d (client %d seq %d): status %d reason %d, want reason %d", i, r.Client, r.Seq, r.Status, r.Reason, want[i])
		}
	}
}

func TestOwnershipFizzles(t *testing.T) {
	_, w := duel(t, Config{})
	res := step(t, w,
		act(1, 2, KindThrust, 50, 0, 1), // client 2 does not own ship 1
		act(1, 1, KindThrust, 50, 0, 1),
		act(1, 0, KindTurn, 5, 0, 1),     // client 0 owns nothing
		act(1, 3, KindTurn, 5, 0, 99),    // no such ship
		act(1, 3, KindThrust, 300, 0, 3), // throttle out of range
		act(1, 3, 77, 0, 0, 3),
	)
	// Results come in (Client, Seq) order.
	wantReasons(t, res, sim.ReasonNotOwner, sim.ReasonNone, sim.ReasonNotOwner, sim.ReasonNoEntity, sim.ReasonBadArgs, sim.ReasonUnknownKind)
}

func TestFireRules(t *testing.T) {
	g, w := duel(t, Config{})
	res := step(t, w,
		act(1, 1, KindFire, int32(CardLaser), 2, 1),
		act(1, 1, KindFire, int32(CardLaser), 2, 1), // same frame: slot cooling down
	)
	wantReasons(t, res, sim.ReasonNone, ReasonCooldown)
	res = step(t, w,
		act(2, 1, KindFire, int32(CardLaser), 2, 1),    // still cooling down
		act(2, 2, KindFire, int32(CardEMP), 3, 2),      // target out of range
		act(2, 2, KindFire, int32(CardRepair), 1, 2),   // repair at an enemy
		act(2, 2, KindFire, 9, 1, 2),                   // no such card
		act(2, 2, KindFire, int32(CardTorpedo), 42, 2), // no such target
		act(2, 3, KindFire, int32(CardLaser), 2, 1),    // not the owner
	)
	wantReasons(t, res, ReasonCooldown, ReasonOutOfRange, ReasonWrongTeam, ReasonUnknownCard, ReasonNoTarget, sim.ReasonNotOwner)
	if c := g.Ships()[0].Cooldown[0]; c != cardTable[CardLaser].Cooldown-2 {
		t.Errorf("laser cooldown %d after two frames", c)
	}
}

func TestJoinFullAndLeave(t *testing.T) {
	g, w := duel(t, Config{MaxShips: 4})
	res := step(t, w,
		act(1, 7, KindJoin, -1, int32(ClassCruiser), 0),
		act(1, 8, KindJoin, 1, 0, 0),
		act(1, 9, KindJoin, 5, 0, 0),
	)
	wantReasons(t, res, sim.ReasonNone, sim.ReasonFull, sim.ReasonBadArgs)
	s := g.Ships()[3]
	if s.Owner != 7 || s.Team != 2 || s.Class != ClassCruiser || s.ID != 4 {
		t.Errorf("joined ship %+v", s)
	}
	res = step(t, w, act(2, 7, KindLeave, 0, 0, 0), act(2, 7, KindLeave, 0, 0, 1))
	wantReasons(t, res, sim.ReasonNone, sim.ReasonNotOwner)
	if len(g.Ships()) != 3 {
		t.Errorf("%d ships after leave", len(g.Ships()))
	}
	res = step(t, w, act(3, 9, KindJoin, 0, 0, 0))
	wantReasons(t, res, sim.ReasonNone)
	if id := g.Ships()[3].ID; id != 5 {
		t.Errorf("new ship id %d, want 5: ids are never reused", id)
	}
}

func TestEventsConsecutiveAndDestruction(t *testing.T) {
	g, w := duel(t, Config{RespawnFrames: 10})
	var last uint32
	destroyed, respawned := false, false
	for f := uint32(1); f <= 600; f++ {
		var acts []sim.Action
		if s := g.Ships()[0]; s.Cooldown[0] == 0 && g.Ships()[1].Alive() {
			acts = append(acts, act(f, 1, KindFire, int32(CardLaser), 2, 1))
		}
		if s := g.Ships()[0]; s.Cooldown[1] == 0 && g.Ships()[1].Alive() {
			acts = append(acts, act(f, 1, KindFire, int32(CardTorpedo), 2, 1))
		}
		step(t, w, acts...)
		for _, e := range g.Events() {
			if e.Seq != last+1 {
				t.Fatalf("event seq %d after %d", e.Seq, last)
			}
			last = e.Seq
			if e.Type < 1 || e.Type > NumEventTypes || e.Card > NumCards {
				t.Fatalf("event out of range: %+v", e)
			}
			if e.Cell != g.Ships()[1].Tile && e.Target == 2 && e.Type != EventRespawn {
				t.Fatalf("event cell %v, target tile %v", e.Cell, g.Ships()[1].Tile)
			}
			switch e.Type {
			case EventDestroyed:
				destroyed = e.HP == 0 && e.Status&StatusDestroyed != 0
			case EventRespawn:
				respawned = true
			}
		}
	}
	if last < 20 || !destroyed || !respawned {
		t.Errorf("%d events, destroyed %v, respawned %v", last, destroyed, respawned)
	}
}

func TestEventCapDropsAndCounts(t *testing.T) {
	g, w := duel(t, Config{MaxEventsPerFrame: 1})
	step(t, w, act(1, 1, KindFire, int32(CardLaser), 2, 1), act(1, 2, KindFire, int32(CardLaser), 1, 2))
	if len(g.Events()) != 1 || g.EventsDropped() != 1 || g.Events()[0].Seq != 1 {
		t.Errorf("events %v dropped %d", g.Events(), g.EventsDropped())
	}
}

func TestIdleShipsBitIdentical(t *testing.T) {
	s := mustScenario(t, "combat100", 11)
	stepN(t, s, 150)
	prev := append([]Ship(nil), s.Game.Ships()...)
	idle := 0
	for range 100 {
		stepN(t, s, 1)
		cur := s.Game.Ships()
		for i := range cur {
			if !cur[i].Active && !prev[i].Active {
				idle++
				if cur[i] != prev[i] {
					t.Fatalf("idle ship %d changed:\n%+v\n%+v", cur[i].ID, prev[i], cur[i])
				}
			}
		}
		copy(prev, cur)
	}
	if idle < 100*800 {
		t.Errorf("only %d idle ship-frames", idle)
	}
}

func TestRestingBodiesBitIdentical(t *testing.T) {
	s := mustScenario(t, "cubes901", 2)
	prev := append([]Body(nil), s.Game.Bodies()...)
	resting := 0
	for range 600 {
		stepN(t, s, 1)
		cur := s.Game.Bodies()
		for i := range cur {
			if cur[i].Resting && prev[i].Resting {
				resting++
				if cur[i] != prev[i] {
					t.Fatalf("resting body %d changed", cur[i].ID)
				}
			}
			if cur[i].Resting && !cur[i].Vel.IsZero() || cur[i].Resting && !cur[i].AngVel.IsZero() {
				t.Fatalf("resting body %d moves", cur[i].ID)
			}
		}
		copy(prev, cur)
	}
	if resting < 600*850 {
		t.Errorf("only %d resting body-frames", resting)
	}
}

func TestPushRules(t *testing.T) {
	g := New(Config{}, 1)
	a, _ := g.AddBody(Body{Owner: 5, Radius: sim.One, Mass: sim.One, Pos: sim.Vec3{Z: sim.One}})
	b, _ := g.AddBody(Body{Radius: sim.One, Mass: sim.One, Pos: sim.Vec3{X: 10 * sim.One, Z: sim.One}})
	if !g.Bodies()[0].Resting {
		t.Fatal("a body on the floor at rest must start resting")
	}
	w := sim.NewWorld(g)
	res := step(t, w,
		sim.Action{Frame: 1, Client: 5, Kind: KindPush, Args: [4]int32{int32(MaxPush), 0, 0, int32(a)}},
		sim.Action{Frame: 1, Client: 5, Seq: 1, Kind: KindPush, Args: [4]int32{int32(MaxPush) + 1, 0, 0, int32(a)}},
		sim.Action{Frame: 1, Client: 5, Seq: 2, Kind: KindPush, Args: [4]int32{1, 0, 0, int32(b)}},
	)
	wantReasons(t, res, sim.ReasonNone, sim.ReasonBadArgs, sim.ReasonNotOwner)
	if g.Bodies()[0].Resting || g.Bodies()[0].Pos.X <= 0 {
		t.Errorf("pushed body %+v", g.Bodies()[0])
	}
	for range 200 {
		step(t, w)
	}
	if !g.Bodies()[0].Resting {
		t.Errorf("pushed body never came to rest: %+v", g.Bodies()[0])
	}
}

func TestShipsPerClientBounded(t *testing.T) {
	g, w := duel(t, Config{MaxShipsPerClient: 2})
	res := step(t, w,
		act(1, 7, KindJoin, -1, 0, 0),
		act(1, 7, KindJoin, -1, 0, 0),
		act(1, 7, KindJoin, -1, 0, 0),
		act(1, 8, KindJoin, -1, 0, 0),
	)
	wantReasons(t, res, sim.ReasonNone, sim.ReasonNone, sim.ReasonFull, sim.ReasonNone)
	owned := map[uint32]int{}
	for _, s := range g.Ships() {
		owned[s.Owner]++
	}
	if owned[7] != 2 || owned[8] != 1 {
		t.Errorf("ships per owner %v, want client 7 at its bound of 2", owned)
	}
}
