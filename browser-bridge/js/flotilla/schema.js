// The schema of STANDARD.md 2.1: entity and event kinds, their fields and
// tiers, the view bounds, the schema hash, and the JSON description a server
// serves. Mirrors codec/schema.go, codec/schemahash.go and codec/schemadesc.go.

import { bitsFor } from './bitreader.js';
import { SchemaError } from './errors.js';
import { xxh64 } from './xxh64.js';

/** Format version of the description and of the hashed bytes. */
export const SCHEMA_FORMAT_VERSION = 1;
/** Most fields a kind may declare. */
export const MAX_FIELDS = 16;
/** Number of level-of-detail tiers (0 full, 1 medium, 2 low, 3 blip). */
export const NUM_LODS = 4;
/** Most entity kinds (and event kinds) of a schema. */
export const MAX_KINDS = 64;
/** Entity bound of one view when the schema sets none. */
export const DEFAULT_MAX_ENTITIES = 1 << 16;
/** Event bound of one view when the schema sets none. */
export const DEFAULT_MAX_EVENTS = 4096;
/** Largest bound a schema may set on entities or events per view. */
export const MAX_VIEW_ENTITIES = 1 << 24;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const utf8 = new TextEncoder();

/**
 * @typedef {object} Field
 * @property {string} name
 * @property {number} min  smallest value (int32)
 * @property {number} max  largest value (int32)
 * @property {number} width bits of a whole value, bitsFor(max - min)
 * @property {number} delta width of the small-change form, 0 for none
 * @property {boolean} wrap whether the field is modular over its range
 */

/**
 * @typedef {object} Kind
 * @property {string} name
 * @property {Field[]} fields in field order
 * @property {number[]} lod entity kinds: per tier, the mask of carried
 *   fields (bit i = field i); event kinds: every field at every tier
 * @property {number[][]} carried per tier, the carried field numbers in
 *   increasing order
 */

/**
 * @typedef {object} KindConfig
 * @property {string} name
 * @property {{name: string, min: number, max: number, delta?: number, wrap?: boolean}[]} fields
 * @property {number[]} [lod] entity kinds: the four tier masks (bit i = field i)
 */

/**
 * @typedef {object} SchemaConfig
 * @property {KindConfig[]} entities entity kinds, in kind order
 * @property {KindConfig[]} [events] event kinds, in kind order
 * @property {number} [maxEntities] entity bound of a view (0: default)
 * @property {number} [maxEvents] event bound of a view (0: default)
 */

/**
 * A validated schema. Build it with parseSchemaDesc (from a server's
 * description) or newSchema (from a declaration, as codec.NewSchema).
 * Immutable after construction.
 */
export class Schema {
  /** @private use newSchema or parseSchemaDesc. */
  constructor(entities, events, maxEntities, maxEvents) {
    /** @type {Kind[]} */
    this.entities = entities;
    /** @type {Kind[]} */
    this.events = events;
    /** @type {number} */
    this.maxEntities = maxEntities;
    /** @type {number} */
    this.maxEvents = maxEvents;
    /** Bits of an entity kind on the wire. */
    this.kindBits = bitsFor(entities.length - 1);
    /** Bits of an event kind on the wire (0 without event kinds). */
    this.eventBits = events.length > 0 ? bitsFor(events.length - 1) : 0;
    /** The schema hash (STANDARD.md 2.1), an unsigned 64-bit BigInt. */
    this.hash = xxh64(this.canonicalBytes());
    /** The schema hash as 16 lowercase hex digits. */
    this.hashHex = this.hash.toString(16).padStart(16, '0');
    Object.freeze(this);
  }

  /**
   * The bytes the schema hash covers (STANDARD.md 2.1, "Schema hash").
   * @returns {Uint8Array} a new array.
   */
  canonicalBytes() {
    const out = [];
    const u32 = (x) => out.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
    const name = (s) => {
      const b = utf8.encode(s);
      u32(b.length);
      for (const x of b) out.push(x);
    };
    u32(SCHEMA_FORMAT_VERSION);
    u32(this.maxEntities);
    u32(this.maxEvents);
    out.push(this.entities.length, this.events.length);
    const kind = (k, entity) => {
      name(k.name);
      out.push(k.fields.length);
      for (const f of k.fields) {
        name(f.name);
        u32(f.min);
        u32(f.max);
        out.push(f.delta, f.wrap ? 1 : 0);
      }
      if (entity) for (const m of k.lod) out.push(m & 0xff, m >>> 8);
    };
    for (const k of this.entities) kind(k, true);
    for (const k of this.events) kind(k, false);
    return Uint8Array.from(out);
  }

  /**
   * The schema's description (STANDARD.md 2.1) as a plain object whose keys
   * come in the canonical order, so JSON.stringify of it is the canonical
   * JSON for names without characters JSON escapes (see descJSON).
   * @returns {object} a new object.
   */
  describe() {
    const kind = (k, entity) => {
      const d = {
        name: k.name,
        fields: k.fields.map((f) => ({
          name: f.name, min: f.min, max: f.max, width: f.width, delta: f.delta, wrap: f.wrap,
        })),
      };
      if (entity) d.lod = k.carried.map((c) => c.map((i) => k.fields[i].name));
      return d;
    };
    return {
      version: SCHEMA_FORMAT_VERSION,
      hash: this.hashHex,
      max_entities: this.maxEntities,
      max_events: this.maxEvents,
      entities: this.entities.map((k) => kind(k, true)),
      events: this.events.map((k) => kind(k, false)),
    };
  }

  /**
   * The canonical JSON of describe(), byte for byte what the Go server's
   * codec.Schema.DescJSON returns (Go escapes <, >, &, U+2028 and U+2029).
   * @returns {string}
   */
  descJSON() {
    return JSON.stringify(this.describe()).replace(/[<>&\u2028\u2029]/g,
      (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }

  /**
   * The number of the entity kind with this name, or -1.
   * @param {string} name
   * @returns {number}
   */
  kindIndex(name) {
    return this.entities.findIndex((k) => k.name === name);
  }

  /**
   * The number of the event kind with this name, or -1.
   * @param {string} name
   * @returns {number}
   */
  eventKindIndex(name) {
    return this.events.findIndex((k) => k.name === name);
  }
}

/**
 * Builds and validates a schema from a declaration, refusing with a
 * SchemaError what codec.NewSchema refuses.
 * @param {SchemaConfig} cfg the declaration; not kept.
 * @returns {Schema}
 */
export function newSchema(cfg) {
  const ents = cfg.entities ?? [];
  const evs = cfg.events ?? [];
  if (ents.length === 0 || ents.length > MAX_KINDS || evs.length > MAX_KINDS) {
    throw new SchemaError('kinds', `need 1..${MAX_KINDS} entity kinds and at most ${MAX_KINDS} event kinds, have ${ents.length} and ${evs.length}`);
  }
  let maxEntities = cfg.maxEntities ?? 0;
  let maxEvents = cfg.maxEvents ?? 0;
  if (maxEntities <= 0) maxEntities = DEFAULT_MAX_ENTITIES;
  if (maxEvents <= 0) maxEvents = DEFAULT_MAX_EVENTS;
  if (!Number.isInteger(maxEntities) || !Number.isInteger(maxEvents) ||
      maxEntities > MAX_VIEW_ENTITIES || maxEvents > MAX_VIEW_ENTITIES) {
    throw new SchemaError('bounds', `view bounds ${maxEntities} entities, ${maxEvents} events exceed ${MAX_VIEW_ENTITIES}`);
  }
  const entities = ents.map((k, i) => compileKind(k, false, `entity kind ${i}`));
  const events = evs.map((k, i) => compileKind(k, true, `event kind ${i}`));
  return new Schema(entities, events, maxEntities, maxEvents);
}

function compileKind(k, event, where) {
  const fail = (code, msg) => { throw new SchemaError(code, `${where}: ${msg}`); };
  if (typeof k.name !== 'string' || k.name === '') fail('name', 'kind without a name');
  const decl = k.fields ?? [];
  if (decl.length === 0 || decl.length > MAX_FIELDS) {
    fail('fields', `kind "${k.name}" has ${decl.length} fields, want 1..${MAX_FIELDS}`);
  }
  const fields = [];
  for (const [i, f] of decl.entries()) {
    if (typeof f.name !== 'string' || f.name === '') fail('name', `kind "${k.name}" field ${i} has no name`);
    if (fields.some((g) => g.name === f.name)) fail('name', `kind "${k.name}" declares field "${f.name}" twice`);
    const min = f.min ?? 0;
    const max = f.max ?? 0;
    const delta = f.delta ?? 0;
    for (const [what, x, lo, hi] of [['min', min, INT32_MIN, INT32_MAX], ['max', max, INT32_MIN, INT32_MAX], ['delta', delta, 0, 255]]) {
      if (!Number.isInteger(x) || x < lo || x > hi) fail('type', `${k.name}.${f.name}: ${what} ${x} is not an integer in ${lo}..${hi}`);
    }
    if (min > max) fail('range', `${k.name}.${f.name}: min ${min} > max ${max}`);
    const width = bitsFor(max - min);
    if (delta !== 0 && delta >= width) {
      fail('delta', `${k.name}.${f.name}: delta of ${delta} bits is not smaller than the ${width}-bit field`);
    }
    fields.push(Object.freeze({ name: f.name, min, max, width, delta, wrap: f.wrap === true }));
  }
  const all = (1 << fields.length) - 1;
  let lod;
  if (event) {
    lod = [all, all, all, all];
  } else {
    lod = [0, 1, 2, 3].map((t) => (k.lod ?? [])[t] ?? 0);
    if (lod[0] === 0) fail('tier', `kind "${k.name}" carries no field at full detail`);
    for (const [t, m] of lod.entries()) {
      if (!Number.isInteger(m) || m < 0 || (m & ~all) !== 0) fail('tier', `kind "${k.name}" tier ${t} names a field that does not exist`);
    }
  }
  const carried = lod.map((m) => Object.freeze(fields.flatMap((_, i) => ((m >> i) & 1 ? [i] : []))));
  return Object.freeze({ name: k.name, fields: Object.freeze(fields), lod: Object.freeze(lod), carried: Object.freeze(carried) });
}

// ---- The JSON description (codec.ParseSchemaDesc) ----

/**
 * Builds a schema from a server's JSON description (STANDARD.md 2.1),
 * refusing with a SchemaError everything codec.ParseSchemaDesc refuses:
 * input that is not one JSON object, a version other than 1, an unknown
 * key, a value of the wrong type (a number that is not an integer
 * literal, or out of its Go type's range), a width that disagrees with its
 * range, a tier list out of field order, any schema codec.NewSchema
 * refuses, and (code "hash") a hash other than the hash of the schema the
 * rest describes. It is stricter than Go in two ways only: keys match
 * case-sensitively (Go's encoding/json also takes "Version"), and bytes
 * that are not valid UTF-8 are refused (Go replaces them).
 * @param {string|Uint8Array} input the description's JSON text or bytes.
 * @returns {Schema}
 */
export function parseSchemaDesc(input) {
  let text = input;
  if (typeof input !== 'string') {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new SchemaError('json', 'description is not valid UTF-8');
    }
  }
  checkIntegerLiterals(text);
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SchemaError('json', `description: ${e.message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new SchemaError('json', 'description is not a JSON object');
  }
  if (raw.version === undefined || raw.version === null) {
    throw new SchemaError('version', 'description has no format version');
  }
  if (raw.version !== SCHEMA_FORMAT_VERSION) {
    throw new SchemaError('version', `description has format version ${raw.version}, this library reads ${SCHEMA_FORMAT_VERSION}`);
  }
  return schemaFromDesc(raw);
}

/**
 * Builds a schema from an already parsed description object, with every
 * check of parseSchemaDesc but the JSON text ones (codec.NewSchemaFromDesc).
 * @param {object} raw the parsed description; not kept.
 * @returns {Schema}
 */
export function schemaFromDesc(raw) {
  const d = readObject(raw, 'description', {
    version: readInt, hash: readString, max_entities: readInt, max_events: readInt,
    entities: (v, w) => readList(v, w, readKindDesc), events: (v, w) => readList(v, w, readKindDesc),
  });
  if (d.version !== SCHEMA_FORMAT_VERSION) {
    throw new SchemaError('version', `description has format version ${d.version}, this library reads ${SCHEMA_FORMAT_VERSION}`);
  }
  if (d.max_entities < 1 || d.max_entities > MAX_VIEW_ENTITIES || d.max_events < 1 || d.max_events > MAX_VIEW_ENTITIES) {
    throw new SchemaError('bounds', `description bounds views to ${d.max_entities} entities and ${d.max_events} events, want 1..${MAX_VIEW_ENTITIES} each`);
  }
  if (d.entities.length > MAX_KINDS || d.events.length > MAX_KINDS) {
    throw new SchemaError('kinds', `description has ${d.entities.length} entity and ${d.events.length} event kinds, want at most ${MAX_KINDS} each`);
  }
  const cfg = {
    entities: d.entities.map((k, i) => kindFromDesc(k, true, `entity kind ${i}`)),
    events: d.events.map((k, i) => kindFromDesc(k, false, `event kind ${i}`)),
    maxEntities: d.max_entities,
    maxEvents: d.max_events,
  };
  const s = newSchema(cfg);
  if (d.hash !== s.hashHex) {
    throw new SchemaError('hash', `description says hash "${d.hash}", its content hashes to "${s.hashHex}"`);
  }
  return s;
}

function kindFromDesc(kd, entity, where) {
  if (kd.fields.length > MAX_FIELDS) {
    throw new SchemaError('fields', `${where}: kind "${kd.name}" has ${kd.fields.length} fields, want 1..${MAX_FIELDS}`);
  }
  const fields = kd.fields.map((fd) => {
    if (fd.min <= fd.max && fd.width !== bitsFor(fd.max - fd.min)) {
      throw new SchemaError('width', `${where}: ${kd.name}.${fd.name}: width ${fd.width}, but the range ${fd.min}..${fd.max} takes ${bitsFor(fd.max - fd.min)} bits`);
    }
    return { name: fd.name, min: fd.min, max: fd.max, delta: fd.delta, wrap: fd.wrap };
  });
  const k = { name: kd.name, fields, lod: [0, 0, 0, 0] };
  if (!entity) {
    if (kd.lod.length !== 0) throw new SchemaError('tier', `${where}: event kind "${kd.name}" declares tiers`);
    return k;
  }
  if (kd.lod.length !== NUM_LODS) {
    throw new SchemaError('tier', `${where}: kind "${kd.name}" declares ${kd.lod.length} tiers, want ${NUM_LODS}`);
  }
  kd.lod.forEach((names, t) => {
    let next = 0; // the lowest field number the tier may name next
    for (const name of names) {
      let i = next;
      while (i < fields.length && fields[i].name !== name) i++;
      if (i === fields.length) {
        throw new SchemaError('tier', `${where}: kind "${kd.name}" tier ${t} names "${name}", which is not a field or is out of field order`);
      }
      k.lod[t] |= 1 << i;
      next = i + 1;
    }
  });
  return k;
}

// The readers below decode a parsed JSON value the way Go's encoding/json
// decodes it into codec.SchemaDesc with DisallowUnknownFields: a missing key
// or null leaves the Go zero value, a value of another type is an error,
// integers must be integer literals within their Go type.

function readKindDesc(v, where) {
  return readObject(v, where, {
    name: readString,
    fields: (x, w) => readList(x, w, readFieldDesc),
    lod: (x, w) => readList(x, w, (t, tw) => readList(t, tw, readString)),
  });
}

function readFieldDesc(v, where) {
  return readObject(v, where, {
    name: readString, min: readInt32, max: readInt32, width: readUint8, delta: readUint8, wrap: readBool,
  });
}

function readObject(v, where, keys) {
  if (v !== null && (typeof v !== 'object' || Array.isArray(v))) {
    throw new SchemaError('type', `${where}: want an object`);
  }
  const out = {};
  for (const k of Object.keys(v ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(keys, k)) throw new SchemaError('unknown-key', `${where}: unknown key "${k}"`);
  }
  for (const [k, read] of Object.entries(keys)) {
    const x = v !== null && Object.prototype.hasOwnProperty.call(v, k) ? v[k] : null;
    out[k] = read(x, `${where}.${k}`);
  }
  return out;
}

function readList(v, where, item) {
  if (v === null) return [];
  if (!Array.isArray(v)) throw new SchemaError('type', `${where}: want a list`);
  return v.map((x, i) => item(x, `${where}[${i}]`));
}

function readString(v, where) {
  if (v === null) return '';
  if (typeof v !== 'string') throw new SchemaError('type', `${where}: want a string`);
  // Go's decoder turns an unpaired surrogate escape into U+FFFD; so does a
  // round trip through UTF-8.
  return new TextDecoder().decode(utf8.encode(v));
}

function readBool(v, where) {
  if (v === null) return false;
  if (typeof v !== 'boolean') throw new SchemaError('type', `${where}: want true or false`);
  return v;
}

function readIntIn(v, where, lo, hi) {
  if (v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new SchemaError('type', `${where}: want an integer in ${lo}..${hi}`);
  }
  return v;
}

const readInt = (v, where) => readIntIn(v, where, -(2 ** 63), 2 ** 63);
const readInt32 = (v, where) => readIntIn(v, where, INT32_MIN, INT32_MAX);
const readUint8 = (v, where) => readIntIn(v, where, 0, 255);

// checkIntegerLiterals refuses JSON text with a number literal that has a
// fraction or an exponent: Go decodes every number of a description into an
// integer type and refuses such literals (JSON.parse would accept 1.0).
function checkIntegerLiterals(text) {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j])) j++;
      if (!/^-?[0-9]+$/.test(text.slice(i, j))) {
        throw new SchemaError('type', `number ${text.slice(i, j)} is not an integer literal`);
      }
      i = j - 1;
    }
  }
}
