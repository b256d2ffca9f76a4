package sim

import "math/bits"

// Fixed is a Q47.16 signed fixed-point number: the value is Fixed/65536.
// One unit of game distance is One.
type Fixed int64

const (
	// FracBits is the number of fractional bits of a Fixed.
	FracBits = 16
	// One is the Fixed value 1.0.
	One Fixed = 1 << FracBits
	// Half is the Fixed value 0.5.
	Half Fixed = One / 2
	// MaxFixed is the largest Fixed value.
	MaxFixed Fixed = 1<<63 - 1
	// MinFixed is the smallest Fixed value.
	MinFixed Fixed = -1 << 63
)

// FromInt returns the Fixed value of the integer i. i must be within ±2^47.
func FromInt(i int64) Fixed { return Fixed(i << FracBits) }

// FromFrac returns num/den as a Fixed, rounded toward negative infinity.
// den must not be zero.
func FromFrac(num, den int64) Fixed { return Div(FromInt(num), FromInt(den)) }

// Int returns the integer part of f, rounded toward negative infinity.
func (f Fixed) Int() int64 { return int64(f >> FracBits) }

// Abs returns |f|. Abs(MinFixed) is MaxFixed.
func Abs(f Fixed) Fixed {
	if f < 0 {
		if f == MinFixed {
			return MaxFixed
		}
		return -f
	}
	return f
}

// Min returns the smaller of a and b.
func Min(a, b Fixed) Fixed {
	if a < b {
		return a
	}
	return b
}

// Max returns the larger of a and b.
func Max(a, b Fixed) Fixed {
	if a > b {
		return a
	}
	return b
}

// Clamp returns f limited to [lo, hi]. lo must not exceed hi.
func Clamp(f, lo, hi Fixed) Fixed {
	if f < lo {
		return lo
	}
	if f > hi {
		return hi
	}
	return f
}

// mul128 returns the signed 128-bit product a*b as (hi, lo).
func mul128(a, b int64) (hi int64, lo uint64) {
	h, l := bits.Mul64(uint64(a), uint64(b))
	hi = int64(h)
	if a < 0 {
		hi -= b
	}
	if b < 0 {
		hi -= a
	}
	return hi, l
}

// shr128 returns the signed 128-bit value (hi, lo) shifted right by s
// (0 < s < 64), rounding toward negative infinity, truncated to 64 bits.
func shr128(hi int64, lo uint64, s uint) int64 {
	return int64(uint64(hi)<<(64-s) | lo>>s)
}

// Mul returns a*b rounded toward negative infinity. The product is computed in
// 128 bits, so it is exact before rounding whenever the result fits in a Fixed
// (for example for all operands up to 2^31 units in magnitude).
func Mul(a, b Fixed) Fixed {
	hi, lo := mul128(int64(a), int64(b))
	return Fixed(shr128(hi, lo, FracBits))
}

// MulInt returns f*i. It is exact; the caller keeps the result in range.
func MulInt(f Fixed, i int64) Fixed { return f * Fixed(i) }

// Div returns a/b rounded toward negative infinity. Division by zero
// saturates: it returns MaxFixed for a > 0, MinFixed for a < 0 and 0 for
// a == 0. A quotient that does not fit saturates the same way.
func Div(a, b Fixed) Fixed {
	if b == 0 {
		switch {
		case a > 0:
			return MaxFixed
		case a < 0:
			return MinFixed
		}
		return 0
	}
	neg := (a < 0) != (b < 0)
	ua, ub := absU(int64(a)), absU(int64(b))
	hi, lo := ua>>(64-FracBits), ua<<FracBits
	if hi >= ub {
		if neg {
			return MinFixed
		}
		return MaxFixed
	}
	q, r := bits.Div64(hi, lo, ub)
	if neg {
		if r != 0 {
			q++
		}
		if q > 1<<63 {
			return MinFixed
		}
		return Fixed(-int64(q))
	}
	if q > 1<<63-1 {
		return MaxFixed
	}
	return Fixed(q)
}

// absU returns |v| as an unsigned value; it is exact for every int64.
func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v)
	}
	return uint64(v)
}

// FloorDiv returns a/b rounded toward negative infinity for integers.
// b must not be zero.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Sqrt returns the square root of f, rounded down to the nearest Fixed
// (the exact floor). Negative inputs return 0.
func Sqrt(f Fixed) Fixed {
	if f <= 0 {
		return 0
	}
	// sqrt(f/2^16) * 2^16 = sqrt(f * 2^16): the integer square root of a
	// 128-bit value (f << 16), which fits in 40 bits.
	nhi, nlo := uint64(f)>>(64-FracBits), uint64(f)<<FracBits
	var r uint64
	for bit := uint64(1) << 40; bit != 0; bit >>= 1 {
		c := r | bit
		phi, plo := bits.Mul64(c, c)
		if phi < nhi || (phi == nhi && plo <= nlo) {
			r = c
		}
	}
	return Fixed(r)
}
