package payload

import "testing"

// benchStream returns combat100's formats and a window of its frames: the
// lag history followed by n ticks, each encoded once (so views carry their
// checksums, as a server's baselines do) with its encoding per format.
func benchStream(b *testing.B, n int) ([]format, *window, int, [][][]byte) {
	b.Helper()
	src, err := newSource("combat100", 7)
	if err != nil {
		b.Fatal(err)
	}
	fs, err := newFormats(nil, src.wire, src.sc.Hz)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeFormats(fs) })
	lag := lagTicks(src.sc.Hz)
	w := &window{frames: make([]tick, lag+n)}
	for i := range w.frames {
		if err := src.next(&w.frames[i]); err != nil {
			b.Fatal(err)
		}
	}
	enc := make([][][]byte, len(fs))
	for fi, f := range fs {
		enc[fi] = make([][]byte, len(w.frames))
		for k := lag; k < len(w.frames); k++ {
			if enc[fi][k], err = f.encode(nil, w, k); err != nil {
				b.Fatal(err)
			}
		}
	}
	return fs, w, lag, enc
}

// BenchmarkEncode: one op encodes one tick of combat100's observer (tile
// and neighbours, ~286 entities) in the format.
func BenchmarkEncode(b *testing.B) {
	fs, w, lag, enc := benchStream(b, 32)
	for fi, f := range fs {
		b.Run(f.name(), func(b *testing.B) {
			bufs := enc[fi]
			var bytes, i int
			b.ReportAllocs()
			for b.Loop() {
				k := lag + i%(len(w.frames)-lag)
				out, err := f.encode(bufs[k][:0], w, k)
				if err != nil {
					b.Fatal(err)
				}
				bufs[k] = out
				bytes += len(out)
				i++
			}
			b.ReportMetric(float64(bytes)/float64(i), "bytes/tick")
		})
	}
}

// BenchmarkDecode: one op decodes one such tick (and rebuilds the view, or
// the naive records).
func BenchmarkDecode(b *testing.B) {
	fs, w, lag, enc := benchStream(b, 32)
	for fi, f := range fs {
		b.Run(f.name(), func(b *testing.B) {
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				k := lag + i%(len(w.frames)-lag)
				if err := f.decode(enc[fi][k], w, k); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
