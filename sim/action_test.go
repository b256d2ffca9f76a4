package sim

import (
	"slices"
	"testing"
)

func TestSortActionsOrder(t *testing.T) {
	want := []Action{
		{Frame: 1, Origin: 0, Client: 9, Seq: 9},
		{Frame: 2, Origin: 0, Client: 1, Seq: 5},
		{Frame: 2, Origin: 0, Client: 2, Seq: 1},
		{Frame: 2, Origin: 0, Client: 2, Seq: 2},
		{Frame: 2, Origin: 1, Client: 0, Seq: 0},
		{Frame: 2, Origin: 1, Client: 0, Seq: 0, Kind: 1, Args: [4]int32{-5}},
		{Frame: 2, Origin: 1, Client: 0, Seq: 0, Kind: 1},
		{Frame: 2, Origin: 1, Client: 0, Seq: 0, Kind: 1, Args: [4]int32{0, 1}},
		{Frame: 3},
	}
	r := NewRand(1)
	for range 50 {
		got := slices.Clone(want)
		for i := len(got) - 1; i > 0; i-- {
			j := r.Intn(i + 1)
			got[i], got[j] = got[j], got[i]
		}
		SortActions(got)
		if !slices.Equal(got, want) {
			t.Fatalf("sorted to %v", got)
		}
	}
	a := slices.Clone(want)
	if n := testing.AllocsPerRun(100, func() { SortActions(a) }); n != 0 {
		t.Errorf("SortActions allocates %.1f", n)
	}
}
