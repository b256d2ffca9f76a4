package payload

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flotilla/flotilla/protocol/demowire"
)

// Format names, in report order.
const (
	FormatDelta       = "bitpack-delta"          // codec delta against the view of the previous tick
	FormatDeltaLag    = "bitpack-delta-lag100ms" // codec delta against the view of ~100 ms ago
	FormatFull        = "bitpack-full"           // codec full snapshot, no baseline
	FormatZstdRef     = "zstd-19"                // the bitpack-delta bytes, zstd at klauspost's best level
	FormatFlatBuffers = "flatbuffers"            // codec/fbs, full state of the quantized view
	FormatProtobuf    = "protobuf"               // frame.proto, full state of the quantized view
	FormatJSONZstd    = "json-zstd"              // encoding/json of the quantized view, zstd default level
	FormatNaive       = "naive"                  // full-precision state in 4-byte words, the 100% line
)

// FormatNames returns every format, in report order.
func FormatNames() []string {
	return []string{FormatDelta, FormatDeltaLag, FormatFull, FormatZstdRef,
		FormatFlatBuffers, FormatProtobuf, FormatJSONZstd, FormatNaive}
}

// format encodes one tick of an observer's stream and decodes it back. A
// format owns its scratch state, so it is not safe for concurrent use.
type format interface {
	name() string
	// encode appends the encoding of tick k of w to dst (growing it if
	// needed) and returns the extended slice.
	encode(dst []byte, w *window, k int) ([]byte, error)
	// decode decodes src, the encoding of tick k, into the format's own
	// output (a delta format reads its baseline from w).
	decode(src []byte, w *window, k int) error
	// check reports whether the last decode rebuilt tick k exactly.
	check(w *window, k int) error
}

// closer is a format holding resources to release after a run.
type closer interface{ close() }

// window holds consecutive frames of one observer: ticks older than the
// one measured serve as baselines, so a delta of age a for tick k is taken
// against frames[k-a].
type window struct {
	frames []tick
}

// lagTicks returns the baseline age of the lagged delta: the ticks in
// 100 ms at hz, rounded, at least 1 (3 at 30 Hz, 6 at 60 Hz).
func lagTicks(hz int) int { return max(1, (hz+5)/10) }

// newFormats returns the named formats (all when names is empty) for the
// demo wire w of a scenario running at hz, in report order.
func newFormats(names []string, w *demowire.Wire, hz int) ([]format, error) {
	for _, n := range names {
		if !slices.Contains(FormatNames(), n) {
			return nil, fmt.Errorf("payload: unknown format %q (valid: %s)", n, strings.Join(FormatNames(), ", "))
		}
	}
	var out []format
	for _, n := range FormatNames() {
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		var f format
		var err error
		switch n {
		case FormatDelta:
			f, err = newBitpack(n, w, 1, false)
		case FormatDeltaLag:
			f, err = newBitpack(n, w, lagTicks(hz), false)
		case FormatFull:
			f, err = newBitpack(n, w, 0, false)
		case FormatZstdRef:
			f, err = newBitpack(n, w, 1, true)
		case FormatFlatBuffers:
			f, err = newFlatBuffers(w)
		case FormatProtobuf:
			f = newProtobuf(w)
		case FormatJSONZstd:
			f, err = newJSONZstd(w)
		case FormatNaive:
			f = &naive{}
		}
		if err != nil {
			closeFormats(out)
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func closeFormats(fs []format) {
	for _, f := range fs {
		if c, ok := f.(closer); ok {
			c.close()
		}
	}
}

// baselineAge returns the age in ticks of the baseline format f encodes
// against, 0 for a format without one.
func baselineAge(f format) int {
	if b, ok := f.(*bitpack); ok {
		return b.age
	}
	return 0
}
