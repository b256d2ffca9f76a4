// Measures XXH64 alone in Node: nanoseconds per hash of inputs of 38 and 70
// bytes (an entity of the demo schema is 6 + 4 bytes per carried field),
// 300 and 4,000 bytes, for xxh64 (a BigInt result) and, when the module
// has it, xxh64Halves (numbers). Eight rounds, the best reported. An
// optional argument names another module exporting xxh64, e.g. an earlier
// version to compare with:
//
//   node browser-bridge/js/bench/xxh64.js
//   git show cbc9d58:browser-bridge/js/flotilla/xxh64.js > /tmp/old-xxh64.mjs  # the BigInt one
//   node browser-bridge/js/bench/xxh64.js /tmp/old-xxh64.mjs
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const url = process.argv[2] ? pathToFileURL(path.resolve(process.argv[2])).href : '../flotilla/xxh64.js';
const mod = await import(url);
const fns = [['xxh64', mod.xxh64, true]];
if (mod.xxh64Halves) fns.push(['xxh64Halves', mod.xxh64Halves, false]);

const buf = new Uint8Array(4096 + 64);
for (let i = 0; i < buf.length; i++) buf[i] = (i * 131 + 7) & 0xff;
let sink = 0;
console.log(`node ${process.version}, ${url}`);
for (const len of [38, 70, 300, 4000]) {
  const inputs = Array.from({ length: 64 }, (_, o) => buf.subarray(o, o + len));
  const n = Math.max(1000, Math.round(4e6 / (len + 32)));
  const line = [];
  for (const [name, f, big] of fns) {
    let best = Infinity;
    for (let round = 0; round < 8; round++) {
      const t0 = process.hrtime.bigint();
      if (big) {
        let x = 0n;
        for (let i = 0; i < n; i++) x ^= f(inputs[i & 63]);
        sink ^= Number(x & 1n);
      } else {
        let x = 0;
        for (let i = 0; i < n; i++) x ^= f(inputs[i & 63]);
        sink ^= x & 1;
      }
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / n);
    }
    line.push(`${name} ${best.toFixed(0)} ns (${(len / best * 1e3).toFixed(0)} MB/s)`);
  }
  console.log(`${String(len).padStart(5)} bytes: ${line.join(', ')}`);
}
if (sink === 2) console.log(''); // keeps the results alive
