package codec

import (
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// quatSim is the configuration the sim uses: Q16 components, 9 bits each,
// 29 bits in all.
var quatSim = QuatQuantizer{FracBits: 16, Bits: 9}

func TestQuatIsqrt(t *testing.T) {
	check := func(n uint64) {
		r := quatIsqrt(n)
		hi, lo := bits.Mul64(r, r)
		hi1, lo1 := bits.Mul64(r+1, r+1)
		if hi != 0 || lo > n || hi1 == 0 && lo1 <= n {
			t.Fatalf("quatIsqrt(%d) = %d", n, r)
		}
	}
	for n := range uint64(1 << 16) {
		check(n)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for range 200000 {
		k := rng.Uint64N(1 << 32)
		check(k * k)
		check(k*k - 1)
		check(k*k + 1)
		check(rng.Uint64() >> rng.UintN(64))
	}
	check(math.MaxUint64)
	check(1 << 62)
	if got := quatIsqrt(1 << 62); got != 1<<31 {
		t.Fatalf("quatIsqrt(2^62) = %d", got)
	}
}

func TestQuatH31(t *testing.T) {
	if got := quatIsqrt(1 << 61); got != quatH31 {
		t.Fatalf("floor(2^30.5) = %d, quatH31 = %d", got, quatH31)
	}
	if got := math.Floor(math.Sqrt(0.5) * (1 << 31)); got != quatH31 {
		t.Fatalf("float64 floor(2^31/√2) = %v, quatH31 = %d", got, quatH31)
	}
}

func TestQuatQuantizerValidateAndRange(t *testing.T) {
	tests := []struct {
		q      QuatQuantizer
		want   error
		lo, hi int32
	}{
		{QuatQuantizer{FracBits: 16, Bits: 2}, nil, 0, 255},
		{quatSim, nil, 0, 1<<29 - 1},
		{QuatQuantizer{FracBits: 16, Bits: 10}, nil, math.MinInt32, math.MaxInt32},
		{QuatQuantizer{FracBits: 14, Bits: 10}, nil, math.MinInt32, math.MaxInt32},
		{QuatQuantizer{FracBits: 30, Bits: 10}, nil, math.MinInt32, math.MaxInt32},
		{QuatQuantizer{FracBits: 13, Bits: 10}, ErrQuantFracBits, 0, 0},
		{QuatQuantizer{FracBits: 31, Bits: 10}, ErrQuantFracBits, 0, 0},
		{QuatQuantizer{FracBits: 0, Bits: 9}, ErrQuantFracBits, 0, 0},
		{QuatQuantizer{FracBits: 16, Bits: 1}, ErrQuantBits, 0, 0},
		{QuatQuantizer{FracBits: 16, Bits: 11}, ErrQuantBits, 0, 0},
		{QuatQuantizer{FracBits: 16, Bits: 0}, ErrQuantBits, 0, 0},
	}
	for _, tc := range tests {
		err := tc.q.Validate()
		if tc.want == nil && err != nil || !errors.Is(err, tc.want) {
			t.Errorf("%+v: Validate() = %v, want %v", tc.q, err, tc.want)
			continue
		}
		if err != nil {
			continue
		}
		if lo, hi := tc.q.Range(); lo != tc.lo || hi != tc.hi {
			t.Errorf("%+v: Range() = %d, %d, want %d, %d", tc.q, lo, hi, tc.lo, tc.hi)
		}
	}
}

// TestQuatQuantizerMaxErrorValues pins the bounds quoted in the doc comment.
func TestQuatQuantizerMaxErrorValues(t *testing.T) {
	for _, tc := range []struct {
		bits      uint8
		sent, all int64
	}{
		{8, 182, 587},
		{9, 91, 307},
		{10, 45, 169},
	} {
		q := QuatQuantizer{FracBits: 16, Bits: tc.bits}
		if s, a := q.sentError(), q.MaxError(); s != tc.sent || a != tc.all {
			t.Errorf("bits %d: sent bound %d, MaxError %d; doc says %d, %d", tc.bits, s, a, tc.sent, tc.all)
		}
	}
}

func TestQuatQuantizerGolden(t *testing.T) {
	const one = 1 << 16
	const half = one / 2
	// Bits 9: S = 255, codes are k+255. 0.5 is k = round(255·0.5·√2) = 180,
	// which decodes to 32711; the rebuilt x is then √(1-3·(32711/65536)²).
	tests := []struct {
		name       string
		x, y, z, w int64
		want       int32
		dx, dy, dz int64 // expected dequantized x, y, z
		dw         int64
	}{
		{"identity", 0, 0, 0, one, 3 | 255<<2 | 255<<11 | 255<<20, 0, 0, 0, one},
		{"minus identity", 0, 0, 0, -one, 3 | 255<<2 | 255<<11 | 255<<20, 0, 0, 0, one},
		{"x half turn", one, 0, 0, 0, 0 | 255<<2 | 255<<11 | 255<<20, one, 0, 0, 0},
		{"zero quaternion", 0, 0, 0, 0, 0 | 255<<2 | 255<<11 | 255<<20, one, 0, 0, 0},
		{"all halves, x wins the tie", half, half, half, half, 0 | 435<<2 | 435<<11 | 435<<20, 32938, 32711, 32711, 32711},
		{"tie with negative first", -half, half, -half, half, 0 | 75<<2 | 435<<11 | 75<<20, 32938, -32711, 32711, -32711},
		{"y and w tie at 1/√2, y wins", 0, 46341, 0, 46341, 1 | 255<<2 | 255<<11 | 510<<20, 0, 46341, 0, 46341},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := quatSim.Quantize(tc.x, tc.y, tc.z, tc.w)
			if v != tc.want {
				t.Fatalf("Quantize = %d (index %d, codes %d %d %d), want %d",
					v, v&3, v>>2&511, v>>11&511, v>>20&511, tc.want)
			}
			x, y, z, w := quatSim.Dequantize(v)
			if x != tc.dx || y != tc.dy || z != tc.dz || w != tc.dw {
				t.Fatalf("Dequantize(%d) = %d %d %d %d, want %d %d %d %d", v, x, y, z, w, tc.dx, tc.dy, tc.dz, tc.dw)
			}
		})
	}
}

// quatCanon returns the index of the largest-magnitude component of c (lowest
// index on ties) and c negated if that component is negative.
func quatCanon(c [4]int64) (int, [4]int64) {
	idx := 0
	for i := 1; i < 4; i++ {
		if quatAbs(c[i]) > quatAbs(c[idx]) {
			idx = i
		}
	}
	if c[idx] < 0 {
		for i := range c {
			c[i] = -c[i]
		}
	}
	return idx, c
}

// quatRandUnit returns a random unit quaternion in float64, drawn from a mix
// of shapes: uniform rotations, yaw-only rotations, near the all-halves
// worst case, near two equal components, near a single axis.
func quatRandUnit(rng *rand.Rand) [4]float64 {
	var r [4]float64
	switch rng.IntN(5) {
	case 0:
		a := rng.Float64() * 2 * math.Pi
		r = [4]float64{0, 0, math.Sin(a), math.Cos(a)}
	case 1:
		for i := range r {
			r[i] = 0.5*float64(1-2*rng.IntN(2)) + rng.NormFloat64()*0.002
		}
	case 2:
		i, j := rng.IntN(4), rng.IntN(4)
		for k := range r {
			r[k] = rng.NormFloat64() * 0.003
		}
		r[i] += math.Sqrt(0.5)
		r[j] -= math.Sqrt(0.5) * float64(2*rng.IntN(2)-1)
	case 3:
		r[rng.IntN(4)] = 1
		for k := range r {
			r[k] += rng.NormFloat64() * 0.01
		}
	default:
		for k := range r {
			r[k] = rng.NormFloat64()
		}
	}
	n := math.Sqrt(r[0]*r[0] + r[1]*r[1] + r[2]*r[2] + r[3]*r[3])
	if n == 0 {
		return [4]float64{0, 0, 0, 1}
	}
	for k := range r {
		r[k] /= n
	}
	return r
}

// quatToFixed rounds r to f fractional bits and, when jitter is set, moves
// each component by up to 2 raw units more, staying within the documented
// norm slack of 16 raw units.
func quatToFixed(rng *rand.Rand, r [4]float64, f uint8, jitter bool) [4]int64 {
	var c [4]int64
	for k := range r {
		c[k] = int64(math.Round(math.Ldexp(r[k], int(f))))
		if jitter {
			c[k] += rng.Int64N(5) - 2
		}
	}
	return c
}

// quatNormSlack returns |Σc² - One²| / One, rounded up, in raw units.
func quatNormSlack(c [4]int64, f uint8) int64 {
	var s int64
	for _, v := range c {
		s += v * v
	}
	d := s - int64(1)<<(2*f)
	if d < 0 {
		d = -d
	}
	return (d + int64(1)<<f - 1) >> f
}

// quatConfigs are the configurations the property tests sweep, with the
// number of random samples for each.
func quatConfigs() []struct {
	q QuatQuantizer
	n int
} {
	var out []struct {
		q QuatQuantizer
		n int
	}
	for b := uint8(2); b <= 10; b++ {
		out = append(out, struct {
			q QuatQuantizer
			n int
		}{QuatQuantizer{FracBits: 16, Bits: b}, 200000})
		for _, f := range []uint8{b + 4, 24, 30} {
			out = append(out, struct {
				q QuatQuantizer
				n int
			}{QuatQuantizer{FracBits: f, Bits: b}, 20000})
		}
	}
	return out
}

func TestQuatQuantizerErrorBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, cfg := range quatConfigs() {
		q := cfg.q
		if err := q.Validate(); err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		maxErr, sentErr := q.MaxError(), q.sentError()
		lo, hi := q.Range()
		var worstSent, worstAll int64
		for i := range cfg.n {
			c := quatToFixed(rng, quatRandUnit(rng), q.FracBits, i%2 == 1)
			if s := quatNormSlack(c, q.FracBits); s > 16 {
				t.Fatalf("%+v: test input %v has norm slack %d > 16", q, c, s)
			}
			v := q.Quantize(c[0], c[1], c[2], c[3])
			if v < lo || v > hi {
				t.Fatalf("%+v: Quantize(%v) = %d outside Range", q, c, v)
			}
			idx, want := quatCanon(c)
			if int(v&3) != idx {
				t.Fatalf("%+v: Quantize(%v) dropped component %d, want %d", q, c, v&3, idx)
			}
			var got [4]int64
			got[0], got[1], got[2], got[3] = q.Dequantize(v)
			for k := range got {
				d := got[k] - want[k]
				d = max(d, -d)
				if k == idx {
					worstAll = max(worstAll, d)
				} else {
					worstSent = max(worstSent, d)
					if d > sentErr {
						t.Fatalf("%+v: %v -> %v: sent component %d off by %d > %d", q, c, got, k, d, sentErr)
					}
				}
				if d > maxErr {
					t.Fatalf("%+v: %v -> %v: component %d off by %d > %d", q, c, got, k, d, maxErr)
				}
			}
		}
		if q.FracBits == 16 {
			t.Logf("bits %2d: worst sent %4d of %4d, worst rebuilt %4d of MaxError %4d",
				q.Bits, worstSent, sentErr, worstAll, maxErr)
		}
	}
}

// TestQuatQuantizerWorstCaseRegion searches around (½, ½, ½, ½), where the
// rebuilt component is most sensitive, for inputs whose three sent components
// all round the same way by nearly half a step.
func TestQuatQuantizerWorstCaseRegion(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, q := range []QuatQuantizer{{FracBits: 16, Bits: 8}, {FracBits: 16, Bits: 9}, {FracBits: 16, Bits: 10}} {
		s := float64(q.steps())
		maxErr := q.MaxError()
		var worst int64
		for range 200000 {
			// Sent components just under half a step above or below grid points near ½.
			k := math.Round(0.5 * s * math.Sqrt2)
			dir := float64(1 - 2*rng.IntN(2))
			var r [4]float64
			var sum float64
			for j := 1; j < 4; j++ {
				off := dir * (0.5 - rng.Float64()*0.05)
				r[j] = (k + off - float64(rng.IntN(3))) / s * math.Sqrt(0.5)
				sum += r[j] * r[j]
			}
			r[0] = math.Sqrt(1 - sum)
			if r[0] < r[1] || r[0] < r[2] || r[0] < r[3] {
				continue
			}
			c := quatToFixed(rng, r, q.FracBits, rng.IntN(2) == 0)
			idx, want := quatCanon(c)
			var got [4]int64
			got[0], got[1], got[2], got[3] = q.Dequantize(q.Quantize(c[0], c[1], c[2], c[3]))
			d := got[idx] - want[idx]
			d = max(d, -d)
			if d > maxErr {
				t.Fatalf("%+v: %v -> %v: rebuilt component off by %d > %d", q, c, got, d, maxErr)
			}
			worst = max(worst, d)
		}
		t.Logf("bits %2d: worst rebuilt error near (½,½,½,½) %d of MaxError %d", q.Bits, worst, maxErr)
	}
}

func TestQuatQuantizerSignFlip(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	for _, cfg := range quatConfigs() {
		q := cfg.q
		one := int64(1) << q.FracBits
		for i := range cfg.n / 10 {
			var c [4]int64
			if i%2 == 0 {
				c = quatToFixed(rng, quatRandUnit(rng), q.FracBits, true)
			} else { // any quaternion, unit or not
				for k := range c {
					c[k] = rng.Int64N(2*one+1) - one
				}
			}
			a := q.Quantize(c[0], c[1], c[2], c[3])
			b := q.Quantize(-c[0], -c[1], -c[2], -c[3])
			if a != b {
				t.Fatalf("%+v: Quantize(%v) = %d but Quantize(-q) = %d", q, c, a, b)
			}
		}
	}
}

// quatCanonWire returns the wire value Quantize(Dequantize(v)) must give:
// bits above the packed width cleared and the unused code 2^Bits-1 read as
// 2^Bits-2.
func quatCanonWire(q QuatQuantizer, v int32) int32 {
	u := uint32(v)
	out := u & 3
	mask := uint32(1)<<q.Bits - 1
	for j := range uint(3) {
		pos := 2 + j*uint(q.Bits)
		out |= min(u>>pos&mask, mask-1) << pos
	}
	return int32(out)
}

// quatCheckDecoded checks what Dequantize promises for any input.
func quatCheckDecoded(t *testing.T, q QuatQuantizer, v int32) {
	t.Helper()
	one := int64(1) << q.FracBits
	var c [4]int64
	c[0], c[1], c[2], c[3] = q.Dequantize(v)
	idx := int(uint32(v) & 3)
	for k, x := range c {
		if x < -one || x > one {
			t.Fatalf("%+v: Dequantize(%d) = %v: component %d outside ±One", q, v, c, k)
		}
	}
	if got, _ := quatCanon(c); got != idx || c[idx] <= 0 {
		t.Fatalf("%+v: Dequantize(%d) = %v: component %d is not the positive largest", q, v, c, idx)
	}
	want := quatCanonWire(q, v)
	w := q.Quantize(c[0], c[1], c[2], c[3])
	if w != want {
		t.Fatalf("%+v: Quantize(Dequantize(%d)) = %d, want %d", q, v, w, want)
	}
	var c2 [4]int64
	c2[0], c2[1], c2[2], c2[3] = q.Dequantize(w)
	if c2 != c {
		t.Fatalf("%+v: Dequantize(%d) = %v but Dequantize(%d) = %v", q, v, c, w, c2)
	}
}

func TestQuatQuantizerIdempotentExhaustive(t *testing.T) {
	for b := uint8(2); b <= 5; b++ {
		for _, f := range []uint8{b + 4, 16, 30} {
			q := QuatQuantizer{FracBits: f, Bits: b}
			lo, hi := q.Range()
			for v := lo; v <= hi; v++ {
				quatCheckDecoded(t, q, v)
			}
		}
	}
}

func TestQuatQuantizerIdempotentRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, cfg := range quatConfigs() {
		q := cfg.q
		lo, hi := q.Range()
		for range cfg.n / 4 {
			v := lo + int32(rng.Int64N(int64(hi)-int64(lo)+1))
			quatCheckDecoded(t, q, v)
			// Out-of-range input (the caller skipped the range check) still
			// decodes to something sane.
			quatCheckDecoded(t, q, int32(rng.Uint32()))
		}
		for _, v := range []int32{lo, hi, 0, -1, math.MinInt32, math.MaxInt32} {
			quatCheckDecoded(t, q, v)
		}
	}
}

func TestQuatQuantizerFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, q := range []QuatQuantizer{quatSim, {FracBits: 16, Bits: 10}, {FracBits: 20, Bits: 6}} {
		bound := (float64(q.MaxError()) + 0.5) / float64(int64(1)<<q.FracBits)
		for range 50000 {
			r := quatRandUnit(rng)
			v := q.QuantizeFloat(r[0], r[1], r[2], r[3])
			x, y, z, w := q.DequantizeFloat(v)
			got := [4]float64{x, y, z, w}
			var errPos, errNeg float64
			for k := range got {
				errPos = max(errPos, math.Abs(got[k]-r[k]))
				errNeg = max(errNeg, math.Abs(got[k]+r[k]))
			}
			if e := min(errPos, errNeg); e > bound {
				t.Fatalf("%+v: %v -> %v: error %v > %v", q, r, got, e, bound)
			}
			a, b, c, d := q.Dequantize(v)
			one := float64(int64(1) << q.FracBits)
			if x != float64(a)/one || y != float64(b)/one || z != float64(c)/one || w != float64(d)/one {
				t.Fatalf("%+v: DequantizeFloat(%d) disagrees with Dequantize", q, v)
			}
		}
	}
	// Garbage in: no panic, a valid wire value out.
	nan, inf := math.NaN(), math.Inf(1)
	for _, in := range [][4]float64{{nan, nan, nan, nan}, {inf, -inf, 0, 0}, {1e300, 0, 0, -1e300}, {0, 0, 0, 0}} {
		v := quatSim.QuantizeFloat(in[0], in[1], in[2], in[3])
		if lo, hi := quatSim.Range(); v < lo || v > hi {
			t.Errorf("QuantizeFloat(%v) = %d outside Range", in, v)
		}
	}
}

func TestQuatQuantizerNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	extremes := []int64{0, 1, -1, math.MaxInt64, math.MinInt64, 1 << 16, -1 << 16}
	for range 50000 {
		q := QuatQuantizer{FracBits: uint8(rng.Uint32()), Bits: uint8(rng.Uint32())}
		if rng.IntN(2) == 0 {
			q = quatSim
		}
		var c [4]int64
		for k := range c {
			if rng.IntN(2) == 0 {
				c[k] = extremes[rng.IntN(len(extremes))]
			} else {
				c[k] = int64(rng.Uint64())
			}
		}
		v := q.Quantize(c[0], c[1], c[2], c[3])
		q.Dequantize(v)
		q.Dequantize(int32(rng.Uint32()))
		q.QuantizeFloat(math.Float64frombits(rng.Uint64()), 0, rng.NormFloat64(), math.Inf(-1))
		q.DequantizeFloat(int32(rng.Uint32()))
		q.MaxError()
		q.Range()
		if q == quatSim {
			if lo, hi := q.Range(); v < lo || v > hi {
				t.Fatalf("Quantize(%v) = %d outside Range", c, v)
			}
		}
	}
}

func TestQuatQuantizerDoesNotAllocate(t *testing.T) {
	var sink int64
	allocs := testing.AllocsPerRun(1000, func() {
		v := quatSim.Quantize(12345, -23456, 34567, 45678)
		x, y, z, w := quatSim.Dequantize(v)
		sink += x + y + z + w
		v = quatSim.QuantizeFloat(0.1, 0.2, -0.3, 0.9)
		a, b, c, d := quatSim.DequantizeFloat(v)
		sink += int64(a + b + c + d)
	})
	if allocs != 0 {
		t.Fatalf("QuatQuantizer allocates %v times per run", allocs)
	}
	_ = sink
}

// quatBenchInputs returns n random unit quaternions in Q16.
func quatBenchInputs(n int) [][4]int64 {
	rng := rand.New(rand.NewPCG(35, 36))
	in := make([][4]int64, n)
	for i := range in {
		in[i] = quatToFixed(rng, quatRandUnit(rng), 16, false)
	}
	return in
}

func BenchmarkQuatQuantize(b *testing.B) {
	in := quatBenchInputs(1024)
	b.ReportAllocs()
	b.ResetTimer()
	var s int64
	for i := range b.N {
		c := &in[i&1023]
		s += int64(quatSim.Quantize(c[0], c[1], c[2], c[3]))
	}
	quantSink = s
}

func BenchmarkQuatDequantize(b *testing.B) {
	in := quatBenchInputs(1024)
	vs := make([]int32, len(in))
	for i, c := range in {
		vs[i] = quatSim.Quantize(c[0], c[1], c[2], c[3])
	}
	b.ReportAllocs()
	b.ResetTimer()
	var s int64
	for i := range b.N {
		x, y, z, w := quatSim.Dequantize(vs[i&1023])
		s += x ^ y ^ z ^ w
	}
	quantSink = s
}
