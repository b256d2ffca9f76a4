package codec

import (
	"math/rand/v2"
	"testing"
)

// priceOf sums a snapshot of v against base (nil: full) from the price
// list, walking both views in id order as the encoder does.
func priceOf(c *Codec, base, v *View) int {
	var old []Entity
	if base != nil {
		old = base.Entities
	}
	bits, records, prev, j := 0, 0, int64(-1), 0
	remove := func(id uint32) {
		bits += IDBits(id, prev) + RemoveBits
		prev = int64(id)
		records++
	}
	for i := range v.Entities {
		e := &v.Entities[i]
		for j < len(old) && old[j].ID < e.ID {
			remove(old[j].ID)
			j++
		}
		var b *Entity
		if j < len(old) && old[j].ID == e.ID {
			b = &old[j]
			j++
		}
		if n := c.EntityBits(b, e, base != nil); n > 0 {
			bits += IDBits(e.ID, prev) + n
			prev = int64(e.ID)
			records++
		}
	}
	for ; j < len(old); j++ {
		remove(old[j].ID)
	}
	return bits + c.FrameBits(records, v)
}

// The price list adds up to MeasureDelta exactly: full snapshots, deltas
// over a moving world (updates, tier changes, removals, additions, events)
// and an unchanged view.
func TestPriceEqualsMeasure(t *testing.T) {
	s := testSchema(t)
	c := NewCodec(s)
	rng := rand.New(rand.NewPCG(11, 12))
	for round := range 300 {
		base := randomView(rng, s, rng.IntN(200))
		v := mutate(rng, s, base)
		for _, pair := range [][2]*View{{nil, base}, {base, v}, {base, base}} {
			want, err := c.MeasureDelta(pair[0], pair[1])
			if err != nil {
				t.Fatal(err)
			}
			if got := priceOf(c, pair[0], pair[1]); got != want {
				t.Fatalf("round %d (delta %v): priced %d bits, measured %d", round, pair[0] != nil, got, want)
			}
		}
	}
}

// IDBits covers each tier's edges: d = 0, 1..8, 9..40, 41..296 and more.
func TestIDBits(t *testing.T) {
	for _, tt := range []struct {
		id   uint32
		prev int64
		want int
	}{
		{0, -1, 1}, {5, 4, 1}, {6, 4, 5}, {13, 4, 5}, {14, 4, 8}, {45, 4, 8},
		{46, 4, 12}, {301, 4, 12}, {302, 4, 36}, {1<<32 - 1, -1, 36},
	} {
		if got := IDBits(tt.id, tt.prev); got != tt.want {
			t.Errorf("IDBits(%d, %d) = %d, want %d", tt.id, tt.prev, got, tt.want)
		}
	}
}
