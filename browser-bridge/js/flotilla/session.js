// The game session's messages (STANDARD.md 4.1) and a browser's
// acknowledgements (section 5), as protocol/messages.go writes and parses
// them: encoders for what a client sends (Action, Desync, Rate, Detail,
// Acks), a
// decoder for what the server sends (Welcome, Result, Bye).
//
// Integers are little-endian; uvarint and varint are Go's encoding/binary
// varints (zigzag for varint).

import { MalformedError } from './errors.js';

/** Reliable message types. */
export const MSG_ACTION = 1;
export const MSG_DESYNC = 2;
export const MSG_RATE = 3;
export const MSG_DETAIL = 4;
export const MSG_WELCOME = 64;
export const MSG_RESULT = 65;
export const MSG_BYE = 66;

/** Result statuses. */
export const APPLIED = 1;
export const FIZZLED = 2;

/** Highest snapshot rate a Rate may ask for. */
export const MAX_RATE_HZ = 240;
/** Levels of detail: a Detail of MAX_DETAIL asks for all of them. */
export const MAX_DETAIL = 4;
/** Most game-parameter bytes a Welcome carries. */
export const MAX_GAME_PARAMS = 32;
/** Most sequences of one Acks message. */
export const MAX_ACKS = 32;

const U32_MAX = 2 ** 32 - 1;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Appends v (an integer 0..2^53−1) as a uvarint. */
function putUvarint(out, v) {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Appends v (an int32) as a zigzag varint. */
function putVarint(out, v) {
  putUvarint(out, v < 0 ? -2 * v - 1 : 2 * v);
}

function checkInt(name, v, lo, hi) {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${name} ${v} outside ${lo}..${hi}`);
}

/**
 * An Action message: [type 1] [seq] (uvarint) [kind] (uvarint) [4 args]
 * (varint each). Throws RangeError for a value outside its type.
 * @param {{seq: number, kind: number, args: number[]}} a args has at most
 *   4 entries (missing ones are 0).
 * @returns {Uint8Array} a new message.
 */
export function encodeAction(a) {
  checkInt('seq', a.seq, 0, U32_MAX);
  checkInt('kind', a.kind, 0, 65535);
  const out = [MSG_ACTION];
  putUvarint(out, a.seq);
  putUvarint(out, a.kind);
  for (let i = 0; i < 4; i++) {
    const v = a.args[i] ?? 0;
    checkInt('arg', v, INT32_MIN, INT32_MAX);
    putVarint(out, v);
  }
  return Uint8Array.from(out);
}

/**
 * A Rate message: [type 3] [hz] (uvarint, 0..240) [bytes per second]
 * (uvarint, u32). 0 asks for the server's default.
 * @param {{hz: number, bytesPerSec: number}} r
 * @returns {Uint8Array}
 */
export function encodeRate(r) {
  checkInt('hz', r.hz, 0, MAX_RATE_HZ);
  checkInt('bytesPerSec', r.bytesPerSec, 0, U32_MAX);
  const out = [MSG_RATE];
  putUvarint(out, r.hz);
  putUvarint(out, r.bytesPerSec);
  return Uint8Array.from(out);
}

/**
 * A Detail message: [type 4] [tiers] (u8, 1..4): only the entities of the
 * `tiers` finest levels of detail (1: full detail alone; 4: all, the
 * server's default).
 * @param {{tiers: number}} d
 * @returns {Uint8Array}
 */
export function encodeDetail(d) {
  checkInt('tiers', d.tiers, 1, MAX_DETAIL);
  return Uint8Array.of(MSG_DETAIL, d.tiers);
}

/**
 * A Desync message: [type 2] [snapshot seq] (u16) [frame] (u32)
 * [permanent] (u8, 0 or 1).
 * @param {{seq: number, frame: number, permanent: boolean}} d
 * @returns {Uint8Array}
 */
export function encodeDesync(d) {
  checkInt('seq', d.seq, 0, 65535);
  checkInt('frame', d.frame, 0, U32_MAX);
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  b[0] = MSG_DESYNC;
  dv.setUint16(1, d.seq, true);
  dv.setUint32(3, d.frame, true);
  b[7] = d.permanent ? 1 : 0;
  return b;
}

/**
 * An Acks message (section 5, channel 0): the 16-bit sequences, LE, 1 to
 * MAX_ACKS of them.
 * @param {...number} seqs
 * @returns {Uint8Array}
 */
export function encodeAcks(...seqs) {
  if (seqs.length < 1 || seqs.length > MAX_ACKS) throw new RangeError(`${seqs.length} acks`);
  const b = new Uint8Array(2 * seqs.length);
  seqs.forEach((s, i) => {
    checkInt('seq', s, 0, 65535);
    b[2 * i] = s & 0xff;
    b[2 * i + 1] = s >>> 8;
  });
  return b;
}

/** A reader of one message with Go's rules; every failure is MalformedError 'message'. */
class Reader {
  constructor(b, what) {
    this.b = b;
    this.i = 0;
    this.what = what;
  }

  fail(msg) {
    return new MalformedError('message', `${this.what}: ${msg}`);
  }

  need(n) {
    if (this.i + n > this.b.length) throw this.fail('truncated');
  }

  u8() {
    this.need(1);
    return this.b[this.i++];
  }

  u32() {
    this.need(4);
    const b = this.b;
    const i = this.i;
    this.i += 4;
    return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
  }

  /** A u64 as a BigInt. */
  u64() {
    const lo = BigInt(this.u32());
    return lo | (BigInt(this.u32()) << 32n);
  }

  /** binary.Uvarint, then at most max (≤ 2^32−1). */
  uvar(max) {
    let v = 0;
    for (let s = 0, n = 0; ; s += 7, n++) {
      if (this.i >= this.b.length || n === 10) throw this.fail('bad varint');
      const c = this.b[this.i++];
      if (n === 9 && c > 1) throw this.fail('bad varint');
      v += (c & 0x7f) * 2 ** s;
      if (c < 0x80) break;
    }
    if (v > max) throw this.fail(`value ${v} over ${max}`);
    return v;
  }

  done() {
    if (this.i !== this.b.length) throw this.fail(`${this.b.length - this.i} trailing bytes`);
  }
}

/**
 * @typedef {object} Welcome
 * @property {'welcome'} type
 * @property {number} client the room's id for this client
 * @property {number} frame the room's frame
 * @property {number} tickHz
 * @property {number} snapshotHz
 * @property {number} bytesPerSec
 * @property {number} inputDelay
 * @property {bigint} schemaHash
 * @property {string} schemaHashHex 16 lowercase hex digits, as Schema.hashHex
 * @property {Uint8Array} game the game's parameters (a copy)
 */

/**
 * @typedef {object} Result
 * @property {'result'} type
 * @property {number} seq the action's seq (0: the server's join)
 * @property {number} frame
 * @property {number} status APPLIED or FIZZLED
 * @property {number} reason
 * @property {number} value action-specific: the new ship's id for a join
 */

/**
 * Parses a message the server sends on the reliable channel: Welcome,
 * Result or Bye ({type: 'bye', reason}). Throws MalformedError (code
 * "message") for what protocol's Parse functions refuse, and for another
 * type.
 * @param {Uint8Array} msg only read.
 * @returns {Welcome|Result|{type: 'bye', reason: number}}
 */
export function parseServerMessage(msg) {
  if (msg.length === 0) throw new MalformedError('message', 'empty message');
  switch (msg[0]) {
    case MSG_WELCOME: {
      const r = new Reader(msg, 'welcome');
      r.i = 1;
      const client = r.u32();
      const frame = r.u32();
      const tickHz = r.uvar(MAX_RATE_HZ);
      const snapshotHz = r.uvar(MAX_RATE_HZ);
      const bytesPerSec = r.uvar(U32_MAX);
      const inputDelay = r.uvar(1 << 16);
      const schemaHash = r.u64();
      const n = r.uvar(MAX_GAME_PARAMS);
      r.need(n);
      const game = msg.slice(r.i, r.i + n);
      r.i += n;
      if (tickHz === 0 || snapshotHz === 0) throw r.fail('zero rate');
      r.done();
      return {
        type: 'welcome', client, frame, tickHz, snapshotHz, bytesPerSec, inputDelay,
        schemaHash, schemaHashHex: schemaHash.toString(16).padStart(16, '0'), game,
      };
    }
    case MSG_RESULT: {
      const r = new Reader(msg, 'result');
      r.i = 1;
      const seq = r.uvar(U32_MAX);
      const frame = r.u32();
      const status = r.u8();
      const reason = r.u8();
      const value = r.uvar(U32_MAX);
      if (status !== APPLIED && status !== FIZZLED) throw r.fail(`status ${status}`);
      r.done();
      return { type: 'result', seq, frame, status, reason, value };
    }
    case MSG_BYE: {
      const r = new Reader(msg, 'bye');
      r.i = 1;
      const reason = r.u8();
      r.done();
      return { type: 'bye', reason };
    }
    default:
      throw new MalformedError('message', `message type ${msg[0]}`);
  }
}

/** Disconnect reasons (STANDARD.md 3.6) by number, for display. */
export const REASON_NAMES = Object.freeze({
  1: 'closed', 2: 'shutdown', 3: 'version', 4: 'full', 5: 'cookie', 6: 'timeout',
  7: 'backlog', 8: 'kicked', 9: 'protocol', 10: 'token', 11: 'throttled',
});
