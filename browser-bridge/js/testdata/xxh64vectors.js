// XXH64 vectors from Go's github.com/cespare/xxhash/v2 (the hash the server
// uses), shared by test/xxh64.test.js and test/xxh64ref.test.js (kept out
// of test/, where `node --test test/` would run every .js file).

/** The pattern the vectors hash a prefix of: buf[i] = byte(i*131 + 7). */
export function patternBytes(n = 200) {
  const buf = new Uint8Array(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 131 + 7) & 0xff;
  return buf;
}

/**
 * [length, xxhash.Sum64(patternBytes()[:length]) in hex], over every path of
 * the algorithm (under 32 bytes, whole stripes, 8-, 4- and 1-byte tails).
 */
export const prefixVectors = [
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

/** xxhash.Sum64String("abc"). */
export const abcHash = 0x44bc2cf5ad770999n;

/**
 * [seed, length, hex] with a seed: xxhash.NewWithSeed(seed) fed
 * patternBytes()[:length], Sum64 (cespare/xxhash v2.3.0). The seeds make
 * v4 = seed − P1 zero (P1), wrap it (1, 2^64 − 1, 2^32 − 1), or carry out
 * of the low halves when added to the primes.
 */
export const seededVectors = [
  [0x0000000000000001n, 0, 'd5afba1336a3be4b'],
  [0x0000000000000001n, 3, '95ba63f005e6e6ca'],
  [0x0000000000000001n, 4, '319607b5ca9d59d4'],
  [0x0000000000000001n, 8, 'c14d78e582fe5026'],
  [0x0000000000000001n, 13, '259671871de445f2'],
  [0x0000000000000001n, 31, 'e811d10b03941e82'],
  [0x0000000000000001n, 32, 'df4f0f6ea84ebbca'],
  [0x0000000000000001n, 45, 'edd33d7ef1eafb7d'],
  [0x0000000000000001n, 64, '8ea281ce694f574d'],
  [0x0000000000000001n, 100, 'e6a0d25e6e0a7f2a'],
  [0x0000000000000001n, 200, 'ed33bc0054b2ead0'],
  [0x9e3779b185ebca87n, 0, '6ec6d05f61c7e7a7'],
  [0x9e3779b185ebca87n, 3, '7b4f2f575536d889'],
  [0x9e3779b185ebca87n, 4, '18f6c5e78f966cfa'],
  [0x9e3779b185ebca87n, 8, 'b7e496bbfb8404d4'],
  [0x9e3779b185ebca87n, 13, 'b4aa3b895a14f3ba'],
  [0x9e3779b185ebca87n, 31, 'bf6b022699bb8376'],
  [0x9e3779b185ebca87n, 32, '3abf045074466999'],
  [0x9e3779b185ebca87n, 45, '5b9d685583e4bb42'],
  [0x9e3779b185ebca87n, 64, '1968f92919382d6f'],
  [0x9e3779b185ebca87n, 100, '049465b864c1577b'],
  [0x9e3779b185ebca87n, 200, '68be417d04617a29'],
  [0xffffffffffffffffn, 0, '298f4c84b24f5380'],
  [0xffffffffffffffffn, 3, '50127e93a7b8310d'],
  [0xffffffffffffffffn, 4, '7ebce9bbe6f6eebd'],
  [0xffffffffffffffffn, 8, '23470c129cfb3dc4'],
  [0xffffffffffffffffn, 13, 'b4070a14f8123476'],
  [0xffffffffffffffffn, 31, '0559625f4e0afe08'],
  [0xffffffffffffffffn, 32, 'd5db58b1a19eefb2'],
  [0xffffffffffffffffn, 45, '617317fcf5145073'],
  [0xffffffffffffffffn, 64, 'b59713bee12a76bd'],
  [0xffffffffffffffffn, 100, '8b8b9e7c59f840e0'],
  [0xffffffffffffffffn, 200, '5d57db445a28c1d3'],
  [0x61c8864e7a143579n, 0, 'df2f19c343364175'],
  [0x61c8864e7a143579n, 3, '430a77bb1e80f18f'],
  [0x61c8864e7a143579n, 4, '877f81cc753a8836'],
  [0x61c8864e7a143579n, 8, '15293e4695df7684'],
  [0x61c8864e7a143579n, 13, '095f69eedf84af82'],
  [0x61c8864e7a143579n, 31, '9272ec1b9077c66c'],
  [0x61c8864e7a143579n, 32, '2b3bac655802eae5'],
  [0x61c8864e7a143579n, 45, 'ad588707ef4b5991'],
  [0x61c8864e7a143579n, 64, '30b8f7427674d4ad'],
  [0x61c8864e7a143579n, 100, '54321f1c1a0e5bfb'],
  [0x61c8864e7a143579n, 200, 'b65873d51e7c1ea2'],
  [0x8000000000000000n, 0, 'cf2d67ffe44a40df'],
  [0x8000000000000000n, 3, '8e9ac43d3a978f7d'],
  [0x8000000000000000n, 4, '715baf057af25672'],
  [0x8000000000000000n, 8, '6b9812a60d4c1cf7'],
  [0x8000000000000000n, 13, 'd66bcc6762fe62d2'],
  [0x8000000000000000n, 31, '67fa0a85c3016186'],
  [0x8000000000000000n, 32, 'eb14bb61e244f221'],
  [0x8000000000000000n, 45, '8898860c5f1af8f0'],
  [0x8000000000000000n, 64, 'cf54bf40950b1376'],
  [0x8000000000000000n, 100, 'f75267e6eec7c190'],
  [0x8000000000000000n, 200, '7a71a7170c91bc70'],
  [0x00000000ffffffffn, 0, '39554c1e3db747e7'],
  [0x00000000ffffffffn, 3, '4007720add157ac1'],
  [0x00000000ffffffffn, 4, 'b9f23b8d18e83768'],
  [0x00000000ffffffffn, 8, 'c11cd9762241f5a5'],
  [0x00000000ffffffffn, 13, 'f5f80f7053d2d84d'],
  [0x00000000ffffffffn, 31, '7e0c3fd48f9b31c1'],
  [0x00000000ffffffffn, 32, 'fb81d10f62ff88d9'],
  [0x00000000ffffffffn, 45, '41de4b0a1abcaf4c'],
  [0x00000000ffffffffn, 64, 'c33727809fedbd1d'],
  [0x00000000ffffffffn, 100, '41cdc0494d1c6caf'],
  [0x00000000ffffffffn, 200, '4b33ee695cc97176'],
];
