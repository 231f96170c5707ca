import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sparkplugCodec, SparkplugTracker } from '../../src/adapters/sparkplug-tracker.ts';

const G = 'G1';
const birth = (seq = 0): Uint8Array =>
  sparkplugCodec.encodePayload({
    timestamp: 1000,
    seq,
    metrics: [
      { name: 'bdSeq', type: 'Int64', value: 0 },
      { name: 'Flow', alias: 7, type: 'Double', value: 1.5 },
    ],
  });
const data = (seq: number, value: number): Uint8Array =>
  sparkplugCodec.encodePayload({ timestamp: 2000, seq, metrics: [{ alias: 7, type: 'Double', value }] });

test('random bytes and random topics never throw; each message gets events or counted reasons', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), fc.uint8Array({ maxLength: 200 }), (topicTail, bytes) => {
      const t = new SparkplugTracker(G, 'P/');
      t.handle(`spBv1.0/${G}/NBIRTH/E1`, birth(), 0);
      for (const topic of [
        `spBv1.0/${G}/NDATA/E1`,
        `spBv1.0/${G}/DDATA/E1/D1`,
        topicTail,
        `spBv1.0/${G}/${topicTail}`,
      ]) {
        const r = t.handle(topic, bytes, 0);
        assert.ok(Array.isArray(r.events) && Array.isArray(r.rejects));
        for (const e of r.events) assert.ok(e.tagPath.startsWith('P/G1/'));
      }
    }),
    { numRuns: 300 },
  );
});

test('seq wraps 255 -> 0 without a gap; a jump is a gap with a rebirth request', () => {
  const t = new SparkplugTracker(G, 'P/');
  t.handle(`spBv1.0/${G}/NBIRTH/E1`, birth(0), 0);
  for (let s = 1; s <= 300; s++) {
    const r = t.handle(`spBv1.0/${G}/NDATA/E1`, data(s % 256, s), 0);
    assert.deepEqual(r.rejects, [], `seq ${s % 256}`);
    assert.equal(r.rebirth, undefined);
    assert.deepEqual(
      r.events.map((e) => [e.tagPath, e.value]),
      [['P/G1/E1/Flow', s]],
    );
  }
  const gap = t.handle(`spBv1.0/${G}/NDATA/E1`, data(50, 1), 0);
  assert.deepEqual(gap.rejects, ['sparkplug_seq_gap']);
  assert.equal(gap.rebirth, 'E1');
  assert.equal(gap.events.length, 1, 'the values of a message after a gap are still valid');
});

test('an NDEATH from an older session (other bdSeq) is ignored and counted', () => {
  const t = new SparkplugTracker(G, 'P/');
  t.handle(`spBv1.0/${G}/NBIRTH/E1`, birth(0), 0);
  const old = sparkplugCodec.encodePayload({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 9 }] });
  assert.deepEqual(t.handle(`spBv1.0/${G}/NDEATH/E1`, old, 0).rejects, ['sparkplug_stale_death']);
  const current = sparkplugCodec.encodePayload({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] });
  const r = t.handle(`spBv1.0/${G}/NDEATH/E1`, current, 5);
  assert.deepEqual(
    r.events.map((e) => [e.tagPath, e.quality, e.value]),
    [['P/G1/E1/Flow', 'bad', null]],
  );
});
