package payload

import (
	"errors"
	"fmt"

	"github.com/flotilla/flotilla/codec"
	"github.com/flotilla/flotilla/protocol/demowire"
	"github.com/klauspost/compress/zstd"
)

// ZstdRefLevel is the zstd level the reference row asks for. klauspost's
// encoder maps it (zstd.EncoderLevelFromZstd) to SpeedBestCompression, its
// best level, which its documentation puts at roughly the compression ratio
// of the reference implementation's level 11: level 19 proper is not
// available in pure Go.
const ZstdRefLevel = 19

// bitpack is Flotilla's codec: a delta against the view age ticks old (the
// baseline the client acknowledged), or a full snapshot when age is 0. With
// ref set it is the zstd reference row: the same delta bytes, each tick's
// compressed on its own as one zstd frame (no dictionary, no context shared
// between ticks, no frame checksum) at ZstdRefLevel.
type bitpack struct {
	label  string
	schema *codec.Schema
	c      *codec.Codec
	age    int
	out    codec.View

	ref  bool
	zenc *zstd.Encoder
	zdec *zstd.Decoder
	raw  []byte // ref: the delta bytes before compression / after decompression
}

func newBitpack(label string, w *demowire.Wire, age int, ref bool) (*bitpack, error) {
	f := &bitpack{label: label, schema: w.Schema, c: codec.NewCodec(w.Schema), age: age, ref: ref}
	if !ref {
		return f, nil
	}
	var err error
	f.zenc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(ZstdRefLevel)),
		zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, fmt.Errorf("payload: zstd encoder: %w", err)
	}
	f.zdec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("payload: zstd decoder: %w", err)
	}
	f.raw = make([]byte, 0, 4096)
	return f, nil
}

func (f *bitpack) name() string { return f.label }

func (f *bitpack) close() {
	if f.zenc != nil {
		f.zenc.Close()
		f.zdec.Close()
	}
}

// base returns the baseline of tick k, nil for a full snapshot.
func (f *bitpack) base(w *window, k int) *codec.View {
	if f.age == 0 {
		return nil
	}
	return &w.frames[k-f.age].View
}

func (f *bitpack) encode(dst []byte, w *window, k int) ([]byte, error) {
	if f.ref {
		var err error
		f.raw, err = appendSnapshot(f.c, f.raw[:0], f.base(w, k), &w.frames[k].View)
		if err != nil {
			return dst, err
		}
		return f.zenc.EncodeAll(f.raw, dst), nil
	}
	return appendSnapshot(f.c, dst, f.base(w, k), &w.frames[k].View)
}

// appendSnapshot is Codec.AppendDelta that grows dst when it lacks capacity
// (the codec itself never grows a buffer). Growth allocates once per new
// high-water mark, outside steady state.
func appendSnapshot(c *codec.Codec, dst []byte, base, v *codec.View) ([]byte, error) {
	for {
		out, err := c.AppendDelta(dst, base, v)
		if !errors.Is(err, codec.ErrOverflow) {
			return out, err
		}
		grown := make([]byte, len(dst), 2*cap(dst)+4096)
		copy(grown, dst)
		dst = grown
	}
}

func (f *bitpack) decode(src []byte, w *window, k int) error {
	if f.ref {
		var err error
		f.raw, err = f.zdec.DecodeAll(src, f.raw[:0])
		if err != nil {
			return fmt.Errorf("%s: zstd: %w", f.label, err)
		}
		src = f.raw
	}
	return f.c.Decode(src, f.base(w, k), &f.out)
}

func (f *bitpack) check(w *window, k int) error {
	if !f.schema.Equal(&f.out, &w.frames[k].View) {
		return fmt.Errorf("%s: decoded view differs from the sent one", f.label)
	}
	return nil
}
