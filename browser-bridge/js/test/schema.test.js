// Schema descriptions (STANDARD.md 2.1): the canonical bytes, hash and JSON
// of codec's small test schema (TestSchemaHashGolden), and every
// description TestParseSchemaDescErrors shows Go refusing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSchema, parseSchemaDesc, SchemaError } from '../flotilla/index.js';

const small = () => ({
  entities: [{
    name: 'ship',
    fields: [{ name: 'x', min: -512, max: 511, delta: 4 }, { name: 'hd', min: 0, max: 255, delta: 3, wrap: true }],
    lod: [0b11, 0b01, 0b01, 0],
  }],
  events: [{ name: 'hit', fields: [{ name: 'dmg', min: 0, max: 100 }] }],
  maxEntities: 256,
  maxEvents: 16,
});

const wantHash = '5c10944666165a1f';
const good = `{"version":1,"hash":"${wantHash}","max_entities":256,"max_events":16,` +
  '"entities":[{"name":"ship","fields":[' +
  '{"name":"x","min":-512,"max":511,"width":10,"delta":4,"wrap":false},' +
  '{"name":"hd","min":0,"max":255,"width":8,"delta":3,"wrap":true}],' +
  '"lod":[["x","hd"],["x"],["x"],[]]}],' +
  '"events":[{"name":"hit","fields":[{"name":"dmg","min":0,"max":100,"width":7,"delta":0,"wrap":false}]}]}';

test('canonical bytes, hash and description match Go', () => {
  const s = newSchema(small());
  const wantBytes = '01000000' + '00010000' + '10000000' + '01' + '01' +
    '04000000' + '73686970' + '02' +
    '01000000' + '78' + '00feffff' + 'ff010000' + '04' + '00' +
    '02000000' + '6864' + '00000000' + 'ff000000' + '03' + '01' +
    '0300' + '0100' + '0100' + '0000' +
    '03000000' + '686974' + '01' +
    '03000000' + '646d67' + '00000000' + '64000000' + '00' + '00';
  assert.equal(Buffer.from(s.canonicalBytes()).toString('hex'), wantBytes);
  assert.equal(s.hashHex, wantHash);
  assert.equal(s.descJSON(), good);
  const again = parseSchemaDesc(good);
  assert.equal(again.hashHex, wantHash);
  assert.equal(parseSchemaDesc(JSON.stringify(JSON.parse(good), null, 2)).hashHex, wantHash);
  assert.equal(parseSchemaDesc(new TextEncoder().encode(good)).hashHex, wantHash);
});

test('descriptions Go refuses are refused with a SchemaError', () => {
  const edit = (f) => {
    const d = JSON.parse(good);
    f(d);
    return JSON.stringify(d);
  };
  const cases = {
    empty: '',
    'not json': '{',
    null: 'null',
    array: '[]',
    'trailing data': good + '{}',
    'no version': '{"hash":"0000000000000000"}',
    'version 0': edit((d) => { d.version = 0; }),
    'version 2': edit((d) => { d.version = 2; }),
    'version 1.0': good.replace('"version":1', '"version":1.0'),
    'version string': '{"version":"1"}',
    'unknown key': good.replace('"version":1,', '"version":1,"extra":true,'),
    'unknown field key': good.replace('"wrap":false}', '"wrap":false,"scale":2}'),
    'hash missing': edit((d) => { d.hash = ''; }),
    'hash wrong': edit((d) => { d.hash = '0123456789abcdef'; }),
    'hash upper case': edit((d) => { d.hash = d.hash.toUpperCase(); }),
    'range changed': edit((d) => { d.entities[0].fields[0].max = 510; }),
    'min over int32': good.replace('"min":-512', '"min":-2147483649'),
    'min as a fraction': good.replace('"min":-512', '"min":-512.0'),
    'min with an exponent': good.replace('"max":511', '"max":5.11e2'),
    'width wrong': edit((d) => { d.entities[0].fields[0].width = 11; }),
    'width negative': edit((d) => { d.entities[0].fields[0].width = -1; }),
    'wrap as a number': good.replace('"wrap":true', '"wrap":1'),
    'min above max': edit((d) => { d.entities[0].fields[0].min = 600; }),
    'delta too wide': edit((d) => { d.entities[0].fields[0].delta = 10; }),
    'delta over uint8': edit((d) => { d.entities[0].fields[0].delta = 256; }),
    'max entities zero': edit((d) => { d.max_entities = 0; }),
    'max events too many': edit((d) => { d.max_events = (1 << 24) + 1; }),
    'no entity kinds': edit((d) => { d.entities = null; }),
    'kind without name': edit((d) => { d.entities[0].name = ''; }),
    'field without name': edit((d) => { d.events[0].fields[0].name = ''; }),
    'no fields': edit((d) => { d.events[0].fields = null; }),
    'too many fields': edit((d) => {
      while (d.events[0].fields.length <= 16) {
        d.events[0].fields.push({ name: 'f' + 'x'.repeat(d.events[0].fields.length), min: 0, max: 1, width: 1, delta: 0, wrap: false });
      }
    }),
    'too many kinds': edit((d) => { while (d.events.length <= 64) d.events.push(d.events[0]); }),
    'three tiers': edit((d) => { d.entities[0].lod = d.entities[0].lod.slice(0, 3); }),
    'no tiers': edit((d) => { delete d.entities[0].lod; }),
    'tier names unknown field': edit((d) => { d.entities[0].lod[1] = ['z']; }),
    'tier out of field order': edit((d) => { d.entities[0].lod[0] = ['hd', 'x']; }),
    'tier names a field twice': edit((d) => { d.entities[0].lod[1] = ['x', 'x']; }),
    'nothing at full detail': edit((d) => { d.entities[0].lod[0] = []; }),
    'event kind with tiers': edit((d) => { d.events[0].lod = [['dmg'], [], [], []]; }),
    'duplicate field': edit((d) => { d.events[0].fields.push(d.events[0].fields[0]); }),
    'null kind': good.replace('"events":[', '"events":[null,'),
    'kind as a list': good.replace('"events":[{', '"events":[[],{'),
    'invalid UTF-8': new Uint8Array([...new TextEncoder().encode(good.slice(0, 40)), 0xff, ...new TextEncoder().encode(good.slice(40))]),
  };
  for (const [name, data] of Object.entries(cases)) {
    assert.throws(() => parseSchemaDesc(data), SchemaError, name);
  }
  assert.throws(() => parseSchemaDesc(edit((d) => { d.hash = '0123456789abcdef'; })), (e) => e.code === 'hash');
});

test('missing keys and nulls take Go\'s zero values', () => {
  // "wrap": null and a missing "delta" are false and 0 in Go: still the
  // same schema, so the same hash.
  const d = good.replace('"delta":0,"wrap":false}', '"wrap":null}');
  assert.equal(parseSchemaDesc(d).hashHex, wantHash);
  // An event kind's "lod": null is no tiers.
  assert.equal(parseSchemaDesc(good.replace('"name":"hit",', '"name":"hit","lod":null,')).hashHex, wantHash);
});
