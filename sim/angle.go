package sim

import "math/bits"

// Angle is a binary angle: 65536 units make one full turn, so arithmetic on
// Angle wraps around naturally. 0 points along +X and angles grow toward +Y
// (counterclockwise in a Y-up frame).
type Angle uint16

const (
	// QuarterTurn is 90 degrees.
	QuarterTurn Angle = 1 << 14
	// HalfTurn is 180 degrees.
	HalfTurn Angle = 1 << 15
)

// quarterSteps is the number of table steps in a quarter turn.
const quarterSteps = 1 << 14

// halfPiQ60 is floor(π/2 · 2^60).
const halfPiQ60 = 1811004864519280710

// sinTable holds sin(k·π/2/16384) in Q16 for k = 0..16384, rounded to nearest.
var sinTable = buildSinTable()

// buildSinTable evaluates the Taylor series of sine in unsigned Q60 integer
// arithmetic for each table entry independently, so no error accumulates
// across entries. The truncation error of each entry is far below 2^-40.
func buildSinTable() *[quarterSteps + 1]int32 {
	var t [quarterSteps + 1]int32
	for k := uint64(0); k <= quarterSteps; k++ {
		hi, lo := bits.Mul64(halfPiQ60, k)
		x := hi<<50 | lo>>14 // halfPiQ60 * k / 16384
		x2 := mulQ60(x, x)
		term, sum := x, int64(x)
		for n := uint64(1); term != 0; n++ {
			term = mulQ60(term, x2) / ((2 * n) * (2*n + 1))
			if n%2 == 1 {
				sum -= int64(term)
			} else {
				sum += int64(term)
			}
		}
		t[k] = int32((sum + 1<<43) >> 44)
	}
	return &t
}

// mulQ60 multiplies two unsigned Q60 numbers, rounding down.
func mulQ60(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi<<4 | lo>>60
}

// Sin returns the sine of a in Fixed (within ±One), accurate to half a unit
// in the last place.
func Sin(a Angle) Fixed {
	i := uint32(a) & (quarterSteps - 1)
	switch a >> 14 {
	case 0:
		return Fixed(sinTable[i])
	case 1:
		return Fixed(sinTable[quarterSteps-i])
	case 2:
		return -Fixed(sinTable[i])
	default:
		return -Fixed(sinTable[quarterSteps-i])
	}
}

// Cos returns the cosine of a in Fixed (within ±One).
func Cos(a Angle) Fixed { return Sin(a + QuarterTurn) }

// Dir returns the unit vector (Cos(a), Sin(a)).
func Dir(a Angle) Vec2 { return Vec2{Cos(a), Sin(a)} }

// Atan2 returns the angle of the vector (x, y), the integer counterpart of
// math.Atan2(y, x). It is exact to within one Angle unit. Atan2(0, 0) is 0.
func Atan2(y, x Fixed) Angle {
	if x == 0 && y == 0 {
		return 0
	}
	ax, ay := absU(int64(x)), absU(int64(y))
	swap := ay > ax
	if swap {
		ax, ay = ay, ax
	}
	// Keep the products below 2^63: reduce both to at most 40 bits.
	for ax >= 1<<40 {
		ax >>= 1
		ay >>= 1
	}
	// Largest a in [0, 8192] with sin(a)·ax <= cos(a)·ay, i.e. tan(a) <= ay/ax.
	// The predicate is monotone because the table is monotone on [0, 45°].
	lo, hi := uint32(0), uint32(quarterSteps/2)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if uint64(sinTable[mid])*ax <= uint64(sinTable[quarterSteps-mid])*ay {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	a := Angle(lo)
	if swap {
		a = QuarterTurn - a
	}
	if x < 0 {
		a = HalfTurn - a
	}
	if y < 0 {
		a = -a
	}
	return a
}
