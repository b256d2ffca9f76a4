package codec

import (
	"errors"
	"math/rand/v2"
	"testing"
)

// op is one serialize call in a randomized stream test.
type op struct {
	kind     int // 0 raw, 1 bool, 2 int, 3 varint, 4 svarint, 5 align, 6 bytes, 7 uint
	n        uint
	u        uint32
	i        int32
	min, max int32
	b        bool
	p        []byte
}

func randomOps(rng *rand.Rand, count int) []op {
	ops := make([]op, count)
	for k := range ops {
		o := op{kind: rng.IntN(8)}
		switch o.kind {
		case 0:
			o.n = uint(rng.IntN(33))
			if o.n > 0 {
				o.u = rng.Uint32() >> (32 - o.n)
			}
		case 1:
			o.b = rng.IntN(2) == 1
		case 2:
			a, b := int32(rng.Uint32()), int32(rng.Uint32())
			if rng.IntN(2) == 0 {
				a, b = int32(rng.IntN(2000)-1000), int32(rng.IntN(2000)-1000)
			}
			if a > b {
				a, b = b, a
			}
			o.min, o.max = a, b
			o.i = int32(int64(a) + rng.Int64N(int64(b)-int64(a)+1))
		case 3:
			o.u = rng.Uint32() >> rng.IntN(32)
		case 4:
			o.i = int32(rng.Uint32()) >> rng.IntN(32)
		case 7:
			o.n = uint(rng.Uint32()) // the bound
			if rng.IntN(2) == 0 {
				o.n = uint(rng.IntN(1000))
			}
			o.u = uint32(rng.Uint64N(uint64(o.n) + 1))
		case 6:
			o.p = make([]byte, rng.IntN(5))
			for x := range o.p {
				o.p[x] = byte(rng.Uint32())
			}
		}
		ops[k] = o
	}
	return ops
}

func runOps(s *Stream, ops []op) []op {
	got := make([]op, len(ops))
	for k, o := range ops {
		g := o
		switch o.kind {
		case 0:
			s.Raw(&g.u, o.n)
		case 1:
			s.Bool(&g.b)
		case 2:
			s.Int(&g.i, o.min, o.max)
		case 3:
			s.Varint(&g.u)
		case 4:
			s.SVarint(&g.i)
		case 5:
			s.Align()
		case 7:
			s.Uint(&g.u, uint32(o.n))
		case 6:
			if s.IsReading() {
				g.p = make([]byte, len(o.p))
			}
			s.Bytes(g.p)
		}
		got[k] = g
	}
	return got
}

func TestStreamRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 500 {
		ops := randomOps(rng, 1+rng.IntN(60))
		var s Stream
		s.ResetMeasure()
		runOps(&s, ops)
		measured := s.Bits()

		buf := make([]byte, 3, 3+(measured+7)/8) // exact capacity after a 3-byte prefix
		s.ResetWrite(buf)
		runOps(&s, ops)
		written := s.Bits()
		out, err := s.Finish()
		if err != nil {
			t.Fatalf("iter %d: write: %v", iter, err)
		}
		if measured != written {
			t.Fatalf("iter %d: measured %d bits, wrote %d", iter, measured, written)
		}
		if len(out) != 3+(written+7)/8 {
			t.Fatalf("iter %d: %d bytes for %d bits", iter, len(out), written)
		}
		s.ResetRead(out[3:])
		got := runOps(&s, ops)
		if _, err := s.Finish(); err != nil {
			t.Fatalf("iter %d: read: %v", iter, err)
		}
		for k := range ops {
			o, g := ops[k], got[k]
			if o.u != g.u || o.i != g.i || o.b != g.b || string(o.p) != string(g.p) {
				t.Fatalf("iter %d op %d (kind %d): wrote %+v read %+v", iter, k, o.kind, o, g)
			}
		}
	}
}

func TestBitOrderIsLSBFirst(t *testing.T) {
	var s Stream
	s.ResetWrite(make([]byte, 0, 8))
	a, b, c := uint32(1), uint32(0x5), uint32(0x3ff)
	s.Raw(&a, 1)  // bit 0
	s.Raw(&b, 3)  // bits 1..3
	s.Raw(&c, 10) // bits 4..13
	out, err := s.Finish()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x01 | 0x5<<1 | 0xf<<4, 0x3f}
	if string(out) != string(want) {
		t.Fatalf("got % x want % x", out, want)
	}
}

func TestReadPastEndFails(t *testing.T) {
	for n := range 9 {
		src := make([]byte, n)
		var s Stream
		s.ResetRead(src)
		var v uint32
		for range n * 8 {
			s.Raw(&v, 1)
		}
		if s.Err() != nil {
			t.Fatalf("%d bytes: error before the end: %v", n, s.Err())
		}
		s.Raw(&v, 1)
		if !errors.Is(s.Err(), ErrEOF) {
			t.Fatalf("%d bytes: got %v, want ErrEOF", n, s.Err())
		}
		s.Raw(&v, 32) // sticky, no panic
		if !errors.Is(s.Err(), ErrEOF) {
			t.Fatal("error not sticky")
		}
	}
	var s Stream
	s.ResetRead([]byte{1, 2})
	p := make([]byte, 3)
	s.Bytes(p)
	if !errors.Is(s.Err(), ErrEOF) {
		t.Fatalf("bytes past end: %v", s.Err())
	}
}

func TestWritePastCapacityFails(t *testing.T) {
	var s Stream
	s.ResetWrite(make([]byte, 1, 3))
	v := uint32(0xffff)
	s.Raw(&v, 16)
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	one := uint32(1)
	s.Raw(&one, 1)
	if !errors.Is(s.Err(), ErrOverflow) {
		t.Fatalf("got %v, want ErrOverflow", s.Err())
	}
	if _, err := s.Finish(); !errors.Is(err, ErrOverflow) {
		t.Fatalf("finish: %v", err)
	}
}

func TestRangedIntRejectsOutOfRange(t *testing.T) {
	var s Stream
	s.ResetWrite(make([]byte, 0, 8))
	v := int32(11)
	s.Int(&v, 0, 10)
	if !errors.Is(s.Err(), ErrWriteRange) {
		t.Fatalf("write: got %v", s.Err())
	}
	// 0..10 takes 4 bits; 15 is representable in 4 bits but out of range.
	s.ResetRead([]byte{0x0f})
	s.Int(&v, 0, 10)
	if !errors.Is(s.Err(), ErrRange) {
		t.Fatalf("read: got %v", s.Err())
	}
	// Raw rejects bits above its width on write.
	s.ResetWrite(make([]byte, 0, 8))
	u := uint32(4)
	s.Raw(&u, 2)
	if !errors.Is(s.Err(), ErrWriteRange) {
		t.Fatalf("raw: got %v", s.Err())
	}
	// Uint: 0..10 takes 4 bits, like Int above.
	s.ResetWrite(make([]byte, 0, 8))
	u = 11
	s.Uint(&u, 10)
	if !errors.Is(s.Err(), ErrWriteRange) {
		t.Fatalf("uint write: got %v", s.Err())
	}
	s.ResetRead([]byte{0x0f})
	s.Uint(&u, 10)
	if !errors.Is(s.Err(), ErrRange) {
		t.Fatalf("uint read: got %v", s.Err())
	}
}

func TestRangedIntWidths(t *testing.T) {
	cases := []struct {
		min, max int32
		bits     int
	}{
		{0, 0, 0}, {0, 1, 1}, {0, 2, 2}, {-1, 1, 2}, {0, 255, 8}, {0, 256, 9},
		{-8192, 8191, 14}, {-2147483648, 2147483647, 32}, {5, 5, 0},
	}
	for _, c := range cases {
		var s Stream
		s.ResetMeasure()
		v := c.max
		s.Int(&v, c.min, c.max)
		if s.Bits() != c.bits || s.Err() != nil {
			t.Errorf("[%d,%d]: %d bits (%v), want %d", c.min, c.max, s.Bits(), s.Err(), c.bits)
		}
	}
}

func TestVarintLimits(t *testing.T) {
	for _, v := range []uint32{0, 1, 127, 128, 16383, 16384, 1<<28 - 1, 1 << 28, 0xffffffff} {
		var s Stream
		s.ResetWrite(make([]byte, 0, 8))
		x := v
		s.Varint(&x)
		out, err := s.Finish()
		if err != nil {
			t.Fatal(err)
		}
		s.ResetRead(out)
		var y uint32
		s.Varint(&y)
		if s.Err() != nil || y != v {
			t.Fatalf("%d: got %d, %v", v, y, s.Err())
		}
	}
	// Five groups with the continuation bit set on the last: malformed.
	src := []byte{0xff, 0xff, 0xff, 0xff, 0xff}
	var s Stream
	s.ResetRead(src)
	var y uint32
	s.Varint(&y)
	if !errors.Is(s.Err(), ErrVarint) {
		t.Fatalf("got %v, want ErrVarint", s.Err())
	}
}

func TestZigzag(t *testing.T) {
	for _, c := range []struct {
		v int32
		u uint32
	}{{0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {2147483647, 4294967294}, {-2147483648, 4294967295}} {
		if Zigzag(c.v) != c.u || Unzigzag(c.u) != c.v {
			t.Errorf("%d <-> %d: got %d, %d", c.v, c.u, Zigzag(c.v), Unzigzag(c.u))
		}
	}
}

func TestPaddingMustBeZero(t *testing.T) {
	var s Stream
	s.ResetRead([]byte{0x03})
	var v uint32
	s.Raw(&v, 1)
	if _, err := s.Finish(); !errors.Is(err, ErrPadding) {
		t.Fatalf("trailing padding: %v", err)
	}
	s.ResetRead([]byte{0x03, 0x00})
	s.Raw(&v, 1)
	s.Align()
	if !errors.Is(s.Err(), ErrPadding) {
		t.Fatalf("align padding: %v", s.Err())
	}
	s.ResetRead([]byte{0x01, 0x00})
	s.Raw(&v, 1)
	if _, err := s.Finish(); !errors.Is(err, ErrTrailing) {
		t.Fatalf("trailing byte: %v", err)
	}
}

func TestStreamAllocatesNothing(t *testing.T) {
	buf := make([]byte, 0, 64)
	var s Stream
	allocs := testing.AllocsPerRun(100, func() {
		s.ResetWrite(buf)
		v, i, b := uint32(300), int32(-5), true
		s.Varint(&v)
		s.Int(&i, -10, 10)
		s.Bool(&b)
		out, _ := s.Finish()
		s.ResetRead(out)
		s.Varint(&v)
		s.Int(&i, -10, 10)
		s.Bool(&b)
		_, _ = s.Finish()
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per run", allocs)
	}
}
