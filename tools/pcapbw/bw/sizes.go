package bw

import "slices"

// sizeHist counts packets per distinct UDP payload size, sizes ascending,
// so that quantiles are exact. A payload is at most 65,527 bytes, so it
// holds at most that many entries however many packets it counts. Adding a
// size already seen does not allocate.
type sizeHist struct {
	sizes  []uint16
	counts []uint64
	n      uint64
}

func (h *sizeHist) add(size int) {
	s := uint16(size)
	i, found := slices.BinarySearch(h.sizes, s)
	if !found {
		h.sizes = slices.Insert(h.sizes, i, s)
		h.counts = slices.Insert(h.counts, i, 0)
	}
	h.counts[i]++
	h.n++
}

// summary is the nearest-rank median and 99th percentile, and the maximum;
// all zero without packets.
func (h *sizeHist) summary() Sizes {
	if h.n == 0 {
		return Sizes{}
	}
	return Sizes{
		P50: h.rank((h.n + 1) / 2), // ceil(n/2)
		P99: h.rank(h.n - h.n/100), // ceil(99n/100)
		Max: int(h.sizes[len(h.sizes)-1]),
	}
}

// rank is the size of the r-th smallest packet, r from 1.
func (h *sizeHist) rank(r uint64) int {
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= r {
			return int(h.sizes[i])
		}
	}
	return int(h.sizes[len(h.sizes)-1])
}
