// Snapshot payload decoding (STANDARD.md 2.2 to 2.8), the read side of
// codec/serialize.go: full snapshots, deltas against a baseline view, the
// events, and the checksum.

import { BitReader } from './bitreader.js';
import { ChecksumError, MalformedError, MissingBaselineError } from './errors.js';
import { entityHash32, entitySum32, eventHash32, recordedSum, recordSum } from './view.js';

const OP_UPDATE = 0;
const OP_ADD = 1;
const OP_REMOVE = 2;

// Id gap prefix code (2.3): [value bits, base] of the rows 1, 01, 001, 0001.
const ID_TIERS = [[0, 0], [3, 1], [5, 9], [8, 41]];

/**
 * Reports whether an encoded snapshot payload is a delta (needs a baseline).
 * @param {Uint8Array} bytes the payload (section 2, without the 4.2 head).
 * @returns {boolean} false for an empty input.
 */
export function isDelta(bytes) {
  return bytes.length > 0 && (bytes[0] & 1) === 1;
}

/**
 * Decodes a snapshot payload (STANDARD.md section 2) into a new view and
 * verifies its checksum. Throws a FlotillaError for any input it refuses:
 * MissingBaselineError for a delta without a baseline, ChecksumError when
 * the rebuilt view does not match the sender's (a wrong baseline), and
 * MalformedError for everything else of 2.8. It never throws anything else
 * on any byte string and always ends (its work is bounded by the input's
 * length and the schema's view bounds).
 *
 * The new view shares the entity objects the delta leaves unchanged with
 * the baseline: treat decoded views as immutable. A full snapshot ignores
 * the baseline.
 *
 * @param {import('./schema.js').Schema} schema the schema both ends share.
 * @param {Uint8Array} bytes the payload; only read, not kept.
 * @param {import('./view.js').View|null} [baseline] the view the sender
 *   encoded a delta against (the one the enclosing packet names).
 * @returns {import('./view.js').View} the rebuilt view.
 */
export function decodeSnapshot(schema, bytes, baseline = null) {
  const r = new BitReader(bytes);
  const delta = r.readBool();
  if (delta && !baseline) {
    throw new MissingBaselineError('delta snapshot without a baseline');
  }
  const old = delta ? baseline.entities : [];
  // The entity sum (modulo 2^32: the checksum's low 32 bits need no
  // more) is kept up to date record by record from the baseline's when it
  // has one recorded; else computed at the end.
  const baseSum = delta ? recordedSum(baseline) : undefined;
  const incremental = baseSum !== undefined;
  let sum = incremental ? baseSum : 0;

  const n = r.readVarint();
  if (n > schema.maxEntities + old.length) {
    throw new MalformedError('record-count', `record count ${n} exceeds the limit`);
  }
  const out = [];
  const push = (e) => {
    if (out.length >= schema.maxEntities) {
      throw new MalformedError('entity-bound', `more than ${schema.maxEntities} entities`);
    }
    out.push(e);
  };
  let j = 0; // next baseline entity not yet carried over
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const id = readId(r, prev);
    prev = id;
    const op = delta ? readOp(r) : OP_ADD;
    while (j < old.length && old[j].id < id) push(old[j++]);
    const inBase = j < old.length && old[j].id === id;
    if (op !== OP_ADD && !inBase) {
      throw new MalformedError('not-in-baseline', `entity ${id} is not in the baseline`);
    }
    let b = null;
    if (inBase) {
      b = old[j++];
      if (incremental) sum = (sum - entityHash32(schema, b)) >>> 0;
    }
    if (op === OP_ADD) {
      push(null);
      const e = readEntity(r, schema, id);
      out[out.length - 1] = e;
      if (incremental) sum = (sum + entityHash32(schema, e)) >>> 0;
    } else if (op === OP_UPDATE) {
      push(null);
      const e = readUpdate(r, schema, b);
      out[out.length - 1] = e;
      if (incremental) sum = (sum + entityHash32(schema, e)) >>> 0;
    }
  }
  while (j < old.length) push(old[j++]);
  const events = readEvents(r, schema);

  if (!incremental) sum = entitySum32(schema, out);
  const evHash = eventHash32(schema, out.length, events);
  const want = r.readBits(32);
  let got = (evHash + sum) >>> 0;
  if (want !== got && incremental) {
    // The baseline's recorded sum may be stale (changed in place):
    // recompute once before rejecting.
    sum = entitySum32(schema, out);
    got = (evHash + sum) >>> 0;
  }
  if (want !== got) throw new ChecksumError(want, got);
  r.finish();
  const view = { entities: out, events };
  recordSum(view, sum);
  return view;
}

// readId reads an entity id coded as a gap from the previous record's id.
function readId(r, prev) {
  let d = -1;
  for (const [bits, base] of ID_TIERS) {
    if (r.readBool()) {
      d = r.readBits(bits) + base;
      break;
    }
  }
  if (d < 0) d = r.readBits(32);
  const id = d + prev + 1;
  if (id > 0xffffffff) throw new MalformedError('id-overflow', 'entity id past 2^32-1');
  return id;
}

// readOp reads a delta operation: 0 update, 10 add, 11 remove.
function readOp(r) {
  if (!r.readBool()) return OP_UPDATE;
  return r.readBool() ? OP_REMOVE : OP_ADD;
}

// readEntity reads an entity whole: kind, tier, carried fields.
function readEntity(r, schema, id) {
  const kind = r.readBits(schema.kindBits);
  const lod = r.readBits(2);
  if (kind >= schema.entities.length) {
    throw new MalformedError('unknown-kind', `unknown entity kind ${kind}`);
  }
  const k = schema.entities[kind];
  const values = new Int32Array(k.fields.length);
  for (const f of k.carried[lod]) {
    const fd = k.fields[f];
    values[f] = r.readRanged(fd.min, fd.max);
  }
  return { id, kind, lod, values };
}

// readUpdate reads the changed carried fields of baseline entity b.
function readUpdate(r, schema, b) {
  const k = schema.entities[b.kind];
  const carried = k.carried[b.lod];
  const mask = r.readBits(carried.length);
  const values = Int32Array.from(b.values);
  for (let p = 0; p < carried.length; p++) {
    if ((mask >>> p) & 1) {
      const f = carried[p];
      values[f] = readChange(r, values[f], k.fields[f]);
    }
  }
  return { id: b.id, kind: b.kind, lod: b.lod, values };
}

// readChange reads a value coded against the reference value ref (2.5).
function readChange(r, ref, f) {
  if (f.delta === 0 || !r.readBool()) return r.readRanged(f.min, f.max);
  const half = 2 ** (f.delta - 1);
  let x = ref + r.readBits(f.delta) - half;
  if (f.wrap) {
    const m = f.max - f.min + 1;
    x = ((((x - f.min) % m) + m) % m) + f.min;
  }
  if (x < f.min || x > f.max) {
    throw new MalformedError('range', `small change leaves the range ${f.min}..${f.max}`);
  }
  return x;
}

// readEvents reads the event list (2.6); nothing if the schema has no
// event kinds.
function readEvents(r, schema) {
  const events = [];
  if (schema.events.length === 0) return events;
  const n = r.readVarint();
  if (n > schema.maxEvents) {
    throw new MalformedError('event-bound', `${n} events, limit ${schema.maxEvents}`);
  }
  const last = new Array(schema.events.length).fill(null);
  for (let i = 0; i < n; i++) {
    const kind = r.readBits(schema.eventBits);
    if (kind >= schema.events.length) {
      throw new MalformedError('unknown-event-kind', `unknown event kind ${kind}`);
    }
    const k = schema.events[kind];
    const prev = last[kind];
    const values = new Int32Array(k.fields.length);
    for (let f = 0; f < k.fields.length; f++) {
      const fd = k.fields[f];
      values[f] = prev ? readChange(r, prev.values[f], fd) : r.readRanged(fd.min, fd.max);
    }
    const ev = { kind, values };
    events.push(ev);
    last[kind] = ev;
  }
  return events;
}
