// XXH64 against outputs of Go's github.com/cespare/xxhash/v2 (the hash the
// server uses), over the prefixes of a fixed byte pattern: every path of the
// algorithm (under 32 bytes, whole stripes, 8-, 4- and 1-byte tails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxh64 } from '../flotilla/xxh64.js';
import { abcHash, patternBytes, prefixVectors, seededVectors } from '../testdata/xxh64vectors.js';

test('xxh64 matches cespare/xxhash on every input length class', () => {
  const buf = patternBytes();
  for (const [n, want] of prefixVectors) {
    assert.equal(xxh64(buf.subarray(0, n)).toString(16).padStart(16, '0'), want, `length ${n}`);
  }
});

test('xxh64 with a seed matches cespare/xxhash NewWithSeed', () => {
  const buf = patternBytes();
  for (const [seed, n, want] of seededVectors) {
    assert.equal(xxh64(buf.subarray(0, n), seed).toString(16).padStart(16, '0'), want, `seed ${seed.toString(16)}, length ${n}`);
  }
});

test('xxh64 of "abc" and of a view into a larger buffer', () => {
  assert.equal(xxh64(new TextEncoder().encode('abc')), abcHash);
  const big = new Uint8Array(10);
  big.set(new TextEncoder().encode('abc'), 5);
  assert.equal(xxh64(big.subarray(5, 8)), abcHash);
});
