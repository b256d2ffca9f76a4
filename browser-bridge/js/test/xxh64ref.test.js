// flotilla/xxh64.js (XXH64 on 32-bit halves) against a plain BigInt
// implementation of the same algorithm kept here as the oracle: the known
// vectors first (so the oracle itself is checked against Go), then a few
// thousand seeded random inputs of 0 to 300 bytes with seeds 0, random and
// at the edges, at odd offsets into larger buffers, and inputs of all-zero
// and all-0xff bytes (the most carries). Then the decoder's 32-bit entity
// and event hashes against the low halves of the exported BigInt ones.
// FLOTILLA_XXH_SEED and
// FLOTILLA_XXH_N override the generator's seed and the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxh64, xxh64Halves } from '../flotilla/xxh64.js';
import { xxh64 as xxh64FromIndex, newSchema, checksum, entityHash, eventHash, entitySum } from '../flotilla/index.js';
import { entityHash32, eventHash32, entitySum32 } from '../flotilla/view.js';
import { abcHash, patternBytes, prefixVectors, seededVectors } from '../testdata/xxh64vectors.js';

// ---- The oracle: XXH64 (xxHash's doc/xxhash_spec.md) on BigInt, modulo 2^64.

const MASK = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x, r) => ((x << r) | (x >> (64n - r))) & MASK;
const round = (acc, lane) => (rotl((acc + lane * P2) & MASK, 31n) * P1) & MASK;
const merge = (acc, v) => ((acc ^ round(0n, v)) * P1 + P4) & MASK;

function refXxh64(data, seed = 0n) {
  seed &= MASK;
  // The n-byte little-endian number at data[p..p+n).
  const le = (p, n) => {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(data[p + i]);
    return x;
  };
  const lane = (p) => le(p, 8);
  const len = data.length;
  let p = 0;
  let acc;
  if (len >= 32) {
    const v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK];
    for (; p + 32 <= len; p += 32) {
      for (let k = 0; k < 4; k++) v[k] = round(v[k], lane(p + 8 * k));
    }
    acc = (rotl(v[0], 1n) + rotl(v[1], 7n) + rotl(v[2], 12n) + rotl(v[3], 18n)) & MASK;
    for (const x of v) acc = merge(acc, x);
  } else {
    acc = (seed + P5) & MASK;
  }
  acc = (acc + BigInt(len)) & MASK;
  for (; p + 8 <= len; p += 8) {
    acc ^= round(0n, lane(p));
    acc = (rotl(acc, 27n) * P1 + P4) & MASK;
  }
  if (p + 4 <= len) {
    acc ^= (le(p, 4) * P1) & MASK;
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

// ---- A seeded generator (xorshift32), so that a failure can be replayed.

const genSeed = Number(process.env.FLOTILLA_XXH_SEED ?? 0x5eed1234) >>> 0 || 1;
const count = Number(process.env.FLOTILLA_XXH_N ?? 5000);

function rng(seed) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

const hex = (x) => x.toString(16).padStart(16, '0');

// Checks xxh64 and xxh64Halves against the oracle on data with seed.
function check(data, seed, what) {
  const want = refXxh64(data, seed);
  const got = xxh64(data, seed);
  assert.equal(typeof got, 'bigint', what);
  if (got !== want) assert.fail(`${what}: xxh64 = ${hex(got)}, the oracle says ${hex(want)}`);
  const s = BigInt.asUintN(64, seed);
  const out = [0, 0];
  const lo = xxh64Halves(data, Number(s >> 32n), Number(s & 0xffffffffn), out);
  assert.equal(lo, Number(want & 0xffffffffn), `${what}: xxh64Halves' low half`);
  assert.deepEqual(out, [Number(want >> 32n), Number(want & 0xffffffffn)], `${what}: xxh64Halves' halves`);
}

test('the oracle and xxh64 agree with the known vectors', () => {
  const buf = patternBytes();
  for (const [n, want] of prefixVectors) {
    assert.equal(hex(refXxh64(buf.subarray(0, n))), want, `oracle, length ${n}`);
    check(buf.subarray(0, n), 0n, `length ${n}`);
  }
  for (const [seed, n, want] of seededVectors) {
    assert.equal(hex(refXxh64(buf.subarray(0, n), seed)), want, `oracle, seed ${hex(seed)}, length ${n}`);
    check(buf.subarray(0, n), seed, `seed ${hex(seed)}, length ${n}`);
  }
  const abc = new TextEncoder().encode('abc');
  assert.equal(refXxh64(abc), abcHash);
  check(abc, 0n, '"abc"');
});

test(`xxh64 equals the BigInt oracle on ${count} random inputs of 0..300 bytes (generator seed ${genSeed})`, () => {
  const next = rng(genSeed);
  const edgeSeeds = [0n, 1n, P1, MASK, 1n << 63n, 0xffffffffn, 1n << 32n, (1n << 64n) - P1 - P2, (1n << 64n) - P5];
  const big = new Uint8Array(301 + 7);
  let zeroSeeded = 0;
  for (let i = 0; i < count; i++) {
    const len = next() % 301;
    const off = next() % 8; // the input starts anywhere in its buffer
    for (let j = 0; j < len + off; j++) big[j] = next() & 0xff;
    let seed;
    switch (i % 4) {
      case 0: seed = 0n; break;
      case 1: seed = edgeSeeds[next() % edgeSeeds.length]; break;
      default: seed = (BigInt(next()) << 32n) | BigInt(next());
    }
    if (seed === 0n) zeroSeeded++;
    check(big.subarray(off, off + len), seed, `input ${i} (length ${len}, offset ${off}, seed ${hex(seed)})`);
  }
  assert.ok(zeroSeeded >= count / 4);
});

test('xxh64 equals the oracle on every length 0..300 of all-zero and all-0xff bytes', () => {
  const seeds = [0n, MASK, P1, 0x0123456789abcdefn];
  for (const fill of [0x00, 0xff]) {
    const buf = new Uint8Array(300).fill(fill);
    for (let n = 0; n <= 300; n++) {
      for (const seed of seeds) check(buf.subarray(0, n), seed, `${n} bytes of ${fill}, seed ${hex(seed)}`);
    }
  }
});

test('xxh64 takes the seed modulo 2^64, reads a Buffer, and is the one index.js exports', () => {
  const data = patternBytes(77);
  assert.equal(xxh64(data, -1n), refXxh64(data, MASK));
  assert.equal(xxh64(data, (1n << 64n) + 5n), refXxh64(data, 5n));
  assert.equal(xxh64(data), xxh64(data, 0n));
  assert.equal(xxh64(Buffer.from(data)), refXxh64(data));
  assert.equal(xxh64FromIndex, xxh64);
  assert.throws(() => xxh64(data, 1), TypeError); // a seed is a BigInt, as before
});

test("the decoder's 32-bit hashes and sums are the low halves of entityHash, eventHash and entitySum", () => {
  const next = rng(genSeed ^ 0x9e3779b9);
  const fields = Array.from({ length: 16 }, (_, i) => ({ name: `f${i}`, min: -2147483648, max: 2147483647 }));
  const schema = newSchema({
    entities: [{ name: 'all', fields, lod: [0xffff, 0x0ff0, 0x0003, 0] }, { name: 'one', fields: fields.slice(0, 1), lod: [1, 1, 1, 1] }],
    events: [{ name: 'hit', fields: fields.slice(0, 3) }, { name: 'all', fields }],
  });
  const low = (x) => Number(x & 0xffffffffn);
  for (let v = 0; v < 200; v++) {
    const entities = [];
    let id = next() % 1000;
    for (let i = next() % 40; i > 0 && id <= 0xffffffff; i--, id += 1 + (next() % (v % 2 ? 1000 : 0x7fffffff))) {
      const kind = next() % 2;
      const values = Int32Array.from(schema.entities[kind].fields, () => next() | 0);
      entities.push({ id, kind, lod: next() % 4, values });
    }
    const events = Array.from({ length: next() % 5 }, () => {
      const kind = next() % 2;
      return { kind, values: Int32Array.from(schema.events[kind].fields, () => next() | 0) };
    });
    for (const e of entities) assert.equal(entityHash32(schema, e), low(entityHash(schema, e)));
    assert.equal(entitySum32(schema, entities), low(entitySum(schema, entities)));
    assert.equal(eventHash32(schema, entities.length, events), low(eventHash(schema, entities.length, events)));
    const view = { entities, events };
    assert.equal(checksum(schema, view), low(eventHash(schema, entities.length, events) + entitySum(schema, entities)));
  }
});
