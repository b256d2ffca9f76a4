// The bit stream of STANDARD.md section 1: least significant bit first,
// bit i of the stream is bit (i mod 8) of byte floor(i / 8). Mirrors
// codec/bitreader.go and the read side of codec/stream.go.

import { MalformedError } from './errors.js';

/** Number of bits in the binary representation of x, 0 <= x < 2^32 (bits(0) = 0). */
export function bitsFor(x) {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/**
 * Reads bits from a byte array. Reading past the end, a value out of its
 * range, a malformed varint, non-zero padding and trailing data throw a
 * MalformedError. Not for concurrent use (JavaScript has none anyway);
 * the reader keeps a reference to the bytes until it is dropped.
 */
export class BitReader {
  /** @param {Uint8Array} bytes the message; only read. */
  constructor(bytes) {
    /** @type {Uint8Array} */
    this.buf = bytes;
    /** Bits consumed so far. */
    this.pos = 0;
    this.end = bytes.length * 8;
  }

  /**
   * Reads an n-bit unsigned value, 0 <= n <= 32.
   * @param {number} n the width.
   * @returns {number} the value, in [0, 2^n).
   */
  readBits(n) {
    if (n === 0) return 0;
    if (this.pos + n > this.end) {
      throw new MalformedError('eof', `read of ${n} bits at bit ${this.pos} passes the end (${this.end} bits)`);
    }
    const buf = this.buf;
    let pos = this.pos;
    let v = 0;
    let got = 0;
    while (got < n) {
      const off = pos & 7;
      const take = Math.min(8 - off, n - got);
      v |= ((buf[pos >>> 3] >>> off) & ((1 << take) - 1)) << got;
      got += take;
      pos += take;
    }
    this.pos = pos;
    return v >>> 0;
  }

  /** Reads one bit. @returns {boolean} true for 1. */
  readBool() {
    return this.readBits(1) === 1;
  }

  /**
   * Reads `ranged(min, max)`: an offset from min in bitsFor(max - min) bits;
   * an offset above max - min throws MalformedError "range".
   * @param {number} min the smallest value (int32).
   * @param {number} max the largest value (int32), >= min.
   * @returns {number} the value (int32).
   */
  readRanged(min, max) {
    const span = max - min;
    const u = this.readBits(bitsFor(span));
    if (u > span) {
      throw new MalformedError('range', `offset ${u} exceeds the range ${min}..${max}`);
    }
    return min + u;
  }

  /**
   * Reads a `varint` (STANDARD.md section 1): 7-bit groups, least significant
   * first, each followed by a continuation bit; at most 5 groups, the fifth
   * at most 15 and final.
   * @returns {number} the value, in [0, 2^32).
   */
  readVarint() {
    let x = 0;
    for (let i = 0; i < 5; i++) {
      const group = this.readBits(7);
      const more = this.readBool();
      if (i === 4 && (group > 0xf || more)) {
        throw new MalformedError('varint', 'varint longer than 32 bits');
      }
      x += group * 2 ** (7 * i);
      if (!more) return x;
    }
    return x; // not reached: the fifth group either ends or throws
  }

  /**
   * Ends the message: fewer than 8 bits may remain and they must be zero
   * (MalformedError "trailing" or "padding" otherwise).
   */
  finish() {
    const rem = this.end - this.pos;
    if (rem >= 8) {
      throw new MalformedError('trailing', `${rem >> 3} bytes after the message`);
    }
    if (rem > 0 && this.readBits(rem) !== 0) {
      throw new MalformedError('padding', 'non-zero padding bits');
    }
  }
}
