package codec

import (
	"fmt"
	"math"
)

// Quantizers turn game values into the ranged integers the schema carries and
// back. Each quantizer is a small immutable value: its methods allocate
// nothing, never panic (also for a quantizer that fails Validate, whose
// results are then unspecified) and are safe for concurrent use.
//
// The integer methods are the deterministic path: pure integer arithmetic on
// the simulation's fixed-point values, identical on every machine. The Float
// methods are conveniences for clients and tools.

// MaxQuantFracBits is the largest FracBits a FixedQuantizer or a
// VelocityQuantizer accepts. It keeps every dequantized value in an int64.
const MaxQuantFracBits = 32

// FixedQuantizer maps a fixed-point scalar (a position coordinate, say) to a
// wire integer with a step of 2^-Precision world units.
//
// With s = FracBits-Precision, the wire value of raw is raw/2^s rounded to
// the nearest integer, ties away from zero (so Quantize(-r) == -Quantize(r)
// when the range is symmetric), after raw is clamped to [Min, Max] units. The
// wire range is [Min·2^Precision, Max·2^Precision].
//
// Error bound: for raw within [Min·2^FracBits, Max·2^FracBits],
//
//	|Dequantize(Quantize(raw)) - raw| <= MaxError() = 2^(s-1) raw units (0 when s == 0),
//
// that is half a wire step, 2^-(Precision+1) world units. A raw value outside
// the range comes back as the nearer range end (both ends are exact). Every
// wire value v in Range survives Quantize(Dequantize(v)) == v.
type FixedQuantizer struct {
	FracBits  uint8 // fractional bits of the fixed-point input (16 for the sim); at most MaxQuantFracBits
	Precision uint8 // fractional bits kept on the wire: step = 2^-Precision units (Precision <= FracBits)
	Min, Max  int64 // inclusive range in whole world units; values outside are clamped
}

// Validate reports whether q is usable: Precision <= FracBits <=
// MaxQuantFracBits, Min <= Max, and Min·2^Precision and Max·2^Precision fit
// in an int32 (so the wire value takes at most 32 bits).
func (q FixedQuantizer) Validate() error {
	if q.FracBits > MaxQuantFracBits {
		return fmt.Errorf("codec: fixed quantizer: %d fraction bits, at most %d: %w", q.FracBits, MaxQuantFracBits, ErrQuantFracBits)
	}
	if q.Precision > q.FracBits {
		return fmt.Errorf("codec: fixed quantizer: precision %d > %d fraction bits: %w", q.Precision, q.FracBits, ErrQuantPrecision)
	}
	if q.Min > q.Max {
		return fmt.Errorf("codec: fixed quantizer: min %d > max %d: %w", q.Min, q.Max, ErrQuantRange)
	}
	// Min·2^p >= MinInt32 <=> Min >= -ceil(2^31/2^p); Max·2^p <= MaxInt32 <=> Max <= floor(MaxInt32/2^p).
	p := uint(q.Precision)
	if lo, hi := -int64(1<<31>>p), int64(math.MaxInt32>>p); q.Min < lo || q.Max > hi {
		return fmt.Errorf("codec: fixed quantizer: range [%d, %d] at precision %d needs [%d, %d]: %w",
			q.Min, q.Max, q.Precision, lo, hi, ErrQuantWireRange)
	}
	return nil
}

// shift is the number of raw bits dropped on the wire.
func (q FixedQuantizer) shift() uint { return uint(q.FracBits - q.Precision) }

// Range returns the inclusive wire range to declare in the schema.
func (q FixedQuantizer) Range() (min, max int32) {
	return int32(q.Min << q.Precision), int32(q.Max << q.Precision)
}

// Quantize returns the wire value of the fixed-point value raw: clamped to
// [Min, Max] units, then rounded to the nearest step, ties away from zero.
func (q FixedQuantizer) Quantize(raw int64) int32 {
	// Clamping first keeps the rounding free of overflow, and the range ends
	// are multiples of the step, so the result stays within Range.
	raw = min(max(raw, q.Min<<q.FracBits), q.Max<<q.FracBits)
	return int32(quantRoundShift(raw, q.shift()))
}

// Dequantize returns the fixed-point value of the wire value v. A v outside
// Range is clamped to it first.
func (q FixedQuantizer) Dequantize(v int32) int64 {
	lo, hi := q.Range()
	return int64(min(max(v, lo), hi)) << q.shift()
}

// MaxError returns the bound on |Dequantize(Quantize(raw)) - raw| in raw
// fixed-point units for raw within [Min, Max] units: half a wire step.
func (q FixedQuantizer) MaxError() int64 { return int64(1) << q.shift() >> 1 }

// QuantizeFloat returns the wire value of x world units: x·2^Precision
// rounded to the nearest integer, ties away from zero, clamped to Range. NaN
// maps to the wire value nearest zero. For x within [Min, Max],
// |DequantizeFloat(QuantizeFloat(x)) - x| <= 2^-(Precision+1) exactly (the
// scaling by a power of two is exact). For x = raw/2^FracBits it returns
// Quantize(raw).
func (q FixedQuantizer) QuantizeFloat(x float64) int32 {
	lo, hi := q.Range()
	if math.IsNaN(x) {
		return min(max(0, lo), hi)
	}
	t := math.Round(x * float64(int64(1)<<q.Precision))
	switch {
	case t <= float64(lo):
		return lo
	case t >= float64(hi):
		return hi
	}
	return int32(t)
}

// DequantizeFloat returns the value of the wire value v in world units,
// exactly. A v outside Range is clamped to it first.
func (q FixedQuantizer) DequantizeFloat(v int32) float64 {
	lo, hi := q.Range()
	return float64(min(max(v, lo), hi)) / float64(int64(1)<<q.Precision)
}

// VelocityQuantizer is a FixedQuantizer over the symmetric range [-Max, Max]
// whole world units (per tick, or whatever the velocity's unit is): values
// beyond the clamp magnitude Max are clamped. It has the same rounding (ties
// away from zero, so Quantize(-r) == -Quantize(r) for every r) and the same
// error bound: for raw within ±Max·2^FracBits,
//
//	|Dequantize(Quantize(raw)) - raw| <= MaxError() = 2^(FracBits-Precision-1) raw units (0 when equal).
type VelocityQuantizer struct {
	FracBits, Precision uint8 // as in FixedQuantizer
	Max                 int64 // clamp magnitude in whole world units, >= 0
}

func (q VelocityQuantizer) fixed() FixedQuantizer {
	return FixedQuantizer{FracBits: q.FracBits, Precision: q.Precision, Min: -q.Max, Max: q.Max}
}

// Validate reports whether q is usable: Max >= 0 and the conditions of
// FixedQuantizer.Validate for the range [-Max, Max].
func (q VelocityQuantizer) Validate() error {
	if q.Max < 0 {
		return fmt.Errorf("codec: velocity quantizer: negative max %d: %w", q.Max, ErrQuantRange)
	}
	return q.fixed().Validate()
}

// Range returns the inclusive wire range [-Max·2^Precision, Max·2^Precision].
func (q VelocityQuantizer) Range() (min, max int32) { return q.fixed().Range() }

// Quantize returns the wire value of raw, clamped to ±Max units and rounded
// to the nearest step, ties away from zero.
func (q VelocityQuantizer) Quantize(raw int64) int32 { return q.fixed().Quantize(raw) }

// Dequantize returns the fixed-point value of the wire value v (clamped to Range).
func (q VelocityQuantizer) Dequantize(v int32) int64 { return q.fixed().Dequantize(v) }

// MaxError returns the bound on |Dequantize(Quantize(raw)) - raw| in raw
// units for raw within ±Max units: half a wire step.
func (q VelocityQuantizer) MaxError() int64 { return q.fixed().MaxError() }

// QuantizeFloat is FixedQuantizer.QuantizeFloat over [-Max, Max].
func (q VelocityQuantizer) QuantizeFloat(x float64) int32 { return q.fixed().QuantizeFloat(x) }

// DequantizeFloat is FixedQuantizer.DequantizeFloat over [-Max, Max].
func (q VelocityQuantizer) DequantizeFloat(v int32) float64 { return q.fixed().DequantizeFloat(v) }

// quantRoundShift returns x/2^s rounded to the nearest integer, ties away
// from zero. x + 2^(s-1) must not overflow.
func quantRoundShift(x int64, s uint) int64 {
	if s == 0 {
		return x
	}
	half := int64(1) << (s - 1)
	if x < 0 {
		half-- // floor((x + half - 1)/2^s) rounds a negative tie down, away from zero
	}
	return (x + half) >> s
}

// AngleQuantizer maps a binary angle (uint16, 65536 = one full turn) to Bits
// bits, 1 <= Bits <= 16. The wire value of a is a/2^(16-Bits) rounded to the
// nearest integer, ties upward (toward the larger angle), modulo 2^Bits: an
// angle that rounds up to a full turn becomes 0.
//
// Error bound, measured around the circle (the shorter way): for every a,
//
//	dist(Dequantize(Quantize(a)), a) <= MaxError() = 2^(15-Bits) binary-angle units (0 for Bits = 16),
//
// that is half a wire step, π/2^Bits radians. Every wire value v in Range
// survives Quantize(Dequantize(v)) == v.
type AngleQuantizer struct {
	Bits uint8 // wire bits, 1..16
}

// Validate reports whether 1 <= Bits <= 16.
func (q AngleQuantizer) Validate() error {
	if q.Bits < 1 || q.Bits > 16 {
		return fmt.Errorf("codec: angle quantizer: %d bits, want 1..16: %w", q.Bits, ErrQuantBits)
	}
	return nil
}

func (q AngleQuantizer) shift() uint  { return 16 - uint(q.Bits) }
func (q AngleQuantizer) mask() uint32 { return uint32(1)<<q.Bits - 1 }

// Range returns the inclusive wire range [0, 2^Bits-1]. Declare the field
// with Wrap set: the wire value is modular.
func (q AngleQuantizer) Range() (min, max int32) { return 0, int32(q.mask()) }

// Quantize returns the wire value of the binary angle a.
func (q AngleQuantizer) Quantize(a uint16) int32 {
	s := q.shift()
	return int32((uint32(a) + uint32(1)<<s>>1) >> s & q.mask())
}

// Dequantize returns the binary angle of the wire value v. Bits of v above
// Bits are ignored.
func (q AngleQuantizer) Dequantize(v int32) uint16 {
	return uint16((uint32(v) & q.mask()) << q.shift())
}

// MaxError returns the bound on the circular distance between
// Dequantize(Quantize(a)) and a, in binary-angle units: half a wire step.
func (q AngleQuantizer) MaxError() uint16 { return uint16(uint32(1) << q.shift() >> 1) }

// QuantizeFloat returns the wire value of the angle x in radians (any real;
// it is reduced modulo 2π), rounded like Quantize. NaN and ±Inf map to 0.
// The circular distance between DequantizeFloat(QuantizeFloat(x)) and x is at
// most π/2^Bits plus float64 rounding, which grows with |x| (below 1e-12 rad
// for |x| <= 1000).
func (q AngleQuantizer) QuantizeFloat(x float64) int32 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	n := float64(uint32(1) << q.Bits)
	t := x * (n / (2 * math.Pi))
	t -= n * math.Floor(t/n) // in [0, n]; n itself wraps through the mask
	return int32(uint32(math.Floor(t+0.5)) & q.mask())
}

// DequantizeFloat returns the angle of the wire value v in radians, in
// [0, 2π). Bits of v above Bits are ignored.
func (q AngleQuantizer) DequantizeFloat(v int32) float64 {
	return float64(uint32(v)&q.mask()) * (2 * math.Pi / float64(uint32(1)<<q.Bits))
}
