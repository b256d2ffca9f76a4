package server

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortFront leaves keys[:to] equal to the first to keys of the fully
// sorted slice, for every prefix and extension, with duplicates too.
func TestSortFront(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		n := rng.IntN(300)
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = rng.Uint64N(uint64(1 + rng.IntN(1000)))
		}
		want := slices.Clone(keys)
		slices.Sort(want)
		from := 0
		for from < n {
			to := from + 1 + rng.IntN(n)
			got := sortFront(keys, from, to)
			if got != min(to, n) || !slices.Equal(keys[:got], want[:got]) {
				t.Fatalf("round %d: sortFront(%d, %d) = %d: %v, want %v", round, from, to, got, keys[:got], want[:min(to, n)])
			}
			from = got
		}
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("round %d: keys lost or changed", round)
		}
	}
}
