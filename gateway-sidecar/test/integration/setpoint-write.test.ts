/** Setpoint writes through the simulator's TagWriter: exactly once, within limits, read back, revertible. */
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
  type Harness,
} from '../fixtures/recommendation-harness.ts';
import { dedupKey, recommendationIdFor } from '../../src/domain/dedup.ts';
import type { Recommendation } from '../../src/app/recommendation-service.ts';
import { executeApprovedWrite } from '../../src/app/setpoint-write.ts';
import { createLogger } from '../../src/log.ts';
import { SidecarError } from '../../src/errors.ts';

const MIN = 60_000;
let slot = 0;

async function newRec(h: Harness, live = 60): Promise<Recommendation> {
  const ts = T0 + (slot++ + 1) * 7 * MIN;
  h.plant.setSetpoint(REACTOR_THROUGHPUT, live);
  feedSetpoint(h, REACTOR_THROUGHPUT, live);
  await h.service.onScored(coolingEvent(h, ts));
  return (await h.service.get(recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5))))!
    .recommendation;
}

const code = (e: unknown): string => (e instanceof SidecarError ? e.code : String(e));

forEachDatabase((db) => {
  test('approval executes the write exactly once even with concurrent approvals', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60); // 60 → 48, one approver suffices
    assert.deepEqual(
      rec.proposedAction && [
        rec.proposedAction.currentValue,
        rec.proposedAction.newValue,
        rec.proposedAction.requiresSecondApprover,
      ],
      [60, 48, false],
    );
    const results = await Promise.allSettled(
      ['olga', 'otto', 'oskar', 'ola', 'erik'].map((u) =>
        h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, operator(u)),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Recommendation>[];
    assert.equal(won.length, 1);
    assert.ok(
      results
        .filter((r) => r.status === 'rejected')
        .every((r) => code((r as PromiseRejectedResult).reason) === 'SC_ERR_API_CONFLICT'),
    );
    const out = won[0]!.value;
    assert.equal(out.status, 'executed');
    assert.deepEqual(
      { ...out.writeResult, at: undefined },
      { ok: true, readBack: 48, previousValue: 60, reason: null, at: undefined },
    );
    assert.deepEqual(h.writer.writes, [{ tagPath: REACTOR_THROUGHPUT, value: 48 }]);
    assert.equal(h.plant.readTag(REACTOR_THROUGHPUT), 48);

    // a second execution attempt (another process, a retry) finds the write claimed
    const again = await executeApprovedWrite(
      {
        store: h.store,
        writer: h.writer,
        equipment: h.equipment,
        clock: h.clock,
        logger: createLogger({ level: 'silent' }),
        options: { requireReadBack: true, readBackTolerance: 1e-6 },
      },
      { ...out, status: 'approved' },
      operator('late'),
    );
    assert.equal(again, undefined);
    assert.equal(h.writer.writes.length, 1);
    const audit = (await h.service.get(rec.id))!.history.at(-1)!;
    assert.equal(audit.action, 'write_executed');
    assert.deepEqual(audit.before, { tagPath: REACTOR_THROUGHPUT, value: 60, status: 'approved' });
    assert.deepEqual(audit.after, { tagPath: REACTOR_THROUGHPUT, value: 48, requested: 48 });
  });

  test('a step too large against the live value fails with the reason and is never written', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60);
    h.plant.setSetpoint(REACTOR_THROUGHPUT, 80); // someone moved the setpoint: 48 is now 32 away (maxStep 25)
    const out = await h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, operator());
    assert.equal(out.status, 'failed');
    assert.match(out.writeResult?.reason ?? '', /step_too_large.*exceeds maxStep 25/);
    assert.equal(h.writer.writes.length, 0);
    assert.equal(h.plant.readTag(REACTOR_THROUGHPUT), 80);
  });

  test('an out-of-range action fails with the reason and is never written', async () => {
    const h = await buildHarness(db.pool());
    h.plant.setSetpoint(REACTOR_THROUGHPUT, 50);
    // A row proposed under older, wider limits: 30 is below today's configured min of 40.
    const ts = T0 + 1000 * MIN;
    const key = dedupKey('REACTOR_01', 'overheating', ts, 5);
    await h.store.upsert({
      id: recommendationIdFor(key),
      dedupKey: key,
      equipmentId: 'REACTOR_01',
      area: 'Reactors',
      issueType: 'overheating',
      severity: 'high',
      anomalyScore: 0.9,
      confidence: 0.9,
      text: 'Overheating',
      explanation: [],
      proposedAction: {
        tagPath: REACTOR_THROUGHPUT,
        setpointName: 'throughput',
        unit: '%',
        currentValue: 50,
        newValue: 30,
        min: 20,
        max: 100,
        maxStep: 25,
        requiresSecondApprover: false,
      },
      anomalyAtMs: ts,
      eventIds: [`x@${ts}`],
      groupedItems: [],
      nowMs: h.clock.now(),
    });
    const out = await h.service.decide(
      recommendationIdFor(key),
      { decision: 'approve', expectedVersion: 1 },
      operator(),
    );
    assert.equal(out.status, 'failed');
    assert.match(out.writeResult?.reason ?? '', /out_of_range.*outside the allowed range \[40, 100\]/);
    assert.equal(h.writer.writes.length, 0);
    assert.equal(h.plant.readTag(REACTOR_THROUGHPUT), 50);
  });

  test('a write the device refuses ends failed with its reason', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60);
    h.writer.refuseWith = 'PLC in local mode';
    const out = await h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, operator());
    assert.equal(out.status, 'failed');
    assert.equal(out.writeResult?.reason, 'PLC in local mode');
    assert.equal(h.writer.writes.length, 1);
    assert.equal((await h.service.get(rec.id))!.history.at(-1)!.action, 'write_failed');
  });

  test('revert: engineers only, with a note, once, audited', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60);
    const done = await h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, operator());
    assert.equal(done.status, 'executed');
    await assert.rejects(
      h.service.revert(rec.id, operator(), 'undo'),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    await assert.rejects(
      h.service.revert(rec.id, engineer(), ' '),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await assert.rejects(
      h.service.revert('rec-none', engineer(), 'x'),
      (e) => code(e) === 'SC_ERR_API_NOT_FOUND',
    );
    const reverted = await h.service.revert(rec.id, engineer('erik'), 'throughput loss too high');
    assert.equal(reverted.status, 'executed');
    assert.equal(reverted.revertResult?.ok, true);
    assert.equal(reverted.revertResult?.readBack, 60);
    assert.equal(h.plant.readTag(REACTOR_THROUGHPUT), 60);
    assert.deepEqual(
      h.writer.writes.map((w) => w.value),
      [48, 60],
    );
    await assert.rejects(
      h.service.revert(rec.id, engineer('erik'), 'again'),
      (e) => code(e) === 'SC_ERR_API_CONFLICT',
    );
    const last = (await h.service.get(rec.id))!.history.at(-1)!;
    assert.deepEqual([last.action, last.actor, last.note], ['revert', 'erik', 'throughput loss too high']);
    assert.deepEqual(last.before, { tagPath: REACTOR_THROUGHPUT, value: 48 });
    // a pending recommendation has nothing to revert
    const other = await newRec(h, 60);
    await assert.rejects(
      h.service.revert(other.id, engineer(), 'x'),
      (e) => code(e) === 'SC_ERR_API_CONFLICT',
    );
  });

  test('a refused revert is audited, raises the write error and can be retried', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60);
    await h.service.decide(rec.id, { decision: 'approve', expectedVersion: 1 }, operator());
    h.plant.setSetpoint(REACTOR_THROUGHPUT, 90); // 60 is now 30 away from the live value
    await assert.rejects(
      h.service.revert(rec.id, engineer(), 'undo'),
      (e) => code(e) === 'SC_ERR_WRITE_STEP_TOO_LARGE',
    );
    assert.equal((await h.service.get(rec.id))!.history.at(-1)!.action, 'revert_failed');
    h.plant.setSetpoint(REACTOR_THROUGHPUT, 50);
    h.writer.refuseWith = 'denied';
    await assert.rejects(
      h.service.revert(rec.id, engineer(), 'undo'),
      (e) => code(e) === 'SC_ERR_WRITE_FAILED',
    );
    h.writer.refuseWith = undefined;
    const ok = await h.service.revert(rec.id, engineer(), 'undo');
    assert.equal(ok.revertResult?.readBack, 60);
  });

  test('a write interrupted by a crash is marked failed at start-up, never written again', async () => {
    const h = await buildHarness(db.pool());
    const rec = await newRec(h, 60);
    // Reproduce the state a crash leaves: approved, write claimed, no outcome recorded.
    await h.store.transition(rec.id, h.clock.now(), () => ({
      toStatus: 'approved',
      bumpVersion: true,
      approvals: [{ user: 'olga', atMs: h.clock.now() }],
      decidedBy: 'olga',
      audit: {
        action: 'approve',
        actor: 'olga',
        actorRoles: ['operator'],
        note: null,
        before: null,
        after: null,
      },
    }));
    assert.equal(
      await h.store.claimWrite(rec.id, 'apply', 'approved', REACTOR_THROUGHPUT, 'olga', h.clock.now()),
      true,
    );
    const restarted = await buildHarness(db.pool());
    const after = (await restarted.service.get(rec.id))!;
    assert.equal(after.recommendation.status, 'failed');
    assert.match(after.recommendation.writeResult?.reason ?? '', /^interrupted/);
    assert.equal(after.history.at(-1)!.action, 'write_interrupted');
    assert.equal(restarted.writer.writes.length + h.writer.writes.length, 0);
  });
});
