// Measures the decode rate of the demo schema in Node: the differential
// test's stream (testdata/gen), decoded in order against its baselines,
// five rounds, the best reported.
//
//   go run ./browser-bridge/js/testdata/gen -seed 1 -n 2000 -out /tmp/stream.json
//   node browser-bridge/js/bench/decode.js /tmp/stream.json
import { readFileSync } from 'node:fs';
import { parseSchemaDesc, decodeSnapshot } from '../flotilla/index.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node decode.js STREAM.json (written by testdata/gen)');
  process.exit(2);
}
const data = JSON.parse(readFileSync(file, 'utf8'));
const schema = parseSchemaDesc(data.schema);
const payloads = data.snapshots.map((s) => new Uint8Array(Buffer.from(s.payload, 'base64')));
const bytes = payloads.reduce((n, p) => n + p.length, 0);
const entities = data.snapshots.reduce((n, s) => n + s.entities.length, 0);
const fulls = data.snapshots.filter((s) => s.baseline < 0).length;

let best = Infinity;
for (let round = 0; round < 5; round++) {
  const views = [];
  const t0 = process.hrtime.bigint();
  for (const [i, s] of data.snapshots.entries()) {
    views.push(decodeSnapshot(schema, payloads[i], s.baseline >= 0 ? views[s.baseline] : null));
  }
  best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
}
const n = payloads.length;
console.log(`node ${process.version}: ${n} snapshots (${fulls} full, ${(entities / n).toFixed(1)} entities and ` +
  `${(bytes / n).toFixed(0)} bytes each on average) in ${(best * 1000).toFixed(0)} ms: ` +
  `${Math.round(n / best)} snapshots/s, ${(bytes / best / 1e6).toFixed(2)} MB/s`);
