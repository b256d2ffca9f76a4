package netsim

import (
	"math/bits"
	"net/netip"
)

// rng is xoshiro256**: small, fast, and good enough for choosing fates. Each
// directed link owns one, so links never share a stream.
type rng struct{ s0, s1, s2, s3 uint64 }

// next returns the next 64 random bits.
func (r *rng) next() uint64 {
	out := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return out
}

// splitmix advances *x by the golden gamma and returns the mixed value: the
// seeding generator recommended for xoshiro.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	return mix(*x)
}

// mix is splitmix64's finaliser, a bijection that spreads every input bit.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// absorb folds an address and port into the hash h.
func absorb(h uint64, ap netip.AddrPort) uint64 {
	a := ap.Addr().As16()
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(a[i])
		lo = lo<<8 | uint64(a[8+i])
	}
	h = mix(h ^ hi)
	h = mix(h ^ lo)
	return mix(h ^ uint64(ap.Port()))
}

// linkRNG derives the stream of the directed link from -> to under seed.
func linkRNG(seed uint64, from, to netip.AddrPort) rng {
	x := seed
	h := absorb(absorb(splitmix(&x), from), to)
	r := rng{splitmix(&h), splitmix(&h), splitmix(&h), splitmix(&h)}
	if r.s0|r.s1|r.s2|r.s3 == 0 { // the one state xoshiro cannot leave
		r.s0 = 1
	}
	return r
}

// chance reports whether the draw u falls under probability p: never for 0,
// always for 1.
func chance(u uint64, p float64) bool {
	return float64(u>>11)*0x1p-53 < p
}

// below maps the draw u uniformly onto [0, n).
func below(u, n uint64) uint64 {
	hi, _ := bits.Mul64(u, n)
	return hi
}
