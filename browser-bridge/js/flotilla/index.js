// Flotilla's JavaScript client library: the decoding core. Plain ES
// modules with no dependencies, for browsers and Node 18+. See README.md.

export { FlotillaError, MalformedError, ChecksumError, MissingBaselineError, SchemaError } from './errors.js';
export { BitReader, bitsFor } from './bitreader.js';
export { xxh64 } from './xxh64.js';
export {
  Schema, newSchema, parseSchemaDesc, schemaFromDesc,
  SCHEMA_FORMAT_VERSION, MAX_FIELDS, NUM_LODS, MAX_KINDS, DEFAULT_MAX_ENTITIES, DEFAULT_MAX_EVENTS, MAX_VIEW_ENTITIES,
} from './schema.js';
export { checksum, entityHash, eventHash, entitySum, emptyView } from './view.js';
export { decodeSnapshot, isDelta } from './snapshot.js';
export {
  parseSnapshotHead, FORM_FULL, FORM_DELTA, FORM_HEARTBEAT, HISTORY, MAX_BACK, MAX_FRAME_ADVANCE,
} from './head.js';
export { SnapshotHistory } from './history.js';
export {
  encodeAction, encodeRate, encodeDetail, encodeDesync, encodeAcks, parseServerMessage, REASON_NAMES,
  MSG_ACTION, MSG_DESYNC, MSG_RATE, MSG_DETAIL, MSG_WELCOME, MSG_RESULT, MSG_BYE, APPLIED, FIZZLED, MAX_RATE_HZ, MAX_DETAIL, MAX_ACKS,
} from './session.js';
