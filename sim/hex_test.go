package sim

import (
	"math"
	"testing"
)

// hexOfFloat is the textbook floating-point cube rounding.
func hexOfFloat(x, y, size float64) (q, r int32, margin float64) {
	fq := (math.Sqrt(3)/3*x - y/3) / size
	fr := (2.0 / 3 * y) / size
	fs := -fq - fr
	rq, rr, rs := math.Round(fq), math.Round(fr), math.Round(fs)
	dq, dr, ds := math.Abs(rq-fq), math.Abs(rr-fr), math.Abs(rs-fs)
	if dq > dr && dq > ds {
		rq = -rr - rs
	} else if dr > ds {
		rr = -rq - rs
	}
	// margin: how far the point is from a tie, in cube units.
	ds3 := []float64{dq, dr, ds}
	m := math.Min(math.Abs(ds3[0]-ds3[1]), math.Min(math.Abs(ds3[1]-ds3[2]), math.Abs(ds3[0]-ds3[2])))
	m = math.Min(m, math.Min(math.Abs(dq-0.5), math.Min(math.Abs(dr-0.5), math.Abs(ds-0.5))))
	return int32(rq), int32(rr), m
}

func TestSqrt3Constant(t *testing.T) {
	if d := math.Abs(float64(sqrt3Q32)/(1<<32) - math.Sqrt(3)); d > 1e-9 {
		t.Errorf("sqrt3Q32 off by %v", d)
	}
}

func TestHexOfMatchesFloatReference(t *testing.T) {
	r := NewRand(5)
	for _, size := range []Fixed{FromInt(64), FromInt(1), FromInt(7) / 3} {
		for range 100000 {
			p := Vec2{Fixed(r.Range(-1<<30, 1<<30)), Fixed(r.Range(-1<<30, 1<<30))}
			got := HexOf(p, size)
			q, rr, margin := hexOfFloat(float64(p.X)/65536, float64(p.Y)/65536, float64(size)/65536)
			if (got != Hex{q, rr}) && margin > 4/float64(size) { // a few raw units from a tie
				t.Fatalf("HexOf(%v, %d) = %v, float reference (%d,%d), margin %v", p, size, got, q, rr, margin)
			}
		}
	}
}

func TestHexOfCentersAndEdges(t *testing.T) {
	size := FromInt(64)
	for q := int32(-40); q <= 40; q++ {
		for r := int32(-40); r <= 40; r++ {
			h := Hex{q, r}
			c := h.Center(size)
			if got := HexOf(c, size); got != h {
				t.Fatalf("HexOf(Center(%v)) = %v", h, got)
			}
			// Corner points are shared by three tiles; each must map to one
			// of them, and the same one every time.
			corner := Vec2{c.X, c.Y + size}
			a := HexOf(corner, size)
			if HexDistance(a, h) > 1 || HexOf(corner, size) != a {
				t.Fatalf("corner of %v mapped to %v", h, a)
			}
		}
	}
	// Exact ties on the horizontal axis between tiles (0,0) and (1,-1)/(0,-1)...
	if got := HexOf(Vec2{0, -size / 2 * 3 / 2}, size); got != (Hex{0, 0}) && got != (Hex{0, -1}) && got != (Hex{1, -1}) {
		t.Errorf("edge point mapped to %v", got)
	}
}

func TestHexNeighborsDistanceRange(t *testing.T) {
	h := Hex{3, -7}
	n := h.Neighbors()
	want := [6]Hex{{4, -7}, {4, -8}, {3, -8}, {2, -7}, {2, -6}, {3, -6}}
	if n != want {
		t.Errorf("Neighbors = %v", n)
	}
	for _, x := range n {
		if HexDistance(h, x) != 1 {
			t.Errorf("neighbour %v at distance %d", x, HexDistance(h, x))
		}
	}
	if HexDistance(Hex{0, 0}, Hex{3, -1}) != 3 || HexDistance(Hex{-2, 5}, Hex{1, 1}) != 4 {
		t.Error("HexDistance")
	}
	for n, want := range []int{1, 7, 19, 37} {
		got := AppendRange(nil, h, int32(n))
		if len(got) != want || HexRangeCount(int32(n)) != want {
			t.Errorf("range %d: %d tiles, want %d", n, len(got), want)
		}
		if got[0] != h {
			t.Errorf("range %d does not start at the center", n)
		}
		seen := make(map[Hex]bool)
		prev := int32(0)
		for _, x := range got {
			d := HexDistance(h, x)
			if seen[x] || d > int32(n) || d < prev {
				t.Fatalf("range %d: bad tile %v (distance %d after %d, dup %v)", n, x, d, prev, seen[x])
			}
			seen[x] = true
			prev = d
		}
	}
	if (Hex{-1, 2}).Key() == (Hex{2, -1}).Key() || (Hex{-1, 2}).Key() != 0xffffffff00000002 {
		t.Error("Key")
	}
}
