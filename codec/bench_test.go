package codec

import (
	"math/rand/v2"
	"testing"
)

// benchViews returns a 400-entity view and its next tick, about 30% of the
// entities moved (mutate's mix of moves, tier changes, adds and removes).
func benchViews(b *testing.B) (*Schema, *View, *View) {
	s := testSchema(b)
	rng := rand.New(rand.NewPCG(31, 32))
	base := randomView(rng, s, 400)
	// Encoding base records its checksum, as for any view sent before.
	if _, err := NewCodec(s).AppendFull(make([]byte, 0, 1<<16), base); err != nil {
		b.Fatal(err)
	}
	return s, base, mutate(rng, s, base)
}

func BenchmarkEncodeDelta400(b *testing.B) {
	s, base, next := benchViews(b)
	c := NewCodec(s)
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := c.AppendDelta(buf, base, next)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/snapshot")
}

func BenchmarkDecodeDelta400(b *testing.B) {
	s, base, next := benchViews(b)
	c := NewCodec(s)
	enc, err := c.AppendDelta(make([]byte, 0, 64<<10), base, next)
	if err != nil {
		b.Fatal(err)
	}
	out := &View{Entities: make([]Entity, 0, 1024), Events: make([]Event, 0, 64)}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Decode(enc, base, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMeasureDelta400(b *testing.B) {
	s, base, next := benchViews(b)
	c := NewCodec(s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.MeasureDelta(base, next); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecksum400(b *testing.B) {
	s, _, next := benchViews(b)
	b.ReportAllocs()
	for b.Loop() {
		s.Checksum(next)
	}
}
