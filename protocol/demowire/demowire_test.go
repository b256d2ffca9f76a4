package demowire

import (
	"slices"
	"testing"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/sim"
	"github.com/flotilla/flotilla/sim/fleet"
)

// busiestTile returns the tile holding the most live ships (ties: the
// smallest key), where an observer of a scenario sees the most.
func busiestTile(g *fleet.Game) sim.Hex {
	type count struct {
		h sim.Hex
		n int
	}
	var counts []count
	for _, s := range g.Ships() {
		i := slices.IndexFunc(counts, func(c count) bool { return c.h == s.Tile })
		if i < 0 {
			counts = append(counts, count{s.Tile, 0})
			i = len(counts) - 1
		}
		counts[i].n++
	}
	best := count{}
	for _, c := range counts {
		if c.n > best.n || (c.n == best.n && c.h.Key() < best.h.Key()) {
			best = c
		}
	}
	return best.h
}

// frames steps a scenario and returns the views one observer sees on each of
// n frames after warm frames, with the observer on the busiest tile (for
// bodies-only worlds, the tile of the first body).
func frames(t testing.TB, name string, warm, n int, in Interest) (*Wire, []codec.View) {
	t.Helper()
	sc, err := fleet.NewScenario(name, 7)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(sc.Game.Config())
	if err != nil {
		t.Fatal(err)
	}
	for range warm {
		if err := sc.Step(); err != nil {
			t.Fatal(err)
		}
	}
	center := busiestTile(sc.Game)
	if len(sc.Game.Ships()) == 0 && len(sc.Game.Bodies()) > 0 {
		b := sc.Game.Bodies()[0].Pos
		center = sim.HexOf(sim.Vec2{X: b.X, Y: b.Y}, sc.Game.Config().TileSize)
	}
	views := make([]codec.View, n)
	for i := range views {
		if err := sc.Step(); err != nil {
			t.Fatal(err)
		}
		w.AppendView(&views[i], sc.Game, center, in)
	}
	return w, views
}

type sizeStats struct {
	mean, p50, p99, max float64
	entities, changed   float64
	full                float64 // mean size of a full snapshot of the same views
}

// deltaSizes encodes each view against the previous one (a one-tick-old
// acknowledged baseline), decodes it back and checks the round trip.
func deltaSizes(t *testing.T, w *Wire, views []codec.View) sizeStats {
	t.Helper()
	c := codec.NewCodec(w.Schema)
	c.VerifyBaselines(true)
	buf := make([]byte, 0, 1<<20)
	var sizes []float64
	var st sizeStats
	var got codec.View
	for i := 1; i < len(views); i++ {
		out, err := c.AppendDelta(buf, &views[i-1], &views[i])
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if err := c.Decode(out, &views[i-1], &got); err != nil {
			t.Fatalf("frame %d: decode: %v", i, err)
		}
		if !w.Schema.Equal(&got, &views[i]) {
			t.Fatalf("frame %d: decoded view differs", i)
		}
		sizes = append(sizes, float64(len(out)))
		full, err := c.AppendFull(buf, &views[i])
		if err != nil {
			t.Fatalf("frame %d: full: %v", i, err)
		}
		st.full += float64(len(full))
		st.entities += float64(len(views[i].Entities))
		for _, e := range views[i].Entities {
			if j := views[i-1].Find(e.ID); j < 0 || views[i-1].Entities[j] != e {
				st.changed++
			}
		}
	}
	slices.Sort(sizes)
	for _, s := range sizes {
		st.mean += s
	}
	n := float64(len(sizes))
	st.mean /= n
	st.entities /= n
	st.changed /= n
	st.full /= n
	st.p50 = sizes[len(sizes)/2]
	st.p99 = sizes[len(sizes)*99/100]
	st.max = sizes[len(sizes)-1]
	return st
}

// TestBytesPerClientTick measures what one observer on the busiest tile is
// sent per tick against a one-tick-old baseline, for each scenario, and
// checks every delta decodes back to the sender's view. combat100 with the
// tile-and-neighbours view must stay under the 1 KB hard ceiling.
func TestBytesPerClientTick(t *testing.T) {
	cases := []struct {
		scenario string
		warm, n  int
		in       Interest
		ceiling  float64
	}{
		{"combat100", 300, 600, TileInterest(), 1024},
		{"combat100", 300, 300, DefaultInterest(), 0},
		{"cubes901", 300, 600, DefaultInterest(), 0},
		{"crowd10k", 100, 60, TileInterest(), 0},
	}
	for _, tc := range cases {
		w, views := frames(t, tc.scenario, tc.warm, tc.n, tc.in)
		st := deltaSizes(t, w, views)
		t.Logf("%-9s radius %v: %.0f entities in view, %.1f changed per tick; delta bytes mean %.1f p50 %.0f p99 %.0f max %.0f; full snapshot %.0f",
			tc.scenario, tc.in.Radius, st.entities, st.changed, st.mean, st.p50, st.p99, st.max, st.full)
		if tc.ceiling > 0 && st.p99 > tc.ceiling {
			t.Errorf("%s: p99 %.0f bytes per client per tick, ceiling %.0f", tc.scenario, st.p99, tc.ceiling)
		}
		if st.entities == 0 {
			t.Errorf("%s: empty view: the observer sees nothing", tc.scenario)
		}
	}
}

func TestSchemaMatchesGameRanges(t *testing.T) {
	w, err := New(fleet.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ship := w.Schema.Kind(KindShip)
	if ship.Name != "ship" || len(ship.Fields) != ShipBY+1 {
		t.Fatalf("ship kind: %+v", ship)
	}
	// A ship at the world's corner, full speed, every status bit: encodes.
	r := fleet.DefaultConfig().WorldRadius
	s := fleet.Ship{ID: 1, Team: fleet.NumTeams - 1, Class: fleet.NumClasses - 1, Pos: sim.Vec2{X: r, Y: -r},
		Vel: sim.Vec2{X: fleet.MaxShipSpeed, Y: -fleet.MaxShipSpeed}, Heading: 65535, Hull: fleet.MaxHull,
		Shield: fleet.MaxShield, Status: 1<<fleet.NumStatusBits - 1}
	c := codec.NewCodec(w.Schema)
	for tier := range uint8(codec.NumLODs) {
		v := codec.View{Entities: []codec.Entity{w.ship(&s, tier)}}
		if _, err := c.AppendFull(make([]byte, 0, 256), &v); err != nil {
			t.Errorf("tier %d: extreme ship does not encode: %v", tier, err)
		}
	}
}

// TestSmallWorldsHaveAValidSchema: every world the game accepts gets a
// schema, however narrow its position fields.
func TestSmallWorldsHaveAValidSchema(t *testing.T) {
	tested := 0
	for _, r := range []int64{1, 2, 7, 8, 9, 100, 8192, 1 << 20} {
		cfg := fleet.DefaultConfig()
		cfg.WorldRadius = sim.FromInt(r)
		cfg.TileSize = sim.FromInt(max(1, min(64, r)))
		if err := cfg.Validate(); err != nil {
			continue
		}
		tested++
		if _, err := New(cfg); err != nil {
			t.Errorf("world radius %d: %v", r, err)
		}
	}
	if tested < 4 {
		t.Fatalf("only %d world sizes passed fleet's validation; the test checks too little", tested)
	}
}
