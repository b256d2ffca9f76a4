package fleet

import (
	"strings"
	"testing"

	"github.com/flotilla/flotilla/sim"
)

func mustScenario(t testing.TB, name string, seed uint64) *Scenario {
	t.Helper()
	s, err := NewScenario(name, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stepN(t testing.TB, s *Scenario, n int) {
	t.Helper()
	for range n {
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnknownScenarioListsNames(t *testing.T) {
	_, err := NewScenario("nope", 1)
	if err == nil {
		t.Fatal("no error")
	}
	for _, n := range ScenarioNames() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %s", err, n)
		}
	}
}

func hashes(t *testing.T, name string, seed uint64, frames, every int) []uint64 {
	s := mustScenario(t, name, seed)
	var out []uint64
	for f := 1; f <= frames; f++ {
		stepN(t, s, 1)
		if f%every == 0 {
			out = append(out, s.World.Hash())
		}
	}
	return out
}

func TestScenarioDeterminismInProcess(t *testing.T) {
	for _, name := range ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			frames := 300
			if name == "crowd10k" {
				frames = 60
			}
			a := hashes(t, name, 7, frames, 10)
			b := hashes(t, name, 7, frames, 10)
			c := hashes(t, name, 8, frames, 10)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("same seed diverged at sample %d", i)
				}
			}
			if a[len(a)-1] == c[len(c)-1] {
				t.Fatal("different seeds gave the same final hash")
			}
		})
	}
}

func TestCombat100Sanity(t *testing.T) {
	s := mustScenario(t, "combat100", 3)
	stepN(t, s, 200) // warm up: the first spells start
	const frames = 600
	active, events := 0, 0
	for range frames {
		stepN(t, s, 1)
		for i := range s.Game.Ships() {
			if s.Game.Ships()[i].Active {
				active++
			}
		}
		events += len(s.Game.Events())
	}
	avg := active / frames
	t.Logf("active ships per frame %d, events per frame %.1f", avg, float64(events)/frames)
	if avg < 60 || avg > 140 {
		t.Errorf("average active ships %d, want 60..140", avg)
	}
	if events < 2*frames {
		t.Errorf("%d events in %d frames, want several per frame", events, frames)
	}
	if n := len(s.Game.Ships()); n != 1000 {
		t.Errorf("%d ships", n)
	}
}

func TestCubes901Sanity(t *testing.T) {
	s := mustScenario(t, "cubes901", 3)
	start := append([]Body(nil), s.Game.Bodies()...)
	const frames = 1200
	mostly := 0
	for range frames {
		stepN(t, s, 1)
		resting := 0
		for _, b := range s.Game.Bodies() {
			if b.Resting {
				resting++
			}
		}
		if resting >= 850 {
			mostly++
		}
	}
	moved, turned := 0, 0
	for i, b := range s.Game.Bodies()[:900] {
		if b.Pos != start[i].Pos {
			moved++
		}
		if b.Rot != start[i].Rot {
			turned++
		}
	}
	t.Logf("frames with >= 850 resting: %d/%d; cubes moved %d, turned %d", mostly, frames, moved, turned)
	if mostly < frames*3/4 {
		t.Errorf("only %d of %d frames had >= 850 bodies resting", mostly, frames)
	}
	if moved == 0 || turned == 0 {
		t.Errorf("moved %d turned %d, want some", moved, turned)
	}
}

func TestCrowd10kSanity(t *testing.T) {
	s := mustScenario(t, "crowd10k", 3)
	stepN(t, s, 30)
	ships := s.Game.Ships()
	if len(ships) != 10000 {
		t.Fatalf("%d ships", len(ships))
	}
	hot := 0
	for i := range ships {
		if sim.HexDistance(ships[i].Tile, sim.Hex{}) <= 1 {
			hot++
		}
	}
	t.Logf("ships in the 7 hot tiles: %d", hot)
	if hot < 3000 || hot > 4000 {
		t.Errorf("%d ships in the hot tiles, want 30-40%%", hot)
	}
}

func TestScenarioStepAllocs(t *testing.T) {
	s := mustScenario(t, "combat100", 5)
	stepN(t, s, 400)
	allocs := testing.AllocsPerRun(200, func() {
		if err := s.Step(); err != nil {
			t.Fatal(err)
		}
		s.World.Hash()
	})
	if allocs != 0 {
		t.Errorf("Step+Hash allocates %.2f per frame", allocs)
	}
}

func benchScenario(b *testing.B, name string) {
	s := mustScenario(b, name, 1)
	stepN(b, s, 300)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Step(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStepCombat100(b *testing.B) { benchScenario(b, "combat100") }
func BenchmarkStepCubes901(b *testing.B)  { benchScenario(b, "cubes901") }
func BenchmarkStepCrowd10k(b *testing.B)  { benchScenario(b, "crowd10k") }

func BenchmarkHashCombat100(b *testing.B) {
	s := mustScenario(b, "combat100", 1)
	stepN(b, s, 300)
	b.ReportAllocs()
	for b.Loop() {
		s.World.Hash()
	}
}
