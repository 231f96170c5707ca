/** Decisions on the real databases: roles, notes, optimistic concurrency, defer/expire, two-person rule. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  buildHarness,
  coolingEvent,
  engineer,
  feedSetpoint,
  operator,
  REACTOR_THROUGHPUT,
  T0,
  viewer,
  type Harness,
} from '../fixtures/recommendation-harness.ts';
import { dedupKey, recommendationIdFor } from '../../src/domain/dedup.ts';
import type { Recommendation } from '../../src/app/recommendation-service.ts';
import { SidecarError } from '../../src/errors.ts';

const MIN = 60_000;
let slot = 0;

/** A fresh cooling-degradation recommendation in its own dedup window; live throughput `live`. */
async function newRec(h: Harness, live = 60): Promise<Recommendation> {
  const ts = T0 + (slot++ + 1) * 7 * MIN;
  h.plant.setSetpoint(REACTOR_THROUGHPUT, live);
  feedSetpoint(h, REACTOR_THROUGHPUT, live);
  await h.service.onScored(coolingEvent(h, ts));
  const found = await h.service.get(
    recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5)),
  );
  assert.ok(found, 'recommendation created');
  return found.recommendation;
}

function code(err: unknown): string {
  return err instanceof SidecarError ? err.code : String(err);
}

forEachDatabase((db) => {
  test('viewer cannot decide; unknown id is 404', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h);
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, viewer()),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    await assert.rejects(
      h.service.decide('rec-nope', { decision: 'approve', expectedVersion: 1 }, operator()),
      (e) => code(e) === 'SC_ERR_API_NOT_FOUND',
    );
    assert.equal((await h.service.get(rec.id))!.recommendation.status, 'pending');
    assert.equal(h.writer.writes.length, 0);
  });

  test('reject requires a note and records it in the audit', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h);
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'reject', expectedVersion: 1 }, operator()),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'reject', note: '  ', expectedVersion: 1 }, operator()),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    const out = await h.service.decide(
      rec.id,
      { decision: 'reject', note: 'coolant pump under maintenance', expectedVersion: 1 },
      operator('olga'),
    );
    assert.equal(out.status, 'rejected');
    assert.equal(out.version, 2);
    assert.equal(out.decidedBy, 'olga');
    assert.equal(out.operatorNotes, 'coolant pump under maintenance');
    const { history } = (await h.service.get(rec.id))!;
    const last = history.at(-1)!;
    assert.deepEqual(
      [last.action, last.actor, last.fromStatus, last.toStatus, last.note],
      ['reject', 'olga', 'pending', 'rejected', 'coolant pump under maintenance'],
    );
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'approve', expectedVersion: 2 }, operator()),
      (e) => code(e) === 'SC_ERR_API_CONFLICT',
    );
  });

  test('two operators deciding the same recommendation at once: one wins, the other gets 409', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h);
    const results = await Promise.allSettled([
      h.service.decide(rec.id, { decision: 'reject', note: 'not now', expectedVersion: 1 }, operator('olga')),
      h.service.decide(
        rec.id,
        { decision: 'defer', deferUntil: new Date(T0 + 3_600_000).toISOString(), expectedVersion: 1 },
        operator('otto'),
      ),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(code(lost.reason), 'SC_ERR_API_CONFLICT');
    const { recommendation, history } = (await h.service.get(rec.id))!;
    assert.equal(recommendation.version, 2);
    assert.equal(history.filter((e) => e.action === 'reject' || e.action === 'defer').length, 1);
  });

  test('defer requires deferUntil and returns to pending when due', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h);
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'defer', expectedVersion: 1 }, operator()),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    const until = new Date(h.clock.now() + 30 * MIN).toISOString();
    const d = await h.service.decide(
      rec.id,
      { decision: 'defer', deferUntil: until, expectedVersion: 1 },
      operator(),
    );
    assert.equal(d.status, 'deferred');
    assert.equal(d.deferredUntil, until);
    h.clock.advance(29 * MIN);
    await h.service.tick();
    assert.equal((await h.service.get(rec.id))!.recommendation.status, 'deferred');
    h.clock.advance(MIN);
    assert.ok((await h.service.tick()) >= 1);
    const { recommendation, history } = (await h.service.get(rec.id))!;
    assert.equal(recommendation.status, 'pending');
    assert.equal(recommendation.deferredUntil, null);
    assert.equal(recommendation.version, 3);
    assert.deepEqual(
      history.slice(-2).map((e) => [e.action, e.actor, e.toStatus]),
      [
        ['defer', 'olga', 'deferred'],
        ['resumed', 'system', 'pending'],
      ],
    );
  });

  test('pending recommendations expire after expireAfterMinutes', async () => {
    const h = await buildHarness(db.pool(), { expireAfterMinutes: 30 });
    const rec = await newRec(h);
    h.clock.advance(29 * MIN);
    await h.service.tick();
    assert.equal((await h.service.get(rec.id))!.recommendation.status, 'pending');
    h.clock.advance(MIN);
    await h.service.tick();
    const { recommendation, history } = (await h.service.get(rec.id))!;
    assert.equal(recommendation.status, 'expired');
    assert.equal(history.at(-1)!.action, 'expired');
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'approve', expectedVersion: recommendation.version }, operator()),
      (e) => code(e) === 'SC_ERR_API_CONFLICT',
    );
  });

  test('two-person rule: a large change needs a second, different approver', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 80); // 80 → 64: 16 > 20 % of the 60-wide range
    assert.equal(rec.proposedAction?.requiresSecondApprover, true);
    const first = await h.service.decide(
      rec.id,
      { decision: 'approve', expectedVersion: 1 },
      operator('olga'),
    );
    assert.equal(first.status, 'pending');
    assert.deepEqual(
      first.approvals?.map((a) => a.user),
      ['olga'],
    );
    assert.equal(h.writer.writes.length, 0, 'no write on the first approval');
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'approve', expectedVersion: 2 }, operator('olga')),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    await assert.rejects(
      h.service.decide(rec.id, { decision: 'approve', expectedVersion: 2 }, viewer('vera')),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    const second = await h.service.decide(
      rec.id,
      { decision: 'approve', expectedVersion: 2 },
      engineer('erik'),
    );
    assert.equal(second.status, 'executed');
    assert.deepEqual(h.writer.writes, [{ tagPath: REACTOR_THROUGHPUT, value: 64 }]);
    const actions = (await h.service.get(rec.id))!.history.map((e) => e.action);
    assert.deepEqual(actions, ['created', 'approval_recorded', 'approve', 'write_executed']);
  });
});
