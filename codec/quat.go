package codec

import (
	"fmt"
	"math"
	"math/bits"
)

// quatH31 is floor(2^31/√2) = floor(2^30.5): the limit 1/√2 of the
// smallest-three components in Q31. The component grid is built on it, so
// the grid's outermost points are ±quatH31/2^31 (1/√2 less under 2^-31).
const quatH31 = 1518500249

// QuatQuantizer packs a rotation quaternion into one wire value with the
// smallest-three scheme. The component of largest magnitude is dropped
// (lowest index on ties) and the quaternion is negated if that component is
// negative (q and -q are the same rotation). The other three lie within
// [-1/√2, 1/√2]; each is sent on a symmetric grid of 2S+1 points with
// S = 2^(Bits-1)-1, that is k·(1/√2)/S for k in [-S, S], as the code k+S.
// Zero and ±1/√2 are on the grid; the code 2^Bits-1 is never produced and
// reads as 2^Bits-2.
//
// Layout of the packed uint32, least significant bits first:
//
//	[index of the dropped component] (2 bits: 0=x 1=y 2=z 3=w)
//	[first remaining component code] (Bits bits)
//	[second remaining component code] (Bits bits)
//	[third remaining component code] (Bits bits)
//
// The remaining components keep their x, y, z, w order. The packed value
// takes 2+3·Bits bits. For Bits <= 9 the wire value is the packed value, in
// [0, 2^(2+3·Bits)-1]. For Bits = 10 it takes all 32 bits: the wire value is
// the packed uint32 reinterpreted as an int32 and Range is the whole int32
// range (a 32-bit field; Stream.Int handles the span 2^32-1).
//
// Dequantize rebuilds the dropped component as the integer square root of
// 1 minus the sum of squares of the three others (computed in Q62, clamped
// at 0), then raises it if needed so that it is again the largest in
// magnitude under the tie rule. Hence Quantize(Dequantize(v)) == v for every
// v whose codes are all below 2^Bits-1: decoding and re-encoding is stable.
//
// Error bound. Let q be the input with |x²+y²+z²+w² - 1| <= 16·2^-FracBits
// (in real terms; this holds for any unit quaternion rounded per component
// to FracBits bits and for the output of a reasonable fixed-point
// normalization), and let q' be q or -q with its largest component positive.
// Then every component of Dequantize(Quantize(q)) is within MaxError() raw
// units of the same component of q'. Derivation, with u = 2^-FracBits and
// the grid half step e = (1/√2)/(2S):
//
//   - Each sent component is off by at most e from the grid (the clamp to
//     ±1/√2 costs less than that, as FracBits >= Bits+4), plus under 2^-31
//     for the Q31 grid value and u/2 for rounding the output to FracBits
//     bits: Es = floor(e/u + 1/2 + 2^(FracBits-31)) raw units.
//   - The rebuilt component L' = √(1-Σâ²) against the true L = q'_i:
//     |L'²-L²| <= Δ = η + 2eΣ|q_j| + 3e², with η = 16u the norm slack and
//     Σ|q_j| <= 3/2 + 20u (each |q_j| <= L, Σq² <= 1+η). L >= Lmin =
//     √((1-η)/4) as L is the largest of four, so
//     |L'-L| <= Lmin - √(Lmin²-Δ) ≈ Δ (when Δ < Lmin²; otherwise only the
//     trivial bound One+2 holds), plus 1 for the square-root floor and the
//     output rounding: Er raw units. The raise to the largest magnitude
//     moves L' toward L or leaves it within Es+1 of it.
//   - MaxError() = max(Er, Es+1), computed in integer arithmetic with every
//     rounding taken outward.
//
// For FracBits = 16 the bounds (raw units; 65536 = 1.0) are:
//
//	Bits   8: sent 182, all (MaxError) 587
//	Bits   9: sent  91, all (MaxError) 307
//	Bits  10: sent  45, all (MaxError) 169
//
// so the rebuilt component is three to four times worse than the sent
// ones; its worst case is near (½, ½, ½, ½). The tests reach the sent bound
// exactly and come within 85% of the rebuilt one.
type QuatQuantizer struct {
	FracBits uint8 // fractional bits of the components (16 for the sim); Bits+4..30
	Bits     uint8 // bits per sent component, 2..10
}

// Validate reports whether 2 <= Bits <= 10 and Bits+4 <= FracBits <= 30.
func (q QuatQuantizer) Validate() error {
	if q.Bits < 2 || q.Bits > 10 {
		return fmt.Errorf("codec: quaternion quantizer: %d bits per component, want 2..10: %w", q.Bits, ErrQuantBits)
	}
	if q.FracBits < q.Bits+4 || q.FracBits > 30 {
		return fmt.Errorf("codec: quaternion quantizer: %d fraction bits, want %d..30: %w", q.FracBits, q.Bits+4, ErrQuantFracBits)
	}
	return nil
}

// steps returns S: the grid has the points k/S·(1/√2) for k in [-S, S].
// Bits is clamped to 2..10 here so that an invalid quantizer never divides
// by zero or overflows.
func (q QuatQuantizer) steps() int64 { return int64(1)<<(min(max(q.Bits, 2), 10)-1) - 1 }

// shift is the number of bits between Q31 and the components' fixed point.
func (q QuatQuantizer) shift() uint { return 31 - uint(min(q.FracBits, 31)) }

// Range returns the inclusive wire range: [0, 2^(2+3·Bits)-1], or the whole
// int32 range for Bits = 10.
func (q QuatQuantizer) Range() (min, max int32) {
	n := 2 + 3*uint(q.Bits)
	if n >= 32 {
		return math.MinInt32, math.MaxInt32
	}
	return 0, int32(1)<<n - 1
}

// Quantize returns the wire value of the quaternion (x, y, z, w), given in
// fixed point with FracBits fractional bits and assumed (nearly) unit length.
// Any input is accepted: components are clamped to [-One, One] after the
// largest is chosen, and the sent ones to ±1/√2.
func (q QuatQuantizer) Quantize(x, y, z, w int64) int32 {
	c := [4]int64{x, y, z, w}
	idx, best := 0, quatAbs(x)
	for i := 1; i < 4; i++ {
		if a := quatAbs(c[i]); a > best {
			idx, best = i, a
		}
	}
	neg := c[idx] < 0
	one := int64(1) << q.FracBits
	s := q.steps()
	sh := q.shift()
	packed := uint32(idx)
	pos := uint(2)
	for i := range 4 {
		if i == idx {
			continue
		}
		v := min(max(c[i], -one), one)
		if neg {
			v = -v
		}
		v31 := min(max(v<<sh, -quatH31), quatH31)
		k := quatRoundDiv(v31*s, quatH31)
		packed |= uint32(k+s) << pos
		pos += uint(q.Bits)
	}
	return int32(packed)
}

// Dequantize returns the quaternion of the wire value v in fixed point with
// FracBits fractional bits. Every int32 is accepted (bits above 2+3·Bits are
// ignored); every component is within [-One, One] and the dropped one is
// positive and the largest in magnitude.
func (q QuatQuantizer) Dequantize(v int32) (x, y, z, w int64) {
	u := uint32(v)
	idx := int(u & 3)
	s := q.steps()
	sh := q.shift()
	mask := uint32(1)<<q.Bits - 1
	// The grid step (1/√2)/S in Q31 with 20 more fraction bits: one division
	// instead of three. Its rounding moves a grid value by under S/2^21 < 2^-11
	// Q31 units.
	step := (quatH31<<20 + s/2) / s
	var c [4]int64
	var sum uint64 // Σ of the squared Q31 components, in Q62
	pos := uint(2)
	for i := range 4 {
		if i == idx {
			continue
		}
		k := min(int64(u>>pos&mask), 2*s) - s
		a31 := quantRoundShift(k*step, 20)
		sum += uint64(a31 * a31)
		c[i] = quantRoundShift(a31, sh)
		pos += uint(q.Bits)
	}
	var l31 uint64
	if sum < 1<<62 {
		l31 = quatIsqrt(1<<62 - sum)
	}
	l := int64((l31 + uint64(1)<<sh>>1) >> sh)
	// Keep the rebuilt component the largest under the lowest-index tie rule,
	// so that re-quantizing picks the same index.
	for i := range 4 {
		if i == idx {
			continue
		}
		a := quatAbs(c[i])
		if i < idx {
			a++
		}
		l = max(l, int64(a))
	}
	c[idx] = l
	return c[0], c[1], c[2], c[3]
}

// sentError is the bound Es, in raw units, on the error of the three sent
// components (see the type's doc).
func (q QuatQuantizer) sentError() int64 {
	s := q.steps()
	sh := q.shift()
	return (quatH31 + s<<sh + 2*s) / (s << (sh + 1))
}

// MaxError returns the per-component error bound of a round trip, in raw
// fixed-point units, for inputs within the norm slack stated in the type's
// doc. It holds for the rebuilt component as well as the three sent ones
// (whose own bound Es is a quarter to a third of it).
func (q QuatQuantizer) MaxError() int64 {
	s := uint64(q.steps())
	sh := q.shift()
	f := uint(q.FracBits)
	es := q.sentError()
	e31 := (quatH31+2*s-1)/(2*s) + 1 // e in Q31, rounded up
	u62 := uint64(1) << (62 - f)     // one raw unit in Q62
	delta := 31*u62 + 3*e31<<31 + 3*e31*e31
	lmin2 := uint64(1)<<60 - 4*u62 // (1-16u)/4 in Q62
	er := int64(1)<<f + 2
	if delta < lmin2 {
		d31 := quatIsqrt(lmin2) + 1 - quatIsqrt(lmin2-delta)
		er = int64((d31+uint64(1)<<sh-1)>>sh) + 1
	}
	return max(er, es+1)
}

// QuantizeFloat returns the wire value of the quaternion (x, y, z, w): each
// component is rounded to FracBits fractional bits (NaN becomes 0) and the
// result quantized with Quantize. For a unit quaternion r, every component of
// DequantizeFloat(QuantizeFloat(r)) is within (MaxError()+1/2)·2^-FracBits
// of r or of -r.
func (q QuatQuantizer) QuantizeFloat(x, y, z, w float64) int32 {
	return q.Quantize(q.toFixed(x), q.toFixed(y), q.toFixed(z), q.toFixed(w))
}

// DequantizeFloat returns Dequantize(v) converted exactly to float64.
func (q QuatQuantizer) DequantizeFloat(v int32) (x, y, z, w float64) {
	a, b, c, d := q.Dequantize(v)
	one := float64(int64(1) << q.FracBits)
	return float64(a) / one, float64(b) / one, float64(c) / one, float64(d) / one
}

// toFixed rounds x to FracBits fractional bits, clamped to ±2 (NaN is 0).
func (q QuatQuantizer) toFixed(x float64) int64 {
	if math.IsNaN(x) {
		return 0
	}
	lim := float64(int64(2) << q.FracBits)
	return int64(min(max(math.Round(x*float64(int64(1)<<q.FracBits)), -lim), lim))
}

// quatAbs returns |v| as an unsigned value, exact for every int64.
func quatAbs(v int64) uint64 {
	if v < 0 {
		return -uint64(v)
	}
	return uint64(v)
}

// quatRoundDiv returns n/d rounded to the nearest integer, ties away from
// zero, for d > 0 and |n| < 2^62.
func quatRoundDiv(n, d int64) int64 {
	if n < 0 {
		return -((-2*n + d) / (2 * d))
	}
	return (2*n + d) / (2 * d)
}

// quatIsqrt returns floor(√n) by Newton's iteration from above. The start
// is the tangent to √t at t = 9/4 for n = 4^k·t, t in [1, 4): it lies above
// the concave √ and is within 9% of it, so a few steps suffice.
func quatIsqrt(n uint64) uint64 {
	if n < 16 {
		r := uint64(0)
		for (r+1)*(r+1) <= n {
			r++
		}
		return r
	}
	k := uint(bits.Len64(n)-1) / 2
	x := (n>>k + 9<<(k-2)) / 3 // floor of the tangent value, >= floor(√n)
	for {
		y := (x + n/x) >> 1
		if y >= x {
			return x
		}
		x = y
	}
}
