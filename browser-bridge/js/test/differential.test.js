// The Go↔JavaScript differential test. A small Go program
// (../testdata/gen) builds a seeded stream of random views of the demo
// game's schema, encodes them with codec as full and delta snapshots, and
// writes each payload with the view Go's decoder rebuilt from it. This test
// runs it (`go run`, so the Go side is always the current code), then
// decodes every snapshot in order against its baseline with this library
// and requires the same views and passing checksums; then it corrupts
// payloads and requires clean refusals.
//
// The Go program runs from here rather than from a Go test that leaves a
// file behind: one command (`node --test`) then tests both sides with no
// ordering between test runners and no generated file in the repository.
// FLOTILLA_DIFF_SEED and FLOTILLA_DIFF_N override the seed and the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import {
  parseSchemaDesc, decodeSnapshot, checksum, SnapshotHistory, FlotillaError, FORM_FULL, FORM_DELTA,
} from '../flotilla/index.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const seed = Number(process.env.FLOTILLA_DIFF_SEED ?? 20240601);
const count = Number(process.env.FLOTILLA_DIFF_N ?? 2000);

function generate() {
  const dir = mkdtempSync(path.join(tmpdir(), 'flotilla-diff-'));
  const out = path.join(dir, 'stream.json');
  try {
    execFileSync('go', ['run', './browser-bridge/js/testdata/gen', '-seed', String(seed), '-n', String(count), '-out', out],
      { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
    return JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const data = generate();
const schema = parseSchemaDesc(data.schema);
const payloads = data.snapshots.map((s) => new Uint8Array(Buffer.from(s.payload, 'base64')));
const plain = (v) => ({
  entities: v.entities.map((e) => [e.id, e.kind, e.lod, ...e.values]),
  events: v.events.map((ev) => [ev.kind, ...ev.values]),
});

// mulberry32: a small seeded generator for the corruptions.
function rng(a) {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('the schema description is the demo schema, byte for byte', () => {
  assert.equal(schema.hashHex, data.schema_hash);
  assert.equal(schema.descJSON(), data.schema);
});

test(`${count} snapshots (seed ${seed}) decode to Go's views with passing checksums`, () => {
  assert.equal(data.snapshots.length, count);
  const views = [];
  let fulls = 0;
  const t0 = process.hrtime.bigint();
  for (const [i, s] of data.snapshots.entries()) {
    const base = s.baseline >= 0 ? views[s.baseline] : null;
    if (!base) fulls++;
    const v = decodeSnapshot(schema, payloads[i], base);
    assert.deepEqual(plain(v), { entities: s.entities, events: s.events }, `snapshot ${i}`);
    views.push(v);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const [i, s] of data.snapshots.entries()) {
    if (i % 50 === 0) assert.equal(checksum(schema, views[i]), s.checksum, `checksum of snapshot ${i}`);
  }
  assert.ok(fulls > 0 && fulls < count, 'the stream mixes full and delta snapshots');
  console.log(`# decoded ${count} snapshots in ${ms.toFixed(0)} ms (${Math.round(count / (ms / 1000))}/s)`);
});

test('the same stream through snapshot heads and the history ring', () => {
  const h = new SnapshotHistory(schema);
  let frame = 1000;
  const frames = [];
  for (const [i, s] of data.snapshots.entries()) {
    const seq = (i + 65500) & 0xffff; // wraps past 65535
    frame += 1 + (i % 3);
    frames.push(frame);
    let head;
    if (s.baseline < 0) {
      head = [FORM_FULL << 5, seq & 0xff, seq >> 8, frame & 0xff, (frame >> 8) & 0xff, (frame >> 16) & 0xff, frame >>> 24];
    } else {
      const back = i - s.baseline;
      assert.ok(back >= 1 && back <= 31);
      const adv = frame - frames[s.baseline];
      head = [(FORM_DELTA << 5) | back, seq & 0xff, seq >> 8, adv]; // adv < 128: one uvarint byte
    }
    const p = new Uint8Array(head.length + payloads[i].length);
    p.set(head);
    p.set(payloads[i], head.length);
    const acc = h.receive(p);
    assert.equal(acc.seq, seq);
    assert.equal(acc.frame, frame);
    assert.deepEqual(plain(acc.view), { entities: s.entities, events: s.events }, `snapshot ${i}`);
  }
});

test('corrupted payloads are refused cleanly or decode to a verified view', () => {
  const rand = rng(seed);
  const views = [];
  const reasons = {};
  let refused = 0;
  let tried = 0;
  for (const [i, s] of data.snapshots.entries()) {
    const base = s.baseline >= 0 ? views[s.baseline] : null;
    views.push(decodeSnapshot(schema, payloads[i], base));
    if (i % 4 !== 0) continue;
    for (let k = 0; k < 4; k++) {
      const bad = payloads[i].slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) {
        const bit = Math.floor(rand() * bad.length * 8);
        bad[bit >> 3] ^= 1 << (bit & 7);
      }
      const cut = k === 3 ? bad.subarray(0, Math.floor(rand() * bad.length)) : bad;
      tried++;
      try {
        decodeSnapshot(schema, cut, base);
      } catch (e) {
        assert.ok(e instanceof FlotillaError, `snapshot ${i}: ${e && e.stack}`);
        reasons[e.code] = (reasons[e.code] ?? 0) + 1;
        refused++;
      }
    }
  }
  // A flip survives only where it cannot matter (a 2^-32 checksum
  // collision, essentially never): nearly every corruption is refused.
  assert.ok(refused >= tried * 0.99, `${refused} of ${tried} refused`);
  console.log(`# refused ${refused} of ${tried} corrupted payloads: ${JSON.stringify(reasons)}`);
});

test('random byte strings never throw anything but the library\'s errors', () => {
  const rand = rng(seed ^ 0x5eed);
  const base = decodeSnapshot(schema, payloads[0], null);
  for (let i = 0; i < 5000; i++) {
    const b = new Uint8Array(Math.floor(rand() * 64));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(rand() * 256);
    try {
      decodeSnapshot(schema, b, rand() < 0.5 ? base : null);
    } catch (e) {
      assert.ok(e instanceof FlotillaError, String(e && e.stack));
    }
  }
});
