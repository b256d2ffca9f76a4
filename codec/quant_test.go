package codec

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// quantPos is the position quantizer the tests lean on: Q47.16 input, 1/16
// unit on the wire, ±1000 units.
var quantPos = FixedQuantizer{FracBits: 16, Precision: 4, Min: -1000, Max: 1000}

func TestFixedQuantizerEdges(t *testing.T) {
	const one = 1 << 16
	asym := FixedQuantizer{FracBits: 16, Precision: 4, Min: 0, Max: 10}
	exact := FixedQuantizer{FracBits: 16, Precision: 16, Min: -2, Max: 2}
	whole := FixedQuantizer{FracBits: 16, Precision: 0, Min: -5, Max: 5}
	tests := []struct {
		name string
		q    FixedQuantizer
		raw  int64
		want int32
	}{
		{"zero", quantPos, 0, 0},
		{"one unit", quantPos, one, 16},
		{"minus one unit", quantPos, -one, -16},
		{"one step", quantPos, one / 16, 1},
		{"just below half step", quantPos, one/32 - 1, 0},
		{"half step ties away from zero", quantPos, one / 32, 1},
		{"minus just below half step", quantPos, -(one/32 - 1), 0},
		{"minus half step ties away from zero", quantPos, -one / 32, -1},
		{"minus one and a half steps", quantPos, -3 * one / 32, -2},
		{"max", quantPos, 1000 * one, 16000},
		{"min", quantPos, -1000 * one, -16000},
		{"just above max", quantPos, 1000*one + 1, 16000},
		{"just below min", quantPos, -1000*one - 1, -16000},
		{"max int64", quantPos, math.MaxInt64, 16000},
		{"min int64", quantPos, math.MinInt64, -16000},
		{"asym below min", asym, -one, 0},
		{"asym negative tie clamps", asym, -one / 32, 0},
		{"asym max", asym, 10 * one, 160},
		{"exact keeps every raw unit", exact, -12345, -12345},
		{"exact clamps", exact, 3 * one, 2 * one},
		{"whole half rounds away", whole, -one / 2, -1},
		{"whole below half", whole, one/2 - 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.q.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := tc.q.Quantize(tc.raw); got != tc.want {
				t.Fatalf("Quantize(%d) = %d, want %d", tc.raw, got, tc.want)
			}
		})
	}
}

func TestFixedQuantizerRangeAndMaxError(t *testing.T) {
	tests := []struct {
		q              FixedQuantizer
		lo, hi         int32
		maxErr         int64
		dequantizedMax int64
	}{
		{quantPos, -16000, 16000, 1 << 11, 1000 << 16},
		{FixedQuantizer{FracBits: 16, Precision: 16, Min: -2, Max: 2}, -2 << 16, 2 << 16, 0, 2 << 16},
		{FixedQuantizer{FracBits: 16, Precision: 15, Min: 0, Max: 1}, 0, 1 << 15, 1, 1 << 16},
		{FixedQuantizer{FracBits: 32, Precision: 0, Min: math.MinInt32, Max: math.MaxInt32}, math.MinInt32, math.MaxInt32, 1 << 31, math.MaxInt32 << 32},
		{FixedQuantizer{FracBits: 32, Precision: 32, Min: 0, Max: 0}, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		if err := tc.q.Validate(); err != nil {
			t.Fatalf("%+v: %v", tc.q, err)
		}
		lo, hi := tc.q.Range()
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v: Range() = %d, %d, want %d, %d", tc.q, lo, hi, tc.lo, tc.hi)
		}
		if got := tc.q.MaxError(); got != tc.maxErr {
			t.Errorf("%+v: MaxError() = %d, want %d", tc.q, got, tc.maxErr)
		}
		if got := tc.q.Dequantize(hi); got != tc.dequantizedMax {
			t.Errorf("%+v: Dequantize(%d) = %d, want %d", tc.q, hi, got, tc.dequantizedMax)
		}
	}
}

func TestFixedQuantizerDequantizeClampsOutOfRange(t *testing.T) {
	if got, want := quantPos.Dequantize(math.MaxInt32), int64(1000<<16); got != want {
		t.Errorf("Dequantize(MaxInt32) = %d, want %d", got, want)
	}
	if got, want := quantPos.Dequantize(math.MinInt32), int64(-1000<<16); got != want {
		t.Errorf("Dequantize(MinInt32) = %d, want %d", got, want)
	}
	if got, want := quantPos.DequantizeFloat(math.MaxInt32), 1000.0; got != want {
		t.Errorf("DequantizeFloat(MaxInt32) = %v, want %v", got, want)
	}
}

// quantRandFixed returns a random valid FixedQuantizer; one in four has the
// widest range its precision allows.
func quantRandFixed(rng *rand.Rand) FixedQuantizer {
	f := uint8(rng.IntN(MaxQuantFracBits + 1))
	p := uint8(rng.IntN(int(f) + 1))
	lo, hi := -int64(1<<31>>p), int64(math.MaxInt32>>p)
	if rng.IntN(4) == 0 {
		return FixedQuantizer{FracBits: f, Precision: p, Min: lo, Max: hi}
	}
	a, b := lo+rng.Int64N(hi-lo+1), lo+rng.Int64N(hi-lo+1)
	return FixedQuantizer{FracBits: f, Precision: p, Min: min(a, b), Max: max(a, b)}
}

// quantRandRaw returns a raw value in q's range, biased toward the edges and
// toward ties.
func quantRandRaw(rng *rand.Rand, q FixedQuantizer) int64 {
	lo, hi := q.Min<<q.FracBits, q.Max<<q.FracBits
	s := q.shift()
	var raw int64
	switch rng.IntN(6) {
	case 0:
		raw = lo + rng.Int64N(1<<s+1)
	case 1:
		raw = hi - rng.Int64N(1<<s+1)
	case 2: // a tie (exact when s == 0)
		raw = (lo>>s+rng.Int64N(1+hi>>s-lo>>s))<<s + int64(1)<<s>>1
	case 3:
		raw = rng.Int64N(1<<12) - 1<<11
	default:
		raw = lo + int64(rng.Uint64N(uint64(hi-lo)+1))
	}
	return min(max(raw, lo), hi)
}

func TestFixedQuantizerErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		q := quantRandFixed(rng)
		if err := q.Validate(); err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		lo, hi := q.Range()
		maxErr := q.MaxError()
		worst := int64(0)
		for range 500 {
			raw := quantRandRaw(rng, q)
			v := q.Quantize(raw)
			if v < lo || v > hi {
				t.Fatalf("%+v: Quantize(%d) = %d, outside [%d, %d]", q, raw, v, lo, hi)
			}
			d := q.Dequantize(v) - raw
			if d < -maxErr || d > maxErr {
				t.Fatalf("%+v: raw %d: error %d exceeds %d", q, raw, d, maxErr)
			}
			worst = max(worst, d, -d)
			// A tie never rounds toward zero.
			if maxErr != 0 && (d == maxErr && raw < 0 || d == -maxErr && raw > 0) {
				t.Fatalf("%+v: raw %d: tie rounded toward zero (error %d)", q, raw, d)
			}
			w := lo + int32(rng.Int64N(int64(hi)-int64(lo)+1))
			if got := q.Quantize(q.Dequantize(w)); got != w {
				t.Fatalf("%+v: Quantize(Dequantize(%d)) = %d", q, w, got)
			}
		}
		if worst != maxErr && q.Max-q.Min > 1 {
			// Ties are sampled on purpose, so the bound must be reached.
			t.Fatalf("%+v: worst error %d, bound %d is not tight", q, worst, maxErr)
		}
	}
}

func TestFixedQuantizerClampsToNearestEnd(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		q := quantRandFixed(rng)
		raw := int64(rng.Uint64())
		lo, hi := q.Range()
		got := q.Quantize(raw)
		switch {
		case raw < q.Min<<q.FracBits && got != lo:
			t.Fatalf("%+v: Quantize(%d) = %d, want min %d", q, raw, got, lo)
		case raw > q.Max<<q.FracBits && got != hi:
			t.Fatalf("%+v: Quantize(%d) = %d, want max %d", q, raw, got, hi)
		}
	}
}

func TestFixedQuantizerFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 2000 {
		q := quantRandFixed(rng)
		bound := math.Ldexp(1, -int(q.Precision)-1)
		for range 200 {
			// Raw values below 2^53 convert to float64 exactly, so both
			// paths must agree, ties included.
			raw := quantRandRaw(rng, q) >> 11
			raw = min(max(raw, q.Min<<q.FracBits), q.Max<<q.FracBits)
			x := math.Ldexp(float64(raw), -int(q.FracBits))
			v := q.QuantizeFloat(x)
			if want := q.Quantize(raw); v != want {
				t.Fatalf("%+v: QuantizeFloat(%v) = %d, Quantize(%d) = %d", q, x, v, raw, want)
			}
			if d := math.Abs(q.DequantizeFloat(v) - x); d > bound {
				t.Fatalf("%+v: x %v: float error %v exceeds %v", q, x, d, bound)
			}
			if got, want := q.DequantizeFloat(v), math.Ldexp(float64(q.Dequantize(v)), -int(q.FracBits)); got != want {
				t.Fatalf("%+v: DequantizeFloat(%d) = %v, want %v", q, v, got, want)
			}
		}
	}
	lo, hi := quantPos.Range()
	for _, tc := range []struct {
		x    float64
		want int32
	}{
		{math.NaN(), 0},
		{math.Inf(1), hi},
		{math.Inf(-1), lo},
		{1e300, hi},
		{-1e300, lo},
		{-1.0 / 32, -1},
		{1.0 / 32, 1},
		{-0.0, 0},
	} {
		if got := quantPos.QuantizeFloat(tc.x); got != tc.want {
			t.Errorf("QuantizeFloat(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
	asym := FixedQuantizer{FracBits: 16, Precision: 4, Min: 3, Max: 10}
	if got := asym.QuantizeFloat(math.NaN()); got != 48 {
		t.Errorf("QuantizeFloat(NaN) on [3, 10] = %d, want 48", got)
	}
}

func TestFixedQuantizerValidate(t *testing.T) {
	tests := []struct {
		name string
		q    FixedQuantizer
		want error
	}{
		{"sim position", quantPos, nil},
		{"widest at precision 4", FixedQuantizer{FracBits: 16, Precision: 4, Min: -1 << 27, Max: 1<<27 - 1}, nil},
		{"one too low", FixedQuantizer{FracBits: 16, Precision: 4, Min: -1<<27 - 1, Max: 0}, ErrQuantWireRange},
		{"one too high", FixedQuantizer{FracBits: 16, Precision: 4, Min: 0, Max: 1 << 27}, ErrQuantWireRange},
		{"precision 32 needs non-negative", FixedQuantizer{FracBits: 32, Precision: 32, Min: -1, Max: 0}, ErrQuantWireRange},
		{"huge max", FixedQuantizer{FracBits: 16, Precision: 0, Min: 0, Max: math.MaxInt64}, ErrQuantWireRange},
		{"huge min", FixedQuantizer{FracBits: 16, Precision: 0, Min: math.MinInt64, Max: 0}, ErrQuantWireRange},
		{"precision above frac bits", FixedQuantizer{FracBits: 8, Precision: 9, Min: 0, Max: 1}, ErrQuantPrecision},
		{"frac bits above 32", FixedQuantizer{FracBits: 33, Precision: 0, Min: 0, Max: 1}, ErrQuantFracBits},
		{"min above max", FixedQuantizer{FracBits: 16, Precision: 4, Min: 1, Max: 0}, ErrQuantRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.q.Validate()
			if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVelocityQuantizer(t *testing.T) {
	const one = 1 << 16
	q := VelocityQuantizer{FracBits: 16, Precision: 8, Max: 50}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	if lo, hi := q.Range(); lo != -12800 || hi != 12800 {
		t.Fatalf("Range() = %d, %d, want -12800, 12800", lo, hi)
	}
	if got := q.MaxError(); got != 128 {
		t.Fatalf("MaxError() = %d, want 128", got)
	}
	for _, tc := range []struct {
		raw  int64
		want int32
	}{
		{0, 0},
		{128, 1},
		{-128, -1},
		{127, 0},
		{-127, 0},
		{50 * one, 12800},
		{51 * one, 12800},
		{-51 * one, -12800},
		{math.MinInt64, -12800},
	} {
		if got := q.Quantize(tc.raw); got != tc.want {
			t.Errorf("Quantize(%d) = %d, want %d", tc.raw, got, tc.want)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		raw := rng.Int64N(2*50*one+1) - 50*one
		v := q.Quantize(raw)
		if got := q.Quantize(-raw); got != -v {
			t.Fatalf("Quantize(%d) = %d but Quantize(%d) = %d: not symmetric", raw, v, -raw, got)
		}
		if d := q.Dequantize(v) - raw; d < -q.MaxError() || d > q.MaxError() {
			t.Fatalf("raw %d: error %d exceeds %d", raw, d, q.MaxError())
		}
		x := float64(raw) / one
		if got := q.QuantizeFloat(x); got != v {
			t.Fatalf("QuantizeFloat(%v) = %d, want %d", x, got, v)
		}
		if d := math.Abs(q.DequantizeFloat(v) - x); d > 1.0/512 {
			t.Fatalf("x %v: float error %v", x, d)
		}
	}
	for _, tc := range []struct {
		q    VelocityQuantizer
		want error
	}{
		{VelocityQuantizer{FracBits: 16, Precision: 8, Max: 0}, nil},
		{VelocityQuantizer{FracBits: 16, Precision: 8, Max: -1}, ErrQuantRange},
		{VelocityQuantizer{FracBits: 16, Precision: 8, Max: 1 << 23}, ErrQuantWireRange},
		{VelocityQuantizer{FracBits: 16, Precision: 17, Max: 1}, ErrQuantPrecision},
		{VelocityQuantizer{FracBits: 40, Precision: 8, Max: 1}, ErrQuantFracBits},
	} {
		err := tc.q.Validate()
		if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
			t.Errorf("%+v: Validate() = %v, want %v", tc.q, err, tc.want)
		}
	}
}

// quantAngleDist returns the circular distance between binary angles a and b.
func quantAngleDist(a, b uint16) uint16 {
	d := a - b
	return min(d, -d)
}

func TestAngleQuantizerExhaustive(t *testing.T) {
	for bits := uint8(1); bits <= 16; bits++ {
		q := AngleQuantizer{Bits: bits}
		if err := q.Validate(); err != nil {
			t.Fatal(err)
		}
		lo, hi := q.Range()
		if lo != 0 || hi != 1<<bits-1 {
			t.Fatalf("bits %d: Range() = %d, %d", bits, lo, hi)
		}
		want := uint16(0)
		if bits < 16 {
			want = 1 << (15 - bits)
		}
		if q.MaxError() != want {
			t.Fatalf("bits %d: MaxError() = %d, want %d", bits, q.MaxError(), want)
		}
		worst := uint16(0)
		for a := range 1 << 16 {
			v := q.Quantize(uint16(a))
			if v < lo || v > hi {
				t.Fatalf("bits %d: Quantize(%d) = %d out of range", bits, a, v)
			}
			d := quantAngleDist(q.Dequantize(v), uint16(a))
			if d > q.MaxError() {
				t.Fatalf("bits %d: angle %d: error %d exceeds %d", bits, a, d, q.MaxError())
			}
			worst = max(worst, d)
		}
		if worst != q.MaxError() {
			t.Fatalf("bits %d: worst error %d, bound %d is not tight", bits, worst, q.MaxError())
		}
		for v := lo; v <= hi; v++ {
			if got := q.Quantize(q.Dequantize(v)); got != v {
				t.Fatalf("bits %d: Quantize(Dequantize(%d)) = %d", bits, v, got)
			}
		}
	}
}

func TestAngleQuantizerWraps(t *testing.T) {
	tests := []struct {
		bits uint8
		a    uint16
		want int32
	}{
		{8, 65535, 0},         // rounds up to a full turn
		{8, 65536 - 128, 0},   // the tie below a full turn rounds up to it
		{8, 65536 - 129, 255}, // just below the tie
		{8, 0, 0},
		{8, 127, 0},
		{8, 128, 1},
		{1, 16383, 0},
		{1, 16384, 1},
		{1, 49151, 1},
		{1, 49152, 0},
		{16, 65535, 65535},
		{12, 65535, 0},
	}
	for _, tc := range tests {
		q := AngleQuantizer{Bits: tc.bits}
		if got := q.Quantize(tc.a); got != tc.want {
			t.Errorf("bits %d: Quantize(%d) = %d, want %d", tc.bits, tc.a, got, tc.want)
		}
	}
	q := AngleQuantizer{Bits: 8}
	if got := q.Dequantize(256 + 3); got != 3<<8 {
		t.Errorf("Dequantize(259) = %d, want %d (bits above Bits ignored)", got, 3<<8)
	}
	if got := q.Dequantize(-1); got != 255<<8 {
		t.Errorf("Dequantize(-1) = %d, want %d", got, 255<<8)
	}
}

func TestAngleQuantizerFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for bits := uint8(1); bits <= 16; bits++ {
		q := AngleQuantizer{Bits: bits}
		bound := math.Pi / float64(uint32(1)<<bits)
		for range 20000 {
			x := (rng.Float64()*2 - 1) * 1000
			if rng.IntN(4) == 0 {
				x = (rng.Float64()*2 - 1) * 7
			}
			v := q.QuantizeFloat(x)
			if lo, hi := q.Range(); v < lo || v > hi {
				t.Fatalf("bits %d: QuantizeFloat(%v) = %d out of range", bits, x, v)
			}
			y := q.DequantizeFloat(v)
			if y < 0 || y >= 2*math.Pi {
				t.Fatalf("bits %d: DequantizeFloat(%d) = %v outside [0, 2π)", bits, v, y)
			}
			if d := math.Abs(math.Remainder(y-x, 2*math.Pi)); d > bound+1e-12 {
				t.Fatalf("bits %d: x %v: error %v exceeds %v", bits, x, d, bound)
			}
		}
		for v := int32(0); v < 1<<bits; v += 1 + int32(rng.IntN(7)) {
			if got, want := q.DequantizeFloat(v), float64(q.Dequantize(v))*(2*math.Pi/65536); got != want {
				t.Fatalf("bits %d: DequantizeFloat(%d) = %v, want %v", bits, v, got, want)
			}
			if got := q.QuantizeFloat(q.DequantizeFloat(v)); got != v {
				t.Fatalf("bits %d: QuantizeFloat(DequantizeFloat(%d)) = %d", bits, v, got)
			}
		}
	}
	q := AngleQuantizer{Bits: 8}
	for _, tc := range []struct {
		x    float64
		want int32
	}{
		{math.NaN(), 0},
		{math.Inf(1), 0},
		{math.Inf(-1), 0},
		{0, 0},
		{-1e-9, 0},
		{2 * math.Pi, 0},
		{-2 * math.Pi / 256, 255},
		{math.Pi, 128},
		{-math.Pi, 128},
		{1e300, 0},
	} {
		if got := q.QuantizeFloat(tc.x); got != tc.want {
			t.Errorf("QuantizeFloat(%v) = %d, want %d", tc.x, got, tc.want)
		}
	}
}

func TestAngleQuantizerValidate(t *testing.T) {
	for _, bits := range []uint8{0, 17, 255} {
		if err := (AngleQuantizer{Bits: bits}).Validate(); !errors.Is(err, ErrQuantBits) {
			t.Errorf("bits %d: Validate() = %v, want ErrQuantBits", bits, err)
		}
	}
}

// TestQuantizersNeverPanic feeds invalid quantizers and extreme inputs: the
// results are unspecified but must not panic.
func TestQuantizersNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for range 20000 {
		f := FixedQuantizer{
			FracBits:  uint8(rng.Uint32()),
			Precision: uint8(rng.Uint32()),
			Min:       int64(rng.Uint64()),
			Max:       int64(rng.Uint64()),
		}
		f.Quantize(int64(rng.Uint64()))
		f.Dequantize(int32(rng.Uint32()))
		f.QuantizeFloat(math.Float64frombits(rng.Uint64()))
		f.DequantizeFloat(int32(rng.Uint32()))
		f.Range()
		f.MaxError()
		a := AngleQuantizer{Bits: uint8(rng.Uint32())}
		a.Quantize(uint16(rng.Uint32()))
		a.Dequantize(int32(rng.Uint32()))
		a.QuantizeFloat(math.Float64frombits(rng.Uint64()))
		a.DequantizeFloat(int32(rng.Uint32()))
		a.MaxError()
		a.Range()
	}
}

func TestQuantizersDoNotAllocate(t *testing.T) {
	v := VelocityQuantizer{FracBits: 16, Precision: 8, Max: 50}
	a := AngleQuantizer{Bits: 12}
	var sink int64
	allocs := testing.AllocsPerRun(1000, func() {
		sink += int64(quantPos.Quantize(123456789))
		sink += quantPos.Dequantize(-4567)
		sink += int64(quantPos.QuantizeFloat(12.34))
		sink += int64(quantPos.DequantizeFloat(99))
		sink += int64(v.Quantize(-77777))
		sink += v.Dequantize(1234)
		sink += int64(a.Quantize(40000))
		sink += int64(a.Dequantize(1000))
		sink += int64(a.QuantizeFloat(1.5))
		sink += int64(a.DequantizeFloat(7))
	})
	if allocs != 0 {
		t.Fatalf("quantizers allocate %v times per run", allocs)
	}
	_ = sink
}

var quantSink int64

func BenchmarkFixedQuantize(b *testing.B) {
	b.ReportAllocs()
	var s int64
	for i := range b.N {
		s += int64(quantPos.Quantize(int64(i) * 977))
	}
	quantSink = s
}

func BenchmarkFixedDequantize(b *testing.B) {
	b.ReportAllocs()
	var s int64
	for i := range b.N {
		s += quantPos.Dequantize(int32(i & 0x3fff))
	}
	quantSink = s
}

func BenchmarkAngleQuantize(b *testing.B) {
	b.ReportAllocs()
	q := AngleQuantizer{Bits: 12}
	var s int64
	for i := range b.N {
		s += int64(q.Quantize(uint16(i)))
	}
	quantSink = s
}

func BenchmarkAngleDequantize(b *testing.B) {
	b.ReportAllocs()
	q := AngleQuantizer{Bits: 12}
	var s int64
	for i := range b.N {
		s += int64(q.Dequantize(int32(i)))
	}
	quantSink = s
}
