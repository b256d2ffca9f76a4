// XXH64, the 64-bit xxHash, with seed 0 by default, over a Uint8Array.
//
// Written from the public algorithm description (xxHash's doc/xxhash_spec.md):
// four 64-bit accumulators consume 32-byte stripes, then the accumulators
// converge, the input length is added, the tail is consumed in 8-, 4- and
// 1-byte steps, and a final avalanche mixes the bits. All arithmetic is
// modulo 2^64, done on pairs of unsigned 32-bit halves (high:low) held in
// plain numbers: no BigInt until xxh64 builds its result. A sum adds the low
// halves as exact doubles and carries into the high half; a product takes
// its low half from Math.imul and its high half from 16-bit partial products
// (below); rotations and shifts move bits between the halves. (README.md
// has the measurements and the npm packages considered instead.)

// The five primes, as [high, low] halves.
const P1H = 0x9e3779b1, P1L = 0x85ebca87; // 0x9e3779b185ebca87
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f; // 0xc2b2ae3d27d4eb4f
const P3H = 0x165667b1, P3L = 0x9e3779f9; // 0x165667b19e3779f9
const P4H = 0x85ebca77, P4L = 0xc2b2ae63; // 0x85ebca77c2b2ae63
const P5H = 0x27d4eb2f, P5L = 0x165667c5; // 0x27d4eb2f165667c5

// The 16-bit pieces of the low halves the products need: PnL = PnB·2^16 + PnA.
const P1A = P1L & 0xffff, P1B = P1L >>> 16;
const P2A = P2L & 0xffff, P2B = P2L >>> 16;
const P3A = P3L & 0xffff, P3B = P3L >>> 16;

const TWO32 = 4294967296;

// How a product x·P modulo 2^64 is computed, x = xh:xl and P = PH:PL a
// prime. Its low half is Math.imul(xl, PL) (>>> 0 for the unsigned value).
// Its high half is, modulo 2^32,
//
//   hi32(xl·PL) + Math.imul(xh, PL) + Math.imul(xl, PH)
//
// (xh·PH only reaches bit 64 and falls out), where hi32(xl·PL), the high
// half of the exact 64-bit product, comes from 16-bit pieces
// xl = a1·2^16 + a0 and PL = B·2^16 + A:
//
//   m = a1·A + (a0·A >>> 16)          (below 2^32)
//   n = a0·B + (m & 0xffff)           (below 2^32)
//   hi32 = a1·B + (m >>> 16) + (n >>> 16)
//
// Every partial product is below 2^32 and every sum below 2^35, so each is
// exact in a double; >>> 0, a shift, ^ or a Uint32Array store then reduces
// it modulo 2^32. The steps are written out at every product rather than
// called: V8 does not inline a dozen calls of a helper this size, and a
// call that is not inlined costs as much as the arithmetic (a helper made
// short inputs about 1.8 times slower).

// The four stripe accumulators, v1..v4 as [high, low] at 2k, 2k+1 (a
// Uint32Array reduces what is stored modulo 2^32). The hash never calls
// out, so one array serves every call.
const V = new Uint32Array(8);

// xxh64's result halves [high, low], and the view that makes a BigInt of
// them.
const OUT = new Uint32Array(2);
const OUT_VIEW = new DataView(new ArrayBuffer(8));

/** The little-endian u32 at b[p..p+4), unsigned. */
function u32(b, p) {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/**
 * Computes XXH64 of a byte sequence on 32-bit halves: the library's own
 * entry point for callers that want numbers, not a BigInt.
 *
 * @param {Uint8Array} data the bytes to hash (not modified).
 * @param {number} [seedHi=0] the seed's high 32 bits.
 * @param {number} [seedLo=0] the seed's low 32 bits.
 * @param {Uint32Array|number[]|null} [out] if given, receives the hash's
 *   high half in out[0] and its low half in out[1], both unsigned.
 * @returns {number} the hash's low 32 bits, unsigned.
 */
export function xxh64Halves(data, seedHi = 0, seedLo = 0, out = null) {
  const sh = seedHi >>> 0, sl = seedLo >>> 0;
  const len = data.length;
  let p = 0;
  let h, l; // the accumulator acc = h:l
  let th, tl; // a temporary th:tl
  let s, a0, a1, m, n;
  if (len >= 32) {
    s = sl + P1L + P2L; // v1 = seed + P1 + P2
    V[1] = s;
    V[0] = sh + P1H + P2H + Math.floor(s / TWO32);
    s = sl + P2L; // v2 = seed + P2
    V[3] = s;
    V[2] = sh + P2H + (s >= TWO32 ? 1 : 0);
    V[4] = sh; // v3 = seed
    V[5] = sl;
    s = sl - P1L; // v4 = seed - P1
    V[7] = s;
    V[6] = sh - P1H - (s < 0 ? 1 : 0);
    do {
      for (let k = 0; k < 8; k += 2, p += 8) {
        // v = rotl(v + lane·P2, 31)·P1, lane = xh:xl
        const xl = u32(data, p);
        a0 = xl & 0xffff; // h:l = v + lane·P2
        a1 = xl >>> 16;
        m = a1 * P2A + ((a0 * P2A) >>> 16);
        n = a0 * P2B + (m & 0xffff);
        s = V[k + 1] + (Math.imul(xl, P2L) >>> 0);
        l = s >>> 0;
        h = (V[k] + a1 * P2B + (m >>> 16) + (n >>> 16) + Math.imul(u32(data, p + 4), P2L) + Math.imul(xl, P2H) +
          (s >= TWO32 ? 1 : 0)) >>> 0;
        th = (h << 31) | (l >>> 1); // th:l = rotl(h:l, 31)
        l = (l << 31) | (h >>> 1);
        a0 = l & 0xffff; // v = th:l·P1
        a1 = l >>> 16;
        m = a1 * P1A + ((a0 * P1A) >>> 16);
        n = a0 * P1B + (m & 0xffff);
        V[k] = a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(th, P1L) + Math.imul(l, P1H);
        V[k + 1] = Math.imul(l, P1L);
      }
    } while (p + 32 <= len);
    // acc = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
    s = (((V[1] << 1) | (V[0] >>> 31)) >>> 0) + (((V[3] << 7) | (V[2] >>> 25)) >>> 0) +
      (((V[5] << 12) | (V[4] >>> 20)) >>> 0) + (((V[7] << 18) | (V[6] >>> 14)) >>> 0);
    l = s >>> 0;
    h = ((((V[0] << 1) | (V[1] >>> 31)) >>> 0) + (((V[2] << 7) | (V[3] >>> 25)) >>> 0) +
      (((V[4] << 12) | (V[5] >>> 20)) >>> 0) + (((V[6] << 18) | (V[7] >>> 14)) >>> 0) +
      Math.floor(s / TWO32)) >>> 0;
    for (let k = 0; k < 8; k += 2) {
      // acc = (acc ^ rotl(v·P2, 31)·P1)·P1 + P4
      const xl = V[k + 1];
      a0 = xl & 0xffff; // th:tl = v·P2
      a1 = xl >>> 16;
      m = a1 * P2A + ((a0 * P2A) >>> 16);
      n = a0 * P2B + (m & 0xffff);
      th = a1 * P2B + (m >>> 16) + (n >>> 16) + Math.imul(V[k], P2L) + Math.imul(xl, P2H);
      tl = Math.imul(xl, P2L);
      s = (th << 31) | (tl >>> 1); // s:tl = rotl(th:tl, 31)
      tl = (tl << 31) | (th >>> 1);
      a0 = tl & 0xffff; // acc ^= s:tl·P1
      a1 = tl >>> 16;
      m = a1 * P1A + ((a0 * P1A) >>> 16);
      n = a0 * P1B + (m & 0xffff);
      h ^= a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(s, P1L) + Math.imul(tl, P1H);
      l ^= Math.imul(tl, P1L);
      a0 = l & 0xffff; // acc = acc·P1 + P4
      a1 = l >>> 16;
      m = a1 * P1A + ((a0 * P1A) >>> 16);
      n = a0 * P1B + (m & 0xffff);
      th = a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(h, P1L) + Math.imul(l, P1H) + P4H;
      s = (Math.imul(l, P1L) >>> 0) + P4L;
      l = s >>> 0;
      h = (th + (s >= TWO32 ? 1 : 0)) >>> 0;
    }
  } else {
    s = sl + P5L; // acc = seed + P5
    l = s >>> 0;
    h = (sh + P5H + (s >= TWO32 ? 1 : 0)) >>> 0;
  }
  // acc += len
  s = l + (len >>> 0);
  l = s >>> 0;
  h = (h + Math.floor(len / TWO32) + (s >= TWO32 ? 1 : 0)) >>> 0;
  for (; p + 8 <= len; p += 8) {
    // acc ^= rotl(lane·P2, 31)·P1; acc = rotl(acc, 27)·P1 + P4
    const xl = u32(data, p);
    a0 = xl & 0xffff; // th:tl = lane·P2
    a1 = xl >>> 16;
    m = a1 * P2A + ((a0 * P2A) >>> 16);
    n = a0 * P2B + (m & 0xffff);
    th = a1 * P2B + (m >>> 16) + (n >>> 16) + Math.imul(u32(data, p + 4), P2L) + Math.imul(xl, P2H);
    tl = Math.imul(xl, P2L);
    s = (th << 31) | (tl >>> 1); // s:tl = rotl(th:tl, 31)
    tl = (tl << 31) | (th >>> 1);
    a0 = tl & 0xffff; // acc ^= s:tl·P1
    a1 = tl >>> 16;
    m = a1 * P1A + ((a0 * P1A) >>> 16);
    n = a0 * P1B + (m & 0xffff);
    h ^= a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(s, P1L) + Math.imul(tl, P1H);
    l ^= Math.imul(tl, P1L);
    th = (h << 27) | (l >>> 5); // th:l = rotl(acc, 27)
    l = (l << 27) | (h >>> 5);
    a0 = l & 0xffff; // acc = th:l·P1 + P4
    a1 = l >>> 16;
    m = a1 * P1A + ((a0 * P1A) >>> 16);
    n = a0 * P1B + (m & 0xffff);
    th = a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(th, P1L) + Math.imul(l, P1H) + P4H;
    s = (Math.imul(l, P1L) >>> 0) + P4L;
    l = s >>> 0;
    h = (th + (s >= TWO32 ? 1 : 0)) >>> 0;
  }
  if (p + 4 <= len) {
    // acc ^= lane32·P1; acc = rotl(acc, 23)·P2 + P3 (lane32 has no high
    // half, so no Math.imul(xh, P1L) term)
    const xl = u32(data, p);
    a0 = xl & 0xffff;
    a1 = xl >>> 16;
    m = a1 * P1A + ((a0 * P1A) >>> 16);
    n = a0 * P1B + (m & 0xffff);
    h ^= a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(xl, P1H);
    l ^= Math.imul(xl, P1L);
    th = (h << 23) | (l >>> 9); // th:l = rotl(acc, 23)
    l = (l << 23) | (h >>> 9);
    a0 = l & 0xffff; // acc = th:l·P2 + P3
    a1 = l >>> 16;
    m = a1 * P2A + ((a0 * P2A) >>> 16);
    n = a0 * P2B + (m & 0xffff);
    th = a1 * P2B + (m >>> 16) + (n >>> 16) + Math.imul(th, P2L) + Math.imul(l, P2H) + P3H;
    s = (Math.imul(l, P2L) >>> 0) + P3L;
    l = s >>> 0;
    h = (th + (s >= TWO32 ? 1 : 0)) >>> 0;
    p += 4;
  }
  for (; p < len; p++) {
    // acc ^= byte·P5; acc = rotl(acc, 11)·P1. byte·P5L is below 2^40,
    // exact in a double, so its high half needs no pieces.
    const b = data[p];
    h ^= Math.floor((b * P5L) / TWO32) + Math.imul(b, P5H);
    l ^= Math.imul(b, P5L);
    th = (h << 11) | (l >>> 21); // th:l = rotl(acc, 11)
    l = (l << 11) | (h >>> 21);
    a0 = l & 0xffff; // acc = th:l·P1
    a1 = l >>> 16;
    m = a1 * P1A + ((a0 * P1A) >>> 16);
    n = a0 * P1B + (m & 0xffff);
    h = (a1 * P1B + (m >>> 16) + (n >>> 16) + Math.imul(th, P1L) + Math.imul(l, P1H)) >>> 0;
    l = Math.imul(l, P1L);
  }
  // The avalanche.
  l ^= h >>> 1; // acc ^= acc >> 33
  a0 = l & 0xffff; // acc ·= P2
  a1 = l >>> 16;
  m = a1 * P2A + ((a0 * P2A) >>> 16);
  n = a0 * P2B + (m & 0xffff);
  h = (a1 * P2B + (m >>> 16) + (n >>> 16) + Math.imul(h, P2L) + Math.imul(l, P2H)) >>> 0;
  l = Math.imul(l, P2L);
  l ^= (l >>> 29) | (h << 3); // acc ^= acc >> 29
  h ^= h >>> 29;
  a0 = l & 0xffff; // acc ·= P3
  a1 = l >>> 16;
  m = a1 * P3A + ((a0 * P3A) >>> 16);
  n = a0 * P3B + (m & 0xffff);
  h = (a1 * P3B + (m >>> 16) + (n >>> 16) + Math.imul(h, P3L) + Math.imul(l, P3H)) >>> 0;
  l = (Math.imul(l, P3L) ^ h) >>> 0; // acc ^= acc >> 32
  if (out) {
    out[0] = h;
    out[1] = l;
  }
  return l;
}

/**
 * Computes XXH64 of a byte sequence.
 *
 * @param {Uint8Array} data the bytes to hash (not modified).
 * @param {bigint} [seed=0n] the seed, taken modulo 2^64.
 * @returns {bigint} the hash, an unsigned 64-bit value in [0, 2^64).
 */
export function xxh64(data, seed = 0n) {
  if (seed === 0n) {
    xxh64Halves(data, 0, 0, OUT);
  } else {
    seed = BigInt.asUintN(64, seed);
    xxh64Halves(data, Number(seed >> 32n), Number(seed & 0xffffffffn), OUT);
  }
  OUT_VIEW.setUint32(0, OUT[0]);
  OUT_VIEW.setUint32(4, OUT[1]);
  return OUT_VIEW.getBigUint64(0);
}
