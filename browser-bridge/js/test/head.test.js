// Snapshot heads (STANDARD.md 4.2) as protocol.ParseSnapshotHead parses
// them: the accepted heads and the refusals below are Go's outputs
// (AppendSnapshotHead and ParseSnapshotHead) for the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSnapshotHead, SnapshotHistory, MalformedError, MissingBaselineError, newSchema } from '../flotilla/index.js';

const hex = (s) => new Uint8Array(Buffer.from(s, 'hex'));

test('heads Go writes parse to what Go wrote', () => {
  const cases = [
    ['00efbeefbeadde', { form: 0, back: 0, seq: 0xbeef, frame: 0xdeadbeef }, ''],
    ['2107000301', { form: 1, back: 1, seq: 7, frame: 3 }, '01'],
    ['3fffffffff7f05', { form: 1, back: 31, seq: 65535, frame: 2 ** 21 - 1 }, '05'],
    ['452c01c801', { form: 2, back: 5, seq: 300, frame: 200 }, ''],
    ['00000102030405', { form: 0, back: 0, seq: 256, frame: 84148994 }, ''],
    ['2100010203', { form: 1, back: 1, seq: 256, frame: 2 }, '03'],
    ['3f01020100', { form: 1, back: 31, seq: 513, frame: 1 }, '00'],
    ['21010280808080808080808000ff', { form: 1, back: 1, seq: 513, frame: 0 }, 'ff'], // 10-byte uvarint
    ['4101020a', { form: 2, back: 1, seq: 513, frame: 10 }, ''],
  ];
  for (const [input, want, body] of cases) {
    const { body: got, ...h } = parseSnapshotHead(hex(input));
    assert.deepEqual(h, want, input);
    assert.equal(Buffer.from(got).toString('hex'), body, input);
  }
});

test('heads Go refuses are refused', () => {
  for (const input of [
    '', '2001', '200102', '0000010203', '600102', '800102', 'e00102', '2001028080808000ff',
    '210102808080808080808080800000', '21010280808001ff', '210102ffff7f', '21010280808002',
    '410102050f', '2101020a', '210102', '21010280',
  ]) {
    assert.throws(() => parseSnapshotHead(hex(input)), (e) => e instanceof MalformedError && e.code === 'head', input);
  }
});

test('the history refuses a delta whose baseline it does not hold', () => {
  const s = newSchema({ entities: [{ name: 'a', fields: [{ name: 'x', min: 0, max: 7 }], lod: [1, 1, 1, 1] }] });
  const h = new SnapshotHistory(s);
  assert.throws(() => h.receive(hex('2107000301')), MissingBaselineError);
  assert.throws(() => h.receive(hex('4507000a')), MissingBaselineError);
  assert.equal(h.newest, null);
});
