// Views (STANDARD.md section 2) and their checksum (2.7). Mirrors
// codec/view.go and codec/checksum.go.

import { xxh64, xxh64Halves } from './xxh64.js';

/**
 * @typedef {object} Entity
 * @property {number} id     32-bit entity id
 * @property {number} kind   entity kind number
 * @property {number} lod    tier, 0 (full) .. 3 (blip)
 * @property {Int32Array} values one value per field of the kind, by field
 *   number; fields the tier does not carry are 0
 */

/**
 * @typedef {object} Event
 * @property {number} kind   event kind number
 * @property {Int32Array} values one value per field of the kind
 */

/**
 * @typedef {object} View
 * @property {Entity[]} entities by strictly increasing id
 * @property {Event[]} events in sender order
 */

const MASK64 = (1n << 64n) - 1n;

// Entity sums recorded for views this library built, so that a delta
// against one hashes only what it changes. A view must not be changed in
// place once decoded (a stale record costs one recomputation when the
// checksum then fails to match, as in the Go codec). The checksum is the
// low 32 bits of a sum modulo 2^64, which only the low 32 bits of its
// terms decide, so the decoder keeps the sums (and recorded ones) as
// unsigned 32-bit numbers: Σ entityHash32 modulo 2^32, no BigInt.
const sums = new WeakMap();

const scratch = new Uint8Array(6 + 4 * 16);
const scratchView = new DataView(scratch.buffer);
// scratchOf[n] is scratch[0..n), for every length an entity's bytes take.
const scratchOf = [];
for (let n = 6; n <= scratch.length; n += 4) scratchOf[n] = scratch.subarray(0, n);

// entityBytes writes an entity's canonical bytes, [id] (u32) [kind] (u8)
// [tier] (u8) then each carried field value (int32), little-endian, to
// scratch and returns them.
function entityBytes(schema, e) {
  scratchView.setUint32(0, e.id, true);
  scratch[4] = e.kind;
  scratch[5] = e.lod;
  let n = 6;
  for (const f of schema.entities[e.kind].carried[e.lod]) {
    scratchView.setInt32(n, e.values[f], true);
    n += 4;
  }
  return scratchOf[n];
}

// eventBytes returns a view's counts and events, [entity count] (u32)
// [event count] (u32), then per event [kind] (u8) and each field (int32).
function eventBytes(schema, entityCount, events) {
  let size = 8;
  for (const ev of events) size += 1 + 4 * schema.events[ev.kind].fields.length;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, entityCount, true);
  dv.setUint32(4, events.length, true);
  let n = 8;
  for (const ev of events) {
    b[n++] = ev.kind;
    const nf = schema.events[ev.kind].fields.length;
    for (let f = 0; f < nf; f++, n += 4) dv.setInt32(n, ev.values[f], true);
  }
  return b;
}

/**
 * The XXH64 of an entity's canonical bytes: [id] (u32) [kind] (u8)
 * [tier] (u8) then each carried field value (int32), little-endian.
 * @param {import('./schema.js').Schema} schema
 * @param {Entity} e an entity valid under schema.
 * @returns {bigint}
 */
export function entityHash(schema, e) {
  return xxh64(entityBytes(schema, e));
}

/**
 * The low 32 bits of entityHash, what the checksum needs of it.
 * @param {import('./schema.js').Schema} schema
 * @param {Entity} e an entity valid under schema.
 * @returns {number} an unsigned 32-bit value.
 */
export function entityHash32(schema, e) {
  return xxh64Halves(entityBytes(schema, e));
}

/**
 * The XXH64 of a view's counts and events: [entity count] (u32)
 * [event count] (u32), then per event [kind] (u8) and each field (int32).
 * @param {import('./schema.js').Schema} schema
 * @param {number} entityCount
 * @param {Event[]} events events valid under schema.
 * @returns {bigint}
 */
export function eventHash(schema, entityCount, events) {
  return xxh64(eventBytes(schema, entityCount, events));
}

/**
 * The low 32 bits of eventHash.
 * @param {import('./schema.js').Schema} schema
 * @param {number} entityCount
 * @param {Event[]} events events valid under schema.
 * @returns {number} an unsigned 32-bit value.
 */
export function eventHash32(schema, entityCount, events) {
  return xxh64Halves(eventBytes(schema, entityCount, events));
}

/**
 * Σ entityHash over a list of entities, modulo 2^64.
 * @param {import('./schema.js').Schema} schema
 * @param {Entity[]} entities
 * @returns {bigint}
 */
export function entitySum(schema, entities) {
  let sum = 0n;
  for (const e of entities) sum += entityHash(schema, e);
  return sum & MASK64;
}

/**
 * Σ entityHash32 over a list of entities, modulo 2^32: the low 32 bits of
 * entitySum.
 * @param {import('./schema.js').Schema} schema
 * @param {Entity[]} entities
 * @returns {number} an unsigned 32-bit value.
 */
export function entitySum32(schema, entities) {
  let sum = 0;
  for (const e of entities) sum = (sum + entityHash32(schema, e)) >>> 0;
  return sum;
}

/**
 * The 32-bit checksum of a view (STANDARD.md 2.7), computed from scratch:
 * the low 32 bits of eventHash + Σ entityHash.
 * @param {import('./schema.js').Schema} schema
 * @param {View} view a view valid under schema.
 * @returns {number} an unsigned 32-bit value.
 */
export function checksum(schema, view) {
  return (eventHash32(schema, view.entities.length, view.events) + entitySum32(schema, view.entities)) >>> 0;
}

/**
 * The recorded entity sum (Σ entityHash32 modulo 2^32) of a view this
 * library decoded, if any.
 * @param {View} view
 * @returns {number|undefined}
 */
export function recordedSum(view) {
  return sums.get(view);
}

/**
 * Records the entity sum of a view (the decoder does this on success).
 * @param {View} view
 * @param {number} sum Σ entityHash32 modulo 2^32.
 */
export function recordSum(view, sum) {
  sums.set(view, sum);
}

/**
 * The empty view.
 * @returns {View}
 */
export function emptyView() {
  return { entities: [], events: [] };
}
