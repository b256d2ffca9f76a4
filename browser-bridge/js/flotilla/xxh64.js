// XXH64, the 64-bit xxHash, with seed 0 by default, over a Uint8Array.
//
// Written from the public algorithm description (xxHash's doc/xxhash_spec.md):
// four 64-bit accumulators consume 32-byte stripes, then the accumulators
// converge, the input length is added, the tail is consumed in 8-, 4- and
// 1-byte steps, and a final avalanche mixes the bits. All arithmetic is
// modulo 2^64, done with BigInt for clarity (see README.md for the npm
// packages considered instead).

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

/** x rotated left by r bits; x must lie in [0, 2^64). */
function rotl(x, r) {
  return ((x << r) | (x >> (64n - r))) & MASK;
}

/** One accumulator round: acc + lane·P2, rotated by 31, times P1. */
function round(acc, lane) {
  acc = (acc + lane * P2) & MASK;
  return (rotl(acc, 31n) * P1) & MASK;
}

/** Folds accumulator v into the converged accumulator acc. */
function merge(acc, v) {
  acc ^= round(0n, v);
  return (acc * P1 + P4) & MASK;
}

/**
 * Computes XXH64 of a byte sequence.
 *
 * @param {Uint8Array} data the bytes to hash (not modified).
 * @param {bigint} [seed=0n] the seed, taken modulo 2^64.
 * @returns {bigint} the hash, an unsigned 64-bit value in [0, 2^64).
 */
export function xxh64(data, seed = 0n) {
  seed &= MASK;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let p = 0;
  let acc;
  if (len >= 32) {
    let v1 = (seed + P1 + P2) & MASK;
    let v2 = (seed + P2) & MASK;
    let v3 = seed;
    let v4 = (seed - P1) & MASK;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, dv.getBigUint64(p, true));
      v2 = round(v2, dv.getBigUint64(p + 8, true));
      v3 = round(v3, dv.getBigUint64(p + 16, true));
      v4 = round(v4, dv.getBigUint64(p + 24, true));
    }
    acc = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & MASK;
    acc = merge(acc, v1);
    acc = merge(acc, v2);
    acc = merge(acc, v3);
    acc = merge(acc, v4);
  } else {
    acc = (seed + P5) & MASK;
  }
  acc = (acc + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) {
    acc ^= round(0n, dv.getBigUint64(p, true));
    acc = (rotl(acc, 27n) * P1 + P4) & MASK;
  }
  if (p + 4 <= len) {
    acc ^= (BigInt(dv.getUint32(p, true)) * P1) & MASK;
    acc = (rotl(acc, 23n) * P2 + P3) & MASK;
    p += 4;
  }
  for (; p < len; p++) {
    acc ^= (BigInt(data[p]) * P5) & MASK;
    acc = (rotl(acc, 11n) * P1) & MASK;
  }
  acc ^= acc >> 33n;
  acc = (acc * P2) & MASK;
  acc ^= acc >> 29n;
  acc = (acc * P3) & MASK;
  acc ^= acc >> 32n;
  return acc;
}
