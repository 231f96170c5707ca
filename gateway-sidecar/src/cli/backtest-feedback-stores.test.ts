import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeedbackLearningStore, MemoryModelRegistry } from './backtest-feedback-stores.ts';
import type { LabelledEvent, ModelEntry } from '../domain/learning/ports.ts';

const entry = (version: string, createdAtMs: number): Omit<ModelEntry, 'status'> => ({
  version,
  name: 'if-rf-ensemble',
  createdAtMs,
  trainingFromMs: null,
  trainingToMs: null,
  metrics: {},
  gate: null,
  path: `/tmp/${version}`,
  sha256: version,
});

test('registry: one active version; promote retires the previous one; rollback reactivates the last retired', async () => {
  const r = new MemoryModelRegistry();
  await r.register({ ...entry('a', 1), status: 'active' }, 1);
  await r.register({ ...entry('b', 2), status: 'candidate' }, 2);
  await r.register({ ...entry('c', 3), status: 'rejected' }, 3);
  await assert.rejects(r.register({ ...entry('b', 4), status: 'candidate' }, 4), /already registered/);
  assert.equal((await r.active())?.version, 'a');
  await r.promote('b', 5);
  assert.equal((await r.active())?.version, 'b');
  assert.equal((await r.get('a'))?.status, 'retired');
  assert.deepEqual(
    (await r.list()).map((e) => `${e.version}:${e.status}`),
    ['c:rejected', 'b:active', 'a:retired'],
  );
  await r.rollback(undefined, 6);
  assert.equal((await r.active())?.version, 'a');
  assert.equal((await r.get('b'))?.status, 'retired');
  await assert.rejects(r.promote('zzz', 7), /unknown model version zzz/);
  await assert.rejects(new MemoryModelRegistry().rollback(undefined, 1), /no retired version/);
  assert.equal(
    Object.hasOwn((await r.get('a')) as object, 'changedAtMs'),
    false,
    'entries look like the Postgres ones',
  );
});

test('learning store: labelled events as given; feature rows sampled evenly to the limit, normal only on request', async () => {
  const ev: LabelledEvent = {
    recommendationId: 'rec-1',
    equipmentId: 'E',
    issueType: 'anomaly',
    status: 'rejected',
    note: 'n',
    outcome: null,
    eventId: 'E/a@1',
    tsMs: 1_000,
    raisedAtMs: 1_000,
    decidedAtMs: 2_000,
    features: { z_score: 1 },
  };
  const normal = Array.from({ length: 10 }, (_, i) => ({
    equipmentId: 'E',
    tsMs: i * 1_000,
    features: { z_score: i },
  }));
  const s = new FeedbackLearningStore([ev], normal, [
    { equipmentId: 'E', tsMs: 0, features: { z_score: 99 } },
  ]);
  assert.deepEqual(await s.labelledEvents(), [ev]);
  assert.deepEqual(
    (await s.featureRows(0, 1, 5, true)).map((r) => r.z_score),
    [0, 2, 4, 6, 8],
  );
  assert.equal((await s.featureRows(0, 1, 100, true)).length, 10);
  assert.deepEqual((await s.featureRows(0, 1, 100, false)).map((r) => r.z_score).slice(-1), [99]);
  // A rejected recommendation does not mark rows as near a confirmed fault; an approved one does,
  // on its own equipment only: rows from its anomaly time − margin to its last event + margin.
  assert.equal((await s.featureRows(0, 1, 100, true, 2_000)).length, 10);
  const confirmed = new FeedbackLearningStore(
    [
      { ...ev, status: 'approved', eventId: 'E/a@4', tsMs: 4_000, raisedAtMs: 4_000 },
      { ...ev, status: 'approved', eventId: 'E/a@5', tsMs: 5_000, raisedAtMs: 4_000 },
    ],
    [...normal, { equipmentId: 'F', tsMs: 4_000, features: { z_score: 42 } }],
  );
  assert.deepEqual(
    (await confirmed.featureRows(0, 1, 100, true, 2_000)).map((r) => r.z_score),
    [0, 1, 8, 9, 42],
  );
  const copy = await s.featureRows(0, 1, 100, true);
  (copy[0] as Record<string, number>).z_score = -1;
  assert.equal((await s.featureRows(0, 1, 100, true))[0]?.z_score, 0, 'callers get copies');
});
