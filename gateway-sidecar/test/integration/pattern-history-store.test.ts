/**
 * PgRecommendationStore's pattern history on both databases (Postgres and the embedded one), with
 * the test's clock setting the decision times: the newest rejection's note wins; a recommendation
 * that is itself the newest decision or rejection falls back to the next one; and a list page costs
 * one history query whatever its size (counted on the real pool, three queries in all).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { PgRecommendationStore } from '../../src/adapters/pg-recommendation-store.ts';
import type { Recommendation } from '../../src/app/recommendation-service.ts';
import { dedupKey, recommendationIdFor } from '../../src/domain/dedup.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  anomaly,
  buildHarness,
  coolingEvent,
  feedSetpoint,
  operator,
  REACTOR_THROUGHPUT,
  T0,
  type Harness,
} from '../fixtures/recommendation-harness.ts';

const MIN = 60_000;

async function cooling(h: Harness, slot: number): Promise<Recommendation> {
  const ts = T0 + (slot + 1) * 7 * MIN;
  h.plant.setSetpoint(REACTOR_THROUGHPUT, 60);
  feedSetpoint(h, REACTOR_THROUGHPUT, 60);
  await h.service.onScored(coolingEvent(h, ts));
  const found = await h.service.get(
    recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5)),
  );
  assert.ok(found, 'recommendation created');
  return found.recommendation;
}

async function reject(h: Harness, rec: Recommendation, note: string): Promise<Recommendation> {
  h.clock.advance(MIN);
  return h.service.decide(rec.id, { decision: 'reject', note, expectedVersion: rec.version }, operator());
}

async function approve(h: Harness, rec: Recommendation): Promise<Recommendation> {
  h.clock.advance(MIN);
  let cur = await h.service.decide(
    rec.id,
    { decision: 'approve', expectedVersion: rec.version },
    operator('olga'),
  );
  if (cur.status === 'pending')
    cur = await h.service.decide(
      rec.id,
      { decision: 'approve', expectedVersion: cur.version },
      operator('otto'),
    );
  return cur;
}

/** The real pool, counting the queries made through it. */
function counted(pool: pg.Pool): { pool: pg.Pool; queries: () => number } {
  let n = 0;
  const proxy = new Proxy(pool, {
    get(target, prop, receiver) {
      if (prop === 'query')
        return (...args: unknown[]) => {
          n++;
          return (target.query as (...a: unknown[]) => unknown).apply(target, args);
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { pool: proxy, queries: () => n };
}

forEachDatabase((db) => {
  test('newest rejection wins; its own decision is left out even when it is the newest', async () => {
    const h = await buildHarness(db.pool());
    const r1 = await cooling(h, 0);
    const r2 = await cooling(h, 1);
    const r3 = await cooling(h, 2);
    const r4 = await cooling(h, 3);
    const first = await reject(h, r1, 'first note');
    const second = await reject(h, r2, 'second note');
    const approved = await approve(h, r3);
    assert.ok(['approved', 'executed', 'failed'].includes(approved.status), approved.status);
    const at = (r: Recommendation): string => {
      assert.ok(r.decidedAt !== null, r.id);
      return r.decidedAt;
    };
    assert.ok(at(first) < at(second) && at(second) < at(approved), 'the clock orders the decisions');

    const history = async (id: string) => (await h.store.get(id))?.recommendation.patternHistory;
    assert.deepEqual(await history(r4.id), {
      approved: 1,
      rejected: 2,
      lastRejectionNote: 'second note',
      lastDecidedAt: at(approved),
    });
    // r2 is the newest rejection itself: the note is the one before it.
    assert.deepEqual(await history(r2.id), {
      approved: 1,
      rejected: 1,
      lastRejectionNote: 'first note',
      lastDecidedAt: at(approved),
    });
    // r3 is the newest decision itself: the newest other one is r2's rejection.
    assert.deepEqual(await history(r3.id), {
      approved: 0,
      rejected: 2,
      lastRejectionNote: 'second note',
      lastDecidedAt: at(second),
    });
    // The change logged with r3's approval carries what GET r3 says now (nothing decided since).
    const logged = (await h.store.changesSince(0, 1000))
      .map((c) => c.recommendation)
      .filter((r) => r?.id === r3.id)
      .at(-1);
    assert.deepEqual(logged?.patternHistory, await history(r3.id));
  });
});

// A database of its own: the pattern above must not add to the counts below.
forEachDatabase((db) => {
  test('a list page costs one history query, whatever its size and patterns', async () => {
    const h = await buildHarness(db.pool());
    const recs: Recommendation[] = [];
    for (let i = 0; i < 6; i++) recs.push(await cooling(h, i));
    await reject(h, recs[0] as Recommendation, 'sensor fouled');
    await approve(h, recs[1] as Recommendation);
    const ts = T0 + 60 * MIN;
    await h.service.onScored([
      anomaly(h, { tagPath: '[default]Utilities/P02/Vibration', tsMs: ts, value: 9, z: 6 }),
      anomaly(h, { tagPath: '[default]Utilities/P02/BearingTemperature', tsMs: ts, value: 88, z: 4 }),
    ]);
    const { pool, queries } = counted(db.pool());
    const store = new PgRecommendationStore(pool);
    const page = await store.list({ limit: 100, offset: 0 });
    assert.equal(queries(), 3, 'the page, its total and one pattern-history query');
    assert.equal(page.items.length, 7);
    assert.equal(new Set(page.items.map((r) => `${r.equipmentId}|${r.issueType}`)).size, 2, 'two patterns');
    for (const r of page.items) {
      assert.deepEqual(r.patternHistory, (await h.store.get(r.id))?.recommendation.patternHistory, r.id);
    }
    const pending = page.items.filter((r) => r.status === 'pending' && r.equipmentId === 'REACTOR_01');
    assert.equal(pending.length, 4);
    for (const r of pending) {
      assert.equal(r.patternHistory?.approved, 1);
      assert.equal(r.patternHistory?.rejected, 1);
      assert.equal(r.patternHistory?.lastRejectionNote, 'sensor fouled');
    }
    const pump = page.items.find((r) => r.equipmentId === 'PUMP_02');
    assert.deepEqual(pump?.patternHistory, {
      approved: 0,
      rejected: 0,
      lastRejectionNote: null,
      lastDecidedAt: null,
    });
    // An empty page makes no history query.
    const before = queries();
    const empty = await store.list({ limit: 10, offset: 0, equipmentId: 'NO_SUCH_EQUIPMENT' });
    assert.equal(empty.items.length, 0);
    assert.equal(queries() - before, 2);
  });
});
