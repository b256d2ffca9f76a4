// The snapshot head of STANDARD.md 4.2, as protocol.ParseSnapshotHead
// parses it:
//
//   [head] (u8)  bits 0..4 back (0 for full), bits 5..6 form, bit 7 zero
//   [seq] (u16)
//   full:      [frame] (u32)              then the section 2 full encoding
//   delta:     [frame advance] (uvarint)  then the section 2 delta encoding
//   heartbeat: [frame advance] (uvarint)  nothing more

import { MalformedError } from './errors.js';

/** Form of a full snapshot: no baseline. */
export const FORM_FULL = 0;
/** Form of a delta against the snapshot `back` sequences before. */
export const FORM_DELTA = 1;
/** Form of a heartbeat: the baseline's view, without events; only the frame moved. */
export const FORM_HEARTBEAT = 2;
/** Snapshots each side remembers, by sequence mod HISTORY. */
export const HISTORY = 32;
/** Largest back a head may name. */
export const MAX_BACK = HISTORY - 1;
/** Largest frame advance a delta or heartbeat carries (three uvarint bytes). */
export const MAX_FRAME_ADVANCE = 2 ** 21 - 1;

/**
 * @typedef {object} SnapshotHead
 * @property {number} form FORM_FULL, FORM_DELTA or FORM_HEARTBEAT
 * @property {number} back full: 0; otherwise 1..MAX_BACK, the baseline is
 *   the snapshot with sequence (seq - back) mod 2^16
 * @property {number} seq the snapshot's 16-bit sequence
 * @property {number} frame full: the frame; otherwise the advance over the
 *   baseline's frame
 * @property {Uint8Array} body the section 2 payload after the head (a view
 *   into the input; empty for a heartbeat)
 */

/**
 * Parses the head of a snapshot payload. Throws MalformedError (code
 * "head") for a head protocol.ParseSnapshotHead refuses: fewer than 3
 * bytes, a form other than 0..2 (which includes bit 7 set), a full head
 * with a non-zero back or without its frame, a delta or heartbeat with back
 * 0, a frame advance that is not a uvarint (Go's encoding/binary form) or
 * exceeds MAX_FRAME_ADVANCE, a heartbeat with a body, a delta without one.
 * @param {Uint8Array} p the unreliable payload; only read.
 * @returns {SnapshotHead}
 */
export function parseSnapshotHead(p) {
  const bad = (msg) => new MalformedError('head', `snapshot head: ${msg}`);
  if (p.length < 3) throw bad(`head of ${p.length} bytes`);
  const form = p[0] >>> 5;
  const back = p[0] & MAX_BACK;
  const seq = p[1] | (p[2] << 8);
  if (form === FORM_FULL) {
    if (back !== 0 || p.length < 7) throw bad('full head');
    const frame = (p[3] | (p[4] << 8) | (p[5] << 16) | (p[6] << 24)) >>> 0;
    return { form, back, seq, frame, body: p.subarray(7) };
  }
  if (form !== FORM_DELTA && form !== FORM_HEARTBEAT) throw bad(`form ${form}`);
  if (back === 0) throw bad('no baseline');
  // binary.Uvarint: 7-bit groups, least significant first, the high bit of
  // each byte says another follows; at most 10 bytes.
  let v = 0;
  let i = 3;
  for (let s = 0; ; s += 7, i++) {
    if (i >= p.length || i - 3 === 10) throw bad('frame advance');
    const b = p[i];
    if (i - 3 === 9 && b > 1) throw bad('frame advance');
    v += (b & 0x7f) * 2 ** s;
    if (b < 0x80) break;
  }
  if (v > MAX_FRAME_ADVANCE) throw bad('frame advance');
  const body = p.subarray(i + 1);
  if (form === FORM_HEARTBEAT && body.length !== 0) throw bad('heartbeat with a body');
  if (form === FORM_DELTA && body.length === 0) throw bad('delta without a body');
  return { form, back, seq, frame: v, body };
}
