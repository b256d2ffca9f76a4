package codec

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// fuzzBase is the fixed baseline the delta fuzzer decodes against.
func fuzzBase(s *Schema) *View {
	return randomView(rand.New(rand.NewPCG(21, 22)), s, 40)
}

// FuzzDecodeSnapshot feeds arbitrary bytes to the snapshot decoder, with and
// without a baseline. It must never panic; whatever decodes must re-encode
// to bytes that decode to the same view, and measure exactly what it writes.
func FuzzDecodeSnapshot(f *testing.F) {
	s := testSchema(f)
	c := NewCodec(s)
	base := fuzzBase(s)
	// base carries a recorded checksum (it was encoded), plain a copy
	// without one: decoding against either must agree.
	if _, err := c.AppendFull(make([]byte, 0, 1<<16), base); err != nil {
		f.Fatal(err)
	}
	plain := &View{}
	plain.CopyFrom(base)
	plain.Invalidate()
	rng := rand.New(rand.NewPCG(23, 24))
	for range 8 {
		next := mutate(rng, s, base)
		for _, b := range []*View{nil, base} {
			buf, err := c.AppendDelta(make([]byte, 0, 8192), b, next)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(buf)
		}
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.bin"))
	for _, g := range golden {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got, other View
		errRecorded, errPlain := c.Decode(data, base, &got), c.Decode(data, plain, &other)
		if (errRecorded == nil) != (errPlain == nil) || (errRecorded == nil && !s.Equal(&got, &other)) {
			t.Fatalf("baseline with a recorded checksum: %v; without: %v", errRecorded, errPlain)
		}
		for _, b := range []*View{nil, base} {
			if err := c.Decode(data, b, &got); err != nil {
				continue
			}
			ref := b
			if !IsDelta(data) {
				ref = nil
			}
			bits, err := c.MeasureDelta(ref, &got)
			if err != nil {
				t.Fatalf("measure of a decoded view: %v", err)
			}
			enc, err := c.AppendDelta(make([]byte, 0, (bits+7)/8), ref, &got)
			if err != nil {
				t.Fatalf("re-encode of a decoded view: %v", err)
			}
			if len(enc)*8 < bits || len(enc) != (bits+7)/8 {
				t.Fatalf("measured %d bits, wrote %d bytes", bits, len(enc))
			}
			var again View
			if err := c.Decode(enc, ref, &again); err != nil {
				t.Fatalf("decode of re-encoding: %v", err)
			}
			if !s.Equal(&got, &again) {
				t.Fatal("re-encoding changed the view")
			}
		}
	})
}

// FuzzSnapshotRoundTrip builds views from a fuzzed seed and checks
// decode(encode(x)) == x for full and delta snapshots.
func FuzzSnapshotRoundTrip(f *testing.F) {
	s := testSchema(f)
	c := NewCodec(s)
	for i := range 8 {
		f.Add(uint64(i), uint16(i*37))
	}
	f.Fuzz(func(t *testing.T, seed uint64, n uint16) {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		v := randomView(rng, s, int(n%1024))
		next := mutate(rng, s, v)
		for _, b := range []*View{nil, v} {
			bits, err := c.MeasureDelta(b, next)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := c.AppendDelta(make([]byte, 0, (bits+7)/8), b, next)
			if err != nil {
				t.Fatal(err)
			}
			var got View
			if err := c.Decode(enc, b, &got); err != nil {
				t.Fatal(err)
			}
			if !s.Equal(&got, next) {
				t.Fatal("round trip changed the view")
			}
		}
	})
}

// FuzzStream reads arbitrary bytes as a sequence of stream operations chosen
// by the first bytes: no panic, and every value read is within its range.
func FuzzStream(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6}, []byte{0xff, 0x00, 0x80, 0x7f, 0x01})
	f.Add([]byte{3, 3, 3, 3}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, ops, data []byte) {
		var s Stream
		s.ResetRead(data)
		for i, o := range ops {
			switch o % 7 {
			case 0:
				var v uint32
				s.Raw(&v, uint(i%33))
			case 1:
				var b bool
				s.Bool(&b)
			case 2:
				v := int32(0)
				s.Int(&v, -1000, 1000)
				if s.Err() == nil && (v < -1000 || v > 1000) {
					t.Fatalf("read %d outside [-1000, 1000]", v)
				}
			case 3:
				var v uint32
				s.Varint(&v)
			case 4:
				var v int32
				s.SVarint(&v)
			case 5:
				s.Align()
			case 6:
				p := make([]byte, i%5)
				s.Bytes(p)
			}
		}
		_, _ = s.Finish()
	})
}

// FuzzQuatDequantize feeds arbitrary wire values to the quaternion
// decoder: no panic, components within ±1, and re-quantizing a valid code
// gives it back.
func FuzzQuatDequantize(f *testing.F) {
	for _, v := range []int32{0, 1, -1, 1<<29 - 1, 0x12345678} {
		f.Add(v, uint8(9))
	}
	f.Fuzz(func(t *testing.T, v int32, bits uint8) {
		q := QuatQuantizer{FracBits: 16, Bits: 2 + bits%9}
		lo, hi := q.Range()
		x, y, z, w := q.Dequantize(v)
		for _, c := range []int64{x, y, z, w} {
			if c < -1<<16 || c > 1<<16 {
				t.Fatalf("bits %d: %d decodes to component %d", q.Bits, v, c)
			}
		}
		if v < lo || v > hi {
			return
		}
		again := q.Quantize(x, y, z, w)
		x2, y2, z2, w2 := q.Dequantize(again)
		if x2 != x || y2 != y || z2 != z || w2 != w {
			t.Fatalf("bits %d: %d -> (%d %d %d %d) -> %d -> (%d %d %d %d)", q.Bits, v, x, y, z, w, again, x2, y2, z2, w2)
		}
	})
}
