package sim

import (
	"encoding/binary"
	"errors"
	"testing"
)

// counterGame applies actions of Kind 1 by adding Args[0] to a total and
// fizzles everything else with ReasonUnknownKind.
type counterGame struct {
	total int64
	steps uint32
	rng   Rand
}

func (g *counterGame) Apply(a *Action) (Status, uint8) {
	if a.Kind != 1 {
		return StatusFizzled, ReasonUnknownKind
	}
	g.total += int64(a.Args[0])
	return StatusApplied, ReasonNone
}

func (g *counterGame) Step(frame uint32) { g.steps++; g.rng.Uint64() }

func (g *counterGame) AppendState(b []byte) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(g.total))
	b = binary.LittleEndian.AppendUint32(b, g.steps)
	return binary.LittleEndian.AppendUint64(b, g.rng.State)
}

func TestWorldStepResultsAndFrames(t *testing.T) {
	g := &counterGame{}
	w := NewWorld(g)
	if w.Frame() != 0 {
		t.Fatal("fresh world not at frame 0")
	}
	acts := []Action{
		{Frame: 1, Client: 2, Seq: 1, Kind: 1, Args: [4]int32{5}},
		{Frame: 2, Client: 1, Seq: 7, Kind: 1, Args: [4]int32{100}},
		{Frame: 1, Client: 1, Seq: 3, Kind: 9},
		{Frame: 1, Client: 1, Seq: 2, Kind: 1, Args: [4]int32{3}},
	}
	res, err := w.Step(1, acts, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{Client: 1, Seq: 2, Status: StatusApplied},
		{Client: 1, Seq: 3, Status: StatusFizzled, Reason: ReasonUnknownKind},
		{Client: 2, Seq: 1, Status: StatusApplied},
		{Client: 1, Seq: 7, Status: StatusFizzled, Reason: ReasonWrongFrame},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d", len(res), len(want))
	}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, res[i], want[i])
		}
	}
	if g.total != 8 || g.steps != 1 || w.Frame() != 1 {
		t.Errorf("total %d steps %d frame %d", g.total, g.steps, w.Frame())
	}
	h := w.Hash()
	for _, f := range []uint32{1, 3, 0} {
		if _, err := w.Step(f, nil, nil); !errors.Is(err, ErrFrameOrder) {
			t.Errorf("Step(%d) after frame 1: err %v", f, err)
		}
	}
	if w.Frame() != 1 || w.Hash() != h || g.steps != 1 {
		t.Error("a refused step changed the world")
	}
	if _, err := w.Step(2, nil, nil); err != nil || w.Hash() == h {
		t.Errorf("frame 2: err %v, hash unchanged %v", err, w.Hash() == h)
	}
}

func TestWorldStepAndHashDoNotAllocate(t *testing.T) {
	w := NewWorld(&counterGame{})
	acts := make([]Action, 8)
	res := make([]Result, 0, 8)
	allocs := testing.AllocsPerRun(100, func() {
		f := w.Frame() + 1
		for i := range acts {
			acts[i] = Action{Frame: f, Client: uint32(8 - i), Kind: 1, Args: [4]int32{1}}
		}
		var err error
		if res, err = w.Step(f, acts, res[:0]); err != nil {
			t.Fatal(err)
		}
		w.Hash()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per Step+Hash", allocs)
	}
}
