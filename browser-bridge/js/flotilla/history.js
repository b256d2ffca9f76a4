// A receiver's snapshot history (STANDARD.md 4.2): the views it accepted,
// by snapshot sequence mod 32, the baselines of the next deltas. It accepts
// or refuses each snapshot payload as the Go client (tools/client) does.

import { MissingBaselineError } from './errors.js';
import { FORM_FULL, FORM_HEARTBEAT, HISTORY, parseSnapshotHead } from './head.js';
import { decodeSnapshot } from './snapshot.js';
import { recordSum, recordedSum } from './view.js';

/**
 * @typedef {object} Accepted
 * @property {number} form FORM_FULL, FORM_DELTA or FORM_HEARTBEAT
 * @property {number} seq the snapshot's sequence (acknowledge it)
 * @property {number} frame the snapshot's frame (u32)
 * @property {import('./view.js').View} view the rebuilt view
 */

/**
 * The views a client accepted, by sequence, and the rule that turns a
 * snapshot payload into the next one. A refused snapshot leaves the
 * history as it was and must not be acknowledged.
 */
export class SnapshotHistory {
  /** @param {import('./schema.js').Schema} schema the session's schema. */
  constructor(schema) {
    this.schema = schema;
    /** @type {(Accepted|null)[]} */
    this.slots = new Array(HISTORY).fill(null);
    /** The newest accepted snapshot, or null. @type {Accepted|null} */
    this.newest = null;
  }

  /**
   * The accepted snapshot with this sequence, or null if the history does
   * not hold it (never accepted, or overwritten 32 sequences later).
   * @param {number} seq a 16-bit sequence.
   * @returns {Accepted|null}
   */
  at(seq) {
    const s = this.slots[seq % HISTORY];
    return s && s.seq === seq ? s : null;
  }

  /**
   * Parses the head of an unreliable snapshot payload, rebuilds its view
   * against the baseline it names and verifies the checksum. On success the
   * snapshot joins the history and is returned (the caller acknowledges
   * it); otherwise it throws the FlotillaError that says why: a
   * MissingBaselineError when the history does not hold the baseline, a
   * ChecksumError on a mismatch, a MalformedError for bad input.
   * @param {Uint8Array} payload head and body (STANDARD.md 4.2); not kept.
   * @returns {Accepted}
   */
  receive(payload) {
    const head = parseSnapshotHead(payload);
    let base = null;
    let frame = head.frame;
    if (head.form !== FORM_FULL) {
      const bseq = (head.seq - head.back) & 0xffff;
      base = this.at(bseq);
      if (!base) throw new MissingBaselineError(`baseline ${bseq} of snapshot ${head.seq} is not held`);
      frame = (base.frame + head.frame) >>> 0;
    }
    let view;
    if (head.form === FORM_HEARTBEAT) {
      view = { entities: base.view.entities, events: [] };
      const sum = recordedSum(base.view);
      if (sum !== undefined) recordSum(view, sum);
    } else {
      view = decodeSnapshot(this.schema, head.body, base ? base.view : null);
    }
    const acc = { form: head.form, seq: head.seq, frame, view };
    this.slots[head.seq % HISTORY] = acc;
    this.newest = acc;
    return acc;
  }
}
