// The session messages of STANDARD.md 4.1 and the Acks of section 5. Every
// hex string below is Go's output for the same values (protocol.AppendAction,
// AppendRate, AppendDesync, AppendAcks, AppendWelcome, AppendResult,
// AppendBye), and every refused input is one protocol's Parse functions
// refuse; a change to the format in Go shows up here as a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeAction, encodeRate, encodeDetail, encodeDesync, encodeAcks, parseServerMessage, MalformedError,
} from '../flotilla/index.js';

const hex = (s) => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');

test('actions encode as Go encodes them', () => {
  const cases = [
    [{ seq: 1, kind: 2, args: [127, 0, 0, 42] }, '010102fe01000054'],
    [{ seq: 300, kind: 4, args: [1, 70000, -1, 2147483647] }, '01ac020402e0c50801feffffff0f'],
    [{ seq: 4294967295, kind: 65535, args: [-2147483648, -127, 64, -65] }, '01ffffffff0fffff03ffffffff0ffd0180018101'],
  ];
  for (const [a, want] of cases) assert.equal(toHex(encodeAction(a)), want);
  assert.equal(toHex(encodeAction({ seq: 1, kind: 2, args: [127] })), '010102fe01000000');
  assert.throws(() => encodeAction({ seq: -1, kind: 2, args: [] }), RangeError);
  assert.throws(() => encodeAction({ seq: 1, kind: 65536, args: [] }), RangeError);
  assert.throws(() => encodeAction({ seq: 1, kind: 2, args: [2 ** 31] }), RangeError);
  assert.throws(() => encodeAction({ seq: 1, kind: 2, args: [0.5] }), RangeError);
});

test('rates, desyncs and acks encode as Go encodes them', () => {
  assert.equal(toHex(encodeRate({ hz: 0, bytesPerSec: 0 })), '030000');
  assert.equal(toHex(encodeRate({ hz: 20, bytesPerSec: 20000 })), '0314a09c01');
  assert.equal(toHex(encodeRate({ hz: 240, bytesPerSec: 4294967295 })), '03f001ffffffff0f');
  assert.equal(toHex(encodeRate({ hz: 5, bytesPerSec: 1000 })), '0305e807');
  assert.throws(() => encodeRate({ hz: 241, bytesPerSec: 0 }), RangeError);
  assert.throws(() => encodeRate({ hz: 1, bytesPerSec: 2 ** 32 }), RangeError);
  // Detail: what protocol.AppendDetail writes.
  assert.equal(toHex(encodeDetail({ tiers: 1 })), '0401');
  assert.equal(toHex(encodeDetail({ tiers: 4 })), '0404');
  assert.throws(() => encodeDetail({ tiers: 0 }), RangeError);
  assert.throws(() => encodeDetail({ tiers: 5 }), RangeError);
  assert.equal(toHex(encodeDesync({ seq: 65535, frame: 0xdeadbeef, permanent: true })), '02ffffefbeadde01');
  assert.equal(toHex(encodeDesync({ seq: 7, frame: 300, permanent: false })), '0207002c01000000');
  assert.equal(toHex(encodeAcks(0, 1, 65535, 300)), '00000100ffff2c01');
  assert.throws(() => encodeAcks(), RangeError);
  assert.throws(() => encodeAcks(...new Array(33).fill(1)), RangeError);
  assert.throws(() => encodeAcks(65536), RangeError);
});

test('server messages Go writes parse to what Go wrote', () => {
  const w = parseServerMessage(hex('400700000040e201001e14a09c01029d8ab3ce67b728f10780804080808004'));
  assert.equal(w.type, 'welcome');
  assert.deepEqual(
    { client: w.client, frame: w.frame, tickHz: w.tickHz, snapshotHz: w.snapshotHz, bytesPerSec: w.bytesPerSec, inputDelay: w.inputDelay },
    { client: 7, frame: 123456, tickHz: 30, snapshotHz: 20, bytesPerSec: 20000, inputDelay: 2 },
  );
  assert.equal(w.schemaHash, 0xf128b767ceb38a9dn);
  assert.equal(w.schemaHashHex, 'f128b767ceb38a9d');
  assert.equal(toHex(w.game), '80804080808004');
  const w2 = parseServerMessage(hex('40ffffffff00000000f00101ffffffff0f808004010000000000000000'));
  assert.deepEqual(
    [w2.client, w2.frame, w2.tickHz, w2.snapshotHz, w2.bytesPerSec, w2.inputDelay, w2.schemaHashHex, w2.game.length],
    [4294967295, 0, 240, 1, 4294967295, 65536, '0000000000000001', 0],
  );
  assert.deepEqual(parseServerMessage(hex('410063000000010087ad4b')),
    { type: 'result', seq: 0, frame: 99, status: 1, reason: 0, value: 1234567 });
  assert.deepEqual(parseServerMessage(hex('41ac02ffffffff02f000')),
    { type: 'result', seq: 300, frame: 4294967295, status: 2, reason: 240, value: 0 });
  assert.deepEqual(parseServerMessage(hex('4206')), { type: 'bye', reason: 6 });
});

test('server messages Go refuses are refused', () => {
  for (const input of [
    '', '40', '4007000000', '41000000000000', '410000000003', '4100000000010000', '42', '420600', '43', '0100',
    '4000000000000000001e1400000000000000000000000000', // two trailing bytes
    '4000000000000000001e00000000000000000000000000', // zero snapshot rate
    '4100636300000001',
    '41ffffffffff1f0000000001000000', // seq over 2^32-1
    '410000000000030000', // status 3
  ]) {
    assert.throws(() => parseServerMessage(hex(input)), (e) => e instanceof MalformedError && e.code === 'message', input);
  }
});

test('every truncation of a valid message is refused', () => {
  for (const m of ['400700000040e201001e14a09c01029d8ab3ce67b728f10780804080808004', '41ac02ffffffff02f000', '4206']) {
    const b = hex(m);
    for (let n = 0; n < b.length; n++) {
      assert.throws(() => parseServerMessage(b.subarray(0, n)), MalformedError, `${m} cut to ${n}`);
    }
  }
});
