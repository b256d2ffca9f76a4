package bw

import "slices"

// sizeHist counts packets per distinct UDP payload size, so that quantiles
// are exact. A payload is at most 65,527 bytes, so it holds at most that
// many entries however many packets it counts; adding a size already seen
// does not allocate, and a new one costs an amortized map insert whatever
// order sizes come in.
type sizeHist struct {
	counts map[uint16]uint64
	n      uint64
}

func (h *sizeHist) add(size int) {
	if h.counts == nil {
		h.counts = make(map[uint16]uint64)
	}
	h.counts[uint16(size)]++
	h.n++
}

// summary is the nearest-rank median and 99th percentile, and the maximum;
// all zero without packets.
func (h *sizeHist) summary() Sizes {
	if h.n == 0 {
		return Sizes{}
	}
	sizes := make([]uint16, 0, len(h.counts))
	for s := range h.counts {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	return Sizes{
		P50: h.rank(sizes, (h.n+1)/2),   // ceil(n/2)
		P99: h.rank(sizes, h.n-h.n/100), // ceil(99n/100)
		Max: int(sizes[len(sizes)-1]),
	}
}

// rank is the size of the r-th smallest packet, r from 1; sizes are the
// distinct sizes, ascending.
func (h *sizeHist) rank(sizes []uint16, r uint64) int {
	var seen uint64
	for _, s := range sizes {
		seen += h.counts[s]
		if seen >= r {
			return int(s)
		}
	}
	return int(sizes[len(sizes)-1])
}
