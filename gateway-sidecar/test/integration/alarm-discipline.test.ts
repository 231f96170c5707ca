/**
 * ISA-18.2 discipline end to end on the real databases: shelving, modes, flood grouping, min
 * confidence, KPIs, and flood control continuing across a crash (the restarted service rebuilds
 * it from the stored rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  anomaly,
  buildHarness,
  coolingEvent,
  feedSetpoint,
  operator,
  REACTOR_THROUGHPUT,
  T0,
  viewer,
  type Harness,
} from '../fixtures/recommendation-harness.ts';
import { SidecarError } from '../../src/errors.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const code = (e: unknown): string => (e instanceof SidecarError ? e.code : String(e));

async function reactorRecs(h: Harness, fromMs: number, toMs: number) {
  const { items } = await h.service.list({ limit: 500, offset: 0 });
  return items.filter((r) => Date.parse(r.anomalyAt) >= fromMs && Date.parse(r.anomalyAt) < toMs);
}

/** New (non-summary) recommendations created in the window, and the items grouped in its summary. */
async function floodOutcome(h: Harness, windowStartMs: number) {
  const { items } = await h.service.list({ limit: 500, offset: 0 });
  const own = items.filter(
    (r) =>
      r.area === 'Reactors' &&
      Date.parse(r.createdAt) >= windowStartMs &&
      Date.parse(r.createdAt) < windowStartMs + 10 * MIN,
  );
  const summaries = own.filter((r) => r.issueType === 'flood_summary');
  return {
    admitted: own.length - summaries.length,
    summaries: summaries.length,
    grouped: summaries.reduce((n, r) => n + (r.groupedItems?.length ?? 0), 0),
  };
}

forEachDatabase((db) => {
  test('a shelved pattern raises nothing until the shelf runs out', async () => {
    const h = await buildHarness(db.pool());
    const base = T0 + 1 * DAY;
    h.clock.t = base;
    feedSetpoint(h, REACTOR_THROUGHPUT, 60);
    await assert.rejects(
      h.service.shelve(
        { equipmentId: 'REACTOR_01', issueType: '*', reason: '', durationMinutes: 30 },
        operator(),
      ),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await assert.rejects(
      h.service.shelve(
        { equipmentId: 'REACTOR_01', issueType: '*', reason: 'x', durationMinutes: 25 * 60 },
        operator(),
      ),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await assert.rejects(
      h.service.shelve({ equipmentId: 'NOPE', issueType: '*', reason: 'x', durationMinutes: 5 }, operator()),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await assert.rejects(
      h.service.shelve(
        { equipmentId: 'REACTOR_01', issueType: '*', reason: 'x', durationMinutes: 5 },
        viewer(),
      ),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    const shelf = await h.service.shelve(
      {
        equipmentId: 'REACTOR_01',
        issueType: 'cooling_degradation',
        reason: 'coolant loop being flushed',
        durationMinutes: 30,
      },
      operator('olga'),
    );
    assert.equal(shelf.until, new Date(base + 30 * MIN).toISOString());
    assert.equal((await h.service.listShelves()).filter((s) => s.id === shelf.id).length, 1);
    assert.equal(await h.service.onScored(coolingEvent(h, base)), 0);
    assert.equal((await reactorRecs(h, base, base + DAY)).length, 0);
    assert.equal(h.service.kpis().suppressed.shelved, 1);
    // a restarted service still honours the shelf
    const h2 = await buildHarness(db.pool());
    h2.clock.t = base + 10 * MIN;
    assert.equal(await h2.service.onScored(coolingEvent(h2, base + 10 * MIN)), 0);
    h.clock.t = base + 30 * MIN;
    await h.service.tick();
    assert.equal(await h.service.onScored(coolingEvent(h, base + 30 * MIN)), 1);
    assert.equal((await reactorRecs(h, base, base + DAY)).length, 1);
  });

  test('unshelving ends a shelf early', async () => {
    const h = await buildHarness(db.pool());
    const base = T0 + 2 * DAY;
    h.clock.t = base;
    const shelf = await h.service.shelve(
      { equipmentId: 'REACTOR_01', issueType: '*', reason: 'calibration', durationMinutes: 60 },
      operator(),
    );
    assert.equal(await h.service.onScored(coolingEvent(h, base)), 0);
    await h.service.unshelve(shelf.id, operator());
    await assert.rejects(h.service.unshelve(shelf.id, operator()), (e) => code(e) === 'SC_ERR_API_NOT_FOUND');
    assert.equal(await h.service.onScored(coolingEvent(h, base + 1000)), 1);
  });

  test('maintenance and start-up modes suppress; back in RUN they raise again', async () => {
    const h = await buildHarness(db.pool());
    const base = T0 + 3 * DAY;
    h.clock.t = base;
    await h.service.onMode({
      kind: 'mode',
      equipmentId: 'REACTOR_01',
      mode: 'MAINTENANCE',
      sourceTimestampMs: base,
    });
    assert.equal(await h.service.onScored(coolingEvent(h, base)), 0);
    assert.equal(h.service.kpis().suppressed.mode, 1);
    // persisted: a restart keeps the mode
    const h2 = await buildHarness(db.pool());
    assert.equal(h2.service.modes().get('REACTOR_01'), 'MAINTENANCE');
    await h.service.setMode('REACTOR_01', 'STARTUP', operator());
    assert.equal(await h.service.onScored(coolingEvent(h, base + 6 * MIN)), 0);
    await assert.rejects(
      h.service.setMode('REACTOR_01', 'RUN', viewer()),
      (e) => code(e) === 'SC_ERR_API_FORBIDDEN',
    );
    await assert.rejects(
      h.service.setMode('NOPE', 'RUN', operator()),
      (e) => code(e) === 'SC_ERR_API_VALIDATION',
    );
    await h.service.onMode({
      kind: 'mode',
      equipmentId: 'REACTOR_01',
      mode: 'RUN',
      sourceTimestampMs: base + 12 * MIN,
    });
    assert.equal(await h.service.onScored(coolingEvent(h, base + 12 * MIN)), 1);
    assert.equal((await reactorRecs(h, base, base + DAY)).length, 1);
  });

  test('flood control: the excess over the limit is grouped into one summary, never dropped', async () => {
    const h = await buildHarness(db.pool(), { maxRecommendationsPer10Min: 3 });
    const base = T0 + 4 * DAY;
    h.clock.t = base;
    feedSetpoint(h, REACTOR_THROUGHPUT, 60);
    for (let i = 0; i < 6; i++) await h.service.onScored(coolingEvent(h, base + i * 5 * MIN));
    await h.service.onScored(coolingEvent(h, base + 5 * 5 * MIN + 1000)); // a repeat of a grouped one
    const { items } = await h.service.list({ limit: 500, offset: 0 });
    const own = items.filter((r) => r.area === 'Reactors' && Date.parse(r.createdAt) === base);
    const summaries = own.filter((r) => r.issueType === 'flood_summary');
    assert.equal(own.length - summaries.length, 3);
    assert.equal(summaries.length, 1);
    const s = summaries[0]!;
    assert.equal(s.equipmentId, 'area:Reactors');
    assert.equal(s.proposedAction, null);
    assert.match(s.text, /Alarm flood in area Reactors: more than 3 new recommendations within 10 minutes/);
    assert.equal(s.groupedItems?.length, 3);
    assert.ok(
      s.groupedItems?.every((g) => g.issueType === 'cooling_degradation' && g.equipmentId === 'REACTOR_01'),
    );
    assert.equal(s.occurrenceCount, 8); // 4 grouped batches × 2 anomalous events
    const k = h.service.kpis();
    assert.ok(k.floodWindowPct > 0);
    assert.equal(k.grouped, 4);
    assert.equal(k.recommendationsPerOperatorHour, 3);
    // the next 10-minute window admits again
    h.clock.t = base + 10 * MIN;
    assert.equal(await h.service.onScored(coolingEvent(h, base + 40 * MIN)), 1);
    const next = (await h.service.list({ limit: 500, offset: 0 })).items.filter(
      (r) => Date.parse(r.createdAt) === base + 10 * MIN,
    );
    assert.deepEqual(
      next.map((r) => r.issueType),
      ['cooling_degradation'],
    );
  });

  test('below minConfidence never reaches operators', async () => {
    const h = await buildHarness(db.pool(), { minConfidence: 0.6 });
    const base = T0 + 5 * DAY;
    h.clock.t = base;
    // A lone motor-current deviation on the conveyor: process upset with a weak score.
    const weak = [
      anomaly(h, { tagPath: '[default]Materials/C03/MotorCurrent', tsMs: base, value: 70, z: 3, score: 0.6 }),
    ];
    assert.equal(await h.service.onScored(weak), 0);
    assert.equal(h.service.kpis().suppressed.below_confidence, 1);
    const { items } = await h.service.list({ equipmentId: 'CONVEYOR_03', limit: 500, offset: 0 });
    assert.equal(items.filter((r) => Date.parse(r.anomalyAt) === base).length, 0);
    const gold = await db
      .pool()
      .query(
        "SELECT count(*)::int AS n FROM mining_operations.ai_recommendations_gold WHERE equipment_id = 'CONVEYOR_03' AND created_timestamp = $1",
        [new Date(base)],
      );
    assert.equal(gold.rows[0].n, 0);
    const strong = [
      anomaly(h, {
        tagPath: '[default]Materials/C03/MotorTemperature',
        tsMs: base,
        value: 88,
        z: 5,
        score: 0.95,
      }),
    ];
    assert.equal(await h.service.onScored(strong), 1);
  });

  test('after a crash mid-flood the restarted service admits no more than an uninterrupted one', async () => {
    const over = { maxRecommendationsPer10Min: 3 };
    // Reference: six new recommendations inside one 10-minute window, one uninterrupted service.
    const refBase = T0 + 6 * DAY;
    const ref = await buildHarness(db.pool(), over);
    ref.clock.t = refBase;
    feedSetpoint(ref, REACTOR_THROUGHPUT, 60);
    for (let i = 0; i < 6; i++) await ref.service.onScored(coolingEvent(ref, refBase + i * 5 * MIN));
    const expected = await floodOutcome(ref, refBase);
    assert.deepEqual(expected, { admitted: 3, summaries: 1, grouped: 3 });

    // The same stream, but the service dies (no shutdown: its memory is simply gone) after two.
    const base = T0 + 7 * DAY;
    const first = await buildHarness(db.pool(), over);
    first.clock.t = base;
    feedSetpoint(first, REACTOR_THROUGHPUT, 60);
    for (let i = 0; i < 2; i++) await first.service.onScored(coolingEvent(first, base + i * 5 * MIN));
    // A sidecar started on the database the crashed one left behind, its clock at the restart time.
    const restarted = await buildHarness(db.pool(), over, undefined, base + 2 * MIN);
    feedSetpoint(restarted, REACTOR_THROUGHPUT, 60);
    for (let i = 2; i < 6; i++) await restarted.service.onScored(coolingEvent(restarted, base + i * 5 * MIN));
    assert.deepEqual(await floodOutcome(restarted, base), expected);

    // The KPIs continue too: the window is in flood, three reached operators in the last hour, and
    // the pattern (three raises within the chatter window, two of them before the crash) chatters.
    const k = restarted.service.kpis();
    assert.ok(k.floodWindowPct > 0, `floodWindowPct ${k.floodWindowPct}`);
    assert.equal(k.recommendationsPerOperatorHour, 3);
    assert.deepEqual(k.chatteringPatterns, ['REACTOR_01|cooling_degradation']);
    assert.equal(k.grouped, 3);

    // The next window admits again after the restart, as it would have without one.
    restarted.clock.t = base + 10 * MIN;
    assert.equal(await restarted.service.onScored(coolingEvent(restarted, base + 40 * MIN)), 1);
    assert.deepEqual(await floodOutcome(restarted, base + 10 * MIN), {
      admitted: 1,
      summaries: 0,
      grouped: 0,
    });
  });
});
