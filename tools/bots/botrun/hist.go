package botrun

import (
	"math"
	"math/bits"
)

// histogram counts non-negative integers in log-linear buckets: values
// below 2^sub each have their own bucket, and every octave above is split
// into 2^(sub-1) buckets, so a bucket is at most 2^-(sub-1) of its values
// wide. Values above max count as max. One bot owns each histogram; the
// runner merges them when the bots are done.
type histogram struct {
	sub    uint
	max    uint64
	counts []uint64
	n      uint64
}

func newHistogram(sub uint, max uint64) *histogram {
	h := &histogram{sub: sub, max: max}
	h.counts = make([]uint64, h.index(max)+1)
	return h
}

func (h *histogram) index(v uint64) int {
	if v < 1<<h.sub {
		return int(v)
	}
	shift := uint(bits.Len64(v)) - h.sub // ≥ 1: v >> shift lies in [2^(sub-1), 2^sub)
	return int(shift)<<(h.sub-1) + int(v>>shift)
}

// upper is the largest value in bucket i.
func (h *histogram) upper(i int) uint64 {
	if i < 1<<h.sub {
		return uint64(i)
	}
	half := 1 << (h.sub - 1)
	shift := uint(i/half) - 1
	m := uint64(i%half + half)
	return (m+1)<<shift - 1
}

func (h *histogram) add(v uint64) {
	h.counts[h.index(min(v, h.max))]++
	h.n++
}

// merge adds o's counts, which must have the same shape.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the nearest-rank q-quantile (0 < q ≤ 1), as the upper end of
// its bucket capped at max: at least a fraction q of the values are at or
// below it. Zero for an empty histogram.
func (h *histogram) quantile(q float64) uint64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(1, min(rank, h.n))
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(h.upper(i), h.max)
		}
	}
	return h.max
}
