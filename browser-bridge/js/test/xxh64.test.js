// XXH64 against outputs of Go's github.com/cespare/xxhash/v2 (the hash the
// server uses), over the prefixes of a fixed byte pattern: every path of the
// algorithm (under 32 bytes, whole stripes, 8-, 4- and 1-byte tails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xxh64 } from '../flotilla/xxh64.js';

// buf[i] = byte(i*131 + 7); [length, xxhash.Sum64(buf[:length])].
const vectors = [
  [0, 'ef46db3751d8e999'],
  [1, 'a96c7f0ce858bbb7'],
  [3, 'bed43740ee6332bb'],
  [4, 'fa212ae44b3bb23d'],
  [5, 'd339dcc9ac8e6776'],
  [7, '2744460dd675d2c0'],
  [8, '994b676b71ce94dd'],
  [9, '572b84c18b983af8'],
  [15, '09e6451ed2ff8b1d'],
  [16, '94ad0095e72b24d5'],
  [31, '6711d55e306b5d8f'],
  [32, '07f7b8e3bc5d6e25'],
  [33, '09f85eeb4e1cbe9f'],
  [46, '713a114207f600e2'],
  [63, 'b7c9968c066cb6a5'],
  [64, '50d4159a0411632e'],
  [65, 'd277176bff863efc'],
  [100, '9ddada11d3dc2d8f'],
  [200, '3b8cc7eaa63f107e'],
];

test('xxh64 matches cespare/xxhash on every input length class', () => {
  const buf = new Uint8Array(200);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
  for (const [n, want] of vectors) {
    assert.equal(xxh64(buf.subarray(0, n)).toString(16).padStart(16, '0'), want, `length ${n}`);
  }
});

test('xxh64 of "abc" and of a view into a larger buffer', () => {
  assert.equal(xxh64(new TextEncoder().encode('abc')), 0x44bc2cf5ad770999n);
  const big = new Uint8Array(10);
  big.set(new TextEncoder().encode('abc'), 5);
  assert.equal(xxh64(big.subarray(5, 8)), 0x44bc2cf5ad770999n);
});
