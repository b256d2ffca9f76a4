package sim

import "math/bits"

// Rand is a splitmix64 pseudo-random generator. Its whole state is the
// exported State word, so it can live inside a game's canonical state.
// The zero value is a valid generator.
type Rand struct{ State uint64 }

// NewRand returns a generator seeded with seed.
func NewRand(seed uint64) Rand { return Rand{State: seed} }

// Uint64 returns the next 64 pseudo-random bits.
func (r *Rand) Uint64() uint64 {
	r.State += 0x9e3779b97f4a7c15
	z := r.State
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64n returns a uniform value in [0, n) without modulo bias (Lemire's
// multiply-and-reject method). It panics if n is 0.
func (r *Rand) Uint64n(n uint64) uint64 {
	if n == 0 {
		panic("sim: Rand.Uint64n(0)")
	}
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}

// Intn returns a uniform value in [0, n). It panics if n <= 0.
func (r *Rand) Intn(n int) int {
	if n <= 0 {
		panic("sim: Rand.Intn(n <= 0)")
	}
	return int(r.Uint64n(uint64(n)))
}

// Range returns a uniform value in [lo, hi], both ends included.
// It panics if lo > hi.
func (r *Rand) Range(lo, hi int64) int64 {
	if lo > hi {
		panic("sim: Rand.Range(lo > hi)")
	}
	span := uint64(hi) - uint64(lo) + 1
	if span == 0 { // the whole int64 range
		return int64(r.Uint64())
	}
	return lo + int64(r.Uint64n(span))
}

// Chance returns true with probability num/den. den must be positive.
func (r *Rand) Chance(num, den int) bool { return r.Intn(den) < num }
