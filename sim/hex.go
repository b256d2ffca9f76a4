package sim

// Hex is a tile in axial coordinates on a pointy-top hex grid. The third cube
// coordinate is S = -Q-R. Tile centers are at
//
//	x = size·√3·(Q + R/2),  y = size·3/2·R
//
// where size is the distance from a center to a corner.
type Hex struct{ Q, R int32 }

// sqrt3Q32 is round(√3 · 2^32).
const sqrt3Q32 = 7439101574

// mulSqrt3 returns floor(v·√3) for a raw Fixed v, with √3 taken as sqrt3Q32/2^32.
func mulSqrt3(v Fixed) int64 {
	hi, lo := mul128(int64(v), sqrt3Q32)
	return shr128(hi, lo, 32)
}

// hexDirs are the axial offsets of the six neighbours, in the order
// Neighbors returns them: E, NE, NW, W, SW, SE (with +R drawn downward).
var hexDirs = [6]Hex{{1, 0}, {1, -1}, {0, -1}, {-1, 0}, {-1, 1}, {0, 1}}

// HexDir returns the axial offset of neighbour direction d (0..5, see Neighbors).
func HexDir(d int) Hex { return hexDirs[d] }

// Add returns the tile h+o in axial coordinates.
func (h Hex) Add(o Hex) Hex { return Hex{h.Q + o.Q, h.R + o.R} }

// Neighbors returns the six adjacent tiles in the fixed order
// (Q+1,R), (Q+1,R-1), (Q,R-1), (Q-1,R), (Q-1,R+1), (Q,R+1).
func (h Hex) Neighbors() [6]Hex {
	var n [6]Hex
	for i, d := range hexDirs {
		n[i] = h.Add(d)
	}
	return n
}

// Key returns a stable 64-bit key: uint32(Q) in the high half, uint32(R) in
// the low half. Distinct tiles have distinct keys.
func (h Hex) Key() uint64 { return uint64(uint32(h.Q))<<32 | uint64(uint32(h.R)) }

// Center returns the center of h for tiles of the given size, each coordinate
// rounded toward negative infinity. HexOf(h.Center(size), size) == h.
func (h Hex) Center(size Fixed) Vec2 {
	return Vec2{
		X: Fixed(FloorDiv(mulSqrt3(size*Fixed(2*int64(h.Q)+int64(h.R))), 2)),
		Y: Fixed(FloorDiv(int64(size)*3*int64(h.R), 2)),
	}
}

// HexOf returns the tile containing p for tiles of the given size (> 0).
//
// It uses cube rounding evaluated exactly in integers: with D = 3·size, the
// fractional cube coordinates are q = (√3x − y)/D, r = 2y/D, s = −q − r
// (√3x rounded down at 2^-32 precision). Each is rounded to the nearest
// integer, halves rounding up, and the coordinate farthest from its rounded
// value is recomputed from the other two. Ties between distances are broken in
// the order q, then r, then s (the first of the tied coordinates in that order
// is kept, the last is recomputed), so points on edges and corners always land
// in the same tile.
func HexOf(p Vec2, size Fixed) Hex {
	d := 3 * int64(size)
	nq := mulSqrt3(p.X) - int64(p.Y)
	nr := 2 * int64(p.Y)
	ns := -nq - nr
	rq, rr, rs := roundDiv(nq, d), roundDiv(nr, d), roundDiv(ns, d)
	dq := absU(nq - rq*d)
	dr := absU(nr - rr*d)
	ds := absU(ns - rs*d)
	switch {
	case dq > dr && dq > ds:
		rq = -rr - rs
	case dr > ds:
		rr = -rq - rs
	}
	return Hex{int32(rq), int32(rr)}
}

// roundDiv returns n/d rounded to the nearest integer, halves up (d > 0).
func roundDiv(n, d int64) int64 { return FloorDiv(2*n+d, 2*d) }

// HexDistance returns the number of steps between a and b.
func HexDistance(a, b Hex) int32 {
	dq, dr := a.Q-b.Q, a.R-b.R
	return (abs32(dq) + abs32(dr) + abs32(dq+dr)) / 2
}

func abs32(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// HexRangeCount returns the number of tiles within distance n: 1+3n(n+1).
func HexRangeCount(n int32) int { return 1 + 3*int(n)*(int(n)+1) }

// AppendRange appends every tile within distance n of center to dst and
// returns the extended slice. The order is a spiral: center first, then ring
// 1, ring 2, ... Ring k starts at center+k·(−1,+1) (the SW corner) and walks
// E, NE, NW, W, SW, SE, k steps each. It appends nothing for n < 0.
func AppendRange(dst []Hex, center Hex, n int32) []Hex {
	if n < 0 {
		return dst
	}
	dst = append(dst, center)
	for k := int32(1); k <= n; k++ {
		h := Hex{center.Q - k, center.R + k}
		for _, d := range hexDirs {
			for j := int32(0); j < k; j++ {
				dst = append(dst, h)
				h = h.Add(d)
			}
		}
	}
	return dst
}
