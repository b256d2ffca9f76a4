// The golden vectors of codec/testdata/golden (STANDARD.md 2.9): every
// NAME.bin must decode, against the baseline NAME.json describes, to the
// view it describes, with the checksum it gives. The Go side checks the
// same files (codec/golden_test.go), so both decoders agree byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import {
  newSchema, parseSchemaDesc, decodeSnapshot, checksum, isDelta,
  FlotillaError, MissingBaselineError, ChecksumError, MalformedError,
} from '../flotilla/index.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'codec', 'testdata', 'golden');
const readJSON = (name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8'));

// The test schema: schema.json, with the view bounds of codec's testSchema
// (4,096 entities, 64 events; STANDARD.md 2.1 gives its hash).
function testSchema() {
  const g = readJSON('schema.json');
  const kind = (k) => ({
    name: k.name,
    fields: k.fields,
    lod: k.lod?.map((names) => names.reduce((m, n) => m | (1 << k.fields.findIndex((f) => f.name === n)), 0)),
  });
  return newSchema({ entities: g.entities.map(kind), events: (g.events ?? []).map(kind), maxEntities: 4096, maxEvents: 64 });
}

// buildView turns a golden view (fields by name) into the library's form.
function buildView(schema, g) {
  const byName = (kinds, name) => {
    const i = kinds.findIndex((k) => k.name === name);
    assert.ok(i >= 0, `unknown kind ${name}`);
    return i;
  };
  const values = (k, fields) => {
    const v = new Int32Array(k.fields.length);
    for (const [name, x] of Object.entries(fields)) {
      const f = k.fields.findIndex((fd) => fd.name === name);
      assert.ok(f >= 0, `kind ${k.name} has no field ${name}`);
      v[f] = x;
    }
    return v;
  };
  return {
    entities: g.entities.map((e) => {
      const kind = byName(schema.entities, e.kind);
      return { id: e.id, kind, lod: e.lod, values: values(schema.entities[kind], e.fields) };
    }),
    events: g.events.map((ev) => {
      const kind = byName(schema.events, ev.kind);
      return { kind, values: values(schema.events[kind], ev.fields) };
    }),
  };
}

const plain = (v) => ({
  entities: v.entities.map((e) => [e.id, e.kind, e.lod, ...e.values]),
  events: v.events.map((ev) => [ev.kind, ...ev.values]),
});

const vectors = readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => f.slice(0, -4)).sort();

test('the test schema hashes as STANDARD.md 2.1 says and survives its description', () => {
  const s = testSchema();
  assert.equal(s.hashHex, 'f128b767ceb38a9d');
  const again = parseSchemaDesc(s.descJSON());
  assert.equal(again.hashHex, s.hashHex);
  assert.equal(again.descJSON(), s.descJSON());
});

test('there are golden vectors', () => {
  assert.ok(vectors.length >= 6, `found ${vectors.length} vectors in ${dir}`);
});

for (const name of vectors) {
  test(`golden vector ${name}`, () => {
    const s = testSchema();
    const raw = new Uint8Array(readFileSync(path.join(dir, `${name}.bin`)));
    const gv = readJSON(`${name}.json`);
    assert.equal(Buffer.from(raw).toString('hex'), gv.hex, '.bin and .json disagree');
    assert.equal(raw.length, gv.bytes);
    const base = gv.base ? buildView(s, gv.base) : null;
    const want = buildView(s, gv.view);
    assert.equal(isDelta(raw), base !== null);

    const got = decodeSnapshot(s, raw, base);
    assert.deepEqual(plain(got), plain(want));
    assert.equal(checksum(s, got).toString(16).padStart(8, '0'), gv.checksum);
    assert.equal(checksum(s, want).toString(16).padStart(8, '0'), gv.checksum);

    // The same delta against the baseline as a decoded view (with its
    // entity sum recorded): the incremental checksum path.
    if (base) {
      const full = decodedAs(s, base);
      assert.deepEqual(plain(decodeSnapshot(s, raw, full)), plain(want));
      assert.throws(() => decodeSnapshot(s, raw, null), MissingBaselineError);
      // Against another baseline the checksum (or the records) must fail.
      const other = { entities: base.entities.slice(1), events: [] };
      assert.throws(() => decodeSnapshot(s, raw, other), (e) => e instanceof ChecksumError || e instanceof MalformedError);
    }

    // Every truncation and every single-bit flip fails cleanly or decodes
    // to a view whose checksum the library verified.
    for (let n = 0; n < raw.length; n++) {
      assert.throws(() => decodeSnapshot(s, raw.subarray(0, n), base), FlotillaError, `truncated to ${n}`);
    }
    for (let bit = 0; bit < raw.length * 8; bit++) {
      const bad = raw.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      try {
        decodeSnapshot(s, bad, base);
      } catch (e) {
        assert.ok(e instanceof FlotillaError, `bit ${bit}: ${e}`);
      }
    }
    const longer = new Uint8Array(raw.length + 1);
    longer.set(raw);
    assert.throws(() => decodeSnapshot(s, longer, base), (e) => e.code === 'trailing');
  });
}

// decodedAs decodes the vector whose view is v (full vectors first), its
// own baseline decoded the same way: a view with its entity sum recorded.
function decodedAs(s, v, depth = 0) {
  assert.ok(depth < vectors.length, 'baseline chain too deep');
  const want = JSON.stringify(plain(v));
  const all = vectors.map((name) => ({ gv: readJSON(`${name}.json`), name }));
  all.sort((a, b) => (a.gv.base ? 1 : 0) - (b.gv.base ? 1 : 0));
  for (const { gv, name } of all) {
    if (JSON.stringify(plain(buildView(s, gv.view))) !== want) continue;
    const raw = new Uint8Array(readFileSync(path.join(dir, `${name}.bin`)));
    return decodeSnapshot(s, raw, gv.base ? decodedAs(s, buildView(s, gv.base), depth + 1) : null);
  }
  throw new Error('no vector has this view');
}
