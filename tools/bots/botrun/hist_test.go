package botrun

import (
	"math"
	"testing"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/flotilla/flotilla/sim/fleet"
)

// Every value lands in the bucket whose upper end is the first at or above
// it, buckets are contiguous, and no bucket is wider than its promise.
func TestHistogramBuckets(t *testing.T) {
	for _, sub := range []uint{6, 11} {
		h := newHistogram(sub, 1<<24)
		prev := -1
		for v := uint64(0); v <= 1<<20; v += 1 + v/4096 {
			i := h.index(v)
			if i < prev {
				t.Fatalf("sub %d: index(%d) = %d after %d", sub, v, i, prev)
			}
			prev = i
			up := h.upper(i)
			if v > up || (i > 0 && v <= h.upper(i-1)) {
				t.Fatalf("sub %d: %d in bucket %d (%d, %d]", sub, v, i, h.upper(i-1), up)
			}
			if v >= 1<<sub && float64(up-v) > float64(v)/float64(uint64(1)<<(sub-1)) {
				t.Fatalf("sub %d: bucket of %d up to %d: wider than promised", sub, v, up)
			}
			if v < 1<<sub && up != v {
				t.Fatalf("sub %d: %d not exact", sub, v)
			}
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	h := newSizeHistogram()
	if h.quantile(0.5) != 0 {
		t.Error("empty histogram")
	}
	for v := uint64(1); v <= 100; v++ {
		h.add(v)
	}
	h.add(9000) // over the max: counts as MaxDatagram
	o := newSizeHistogram()
	o.add(1)
	h.merge(o)
	// 102 values: 1, 1, 2..100, 1500.
	for q, want := range map[float64]uint64{0.01: 1, 0.5: 50, 0.99: 100, 1: 1500} {
		if got := h.quantile(q); got != want {
			t.Errorf("q%.2f = %d, want %d", q, got, want)
		}
	}
	l := newLatencyHistogram()
	for i := range 1000 {
		l.add(uint64(1000 + i*100)) // 1 ms .. 100.9 ms
	}
	if got, exact := float64(l.quantile(0.99)), 1000.0+989*100; got < exact || got > exact*1.032 {
		t.Errorf("latency p99 %v, exact %v", got, exact)
	}
}

// The bot reads positions at every detail and picks the nearest ship of
// another team, never its own.
func TestNearestEnemy(t *testing.T) {
	w, err := demowire.New(fleet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ship := func(id uint32, lod uint8, team int32, x, y float64) codec.Entity {
		e := codec.Entity{ID: id, Kind: demowire.KindShip, LOD: lod}
		e.V[demowire.ShipTeam] = team
		switch lod {
		case codec.LODFull, codec.LODMedium:
			e.V[demowire.ShipX], e.V[demowire.ShipY] = w.Pos.QuantizeFloat(x), w.Pos.QuantizeFloat(y)
		case codec.LODLow:
			e.V[demowire.ShipLX], e.V[demowire.ShipLY] = w.PosLow.QuantizeFloat(x), w.PosLow.QuantizeFloat(y)
		default:
			e.V[demowire.ShipBX], e.V[demowire.ShipBY] = w.PosLow.QuantizeFloat(x)>>4, w.PosLow.QuantizeFloat(y)>>4
		}
		return e
	}
	v := codec.View{Entities: []codec.Entity{
		ship(1, codec.LODFull, 0, 0, 0), // self
		ship(2, codec.LODFull, 0, 5, 0), // a friend, nearest
		ship(3, codec.LODLow, 1, 300, 0),
		ship(4, codec.LODMedium, 2, 0, -40.5),
		ship(5, codec.LODBlip, 1, 1000, 1000),
		{ID: 6, Kind: demowire.KindTorpedo},
	}}
	id, x, y, d := nearestEnemy(w, &v, &v.Entities[0])
	if id != 4 || x != 0 || y != -40.5 || math.Abs(d-40.5) > 1e-9 {
		t.Errorf("nearest enemy %d at (%v, %v), %v away", id, x, y, d)
	}
	if x, y := position(w, &v.Entities[2]); x != 300 || y != 0 {
		t.Errorf("low detail at (%v, %v)", x, y)
	}
	if x, y := position(w, &v.Entities[4]); math.Abs(x-1000) > 8 || math.Abs(y-1000) > 8 {
		t.Errorf("blip at (%v, %v)", x, y)
	}
	v.Entities = v.Entities[:3]
	v.Entities[2].V[demowire.ShipTeam] = 0
	if id, _, _, _ := nearestEnemy(w, &v, &v.Entities[0]); id != 0 {
		t.Errorf("enemy %d among friends", id)
	}
}
