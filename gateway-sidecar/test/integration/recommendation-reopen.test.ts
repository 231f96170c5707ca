/**
 * Reopening past a rejection, on both databases (Postgres and the embedded one), through the real
 * Recommendations service and PgRecommendationStore. REACTOR_01's cooling degradation is raised,
 * rejected, and later anomalies of the same 5-minute window follow:
 *   - same-looking ones land on the rejected row (no new row, nothing shown again);
 *   - a worse severity, another leading tag or a higher score (beyond the margin) raise a new
 *     pending row `<key>|reopen:1` linked to the rejected one, with a reason, an audit row on both
 *     and a change that reaches subscribers (the SSE stream) and the change log;
 *   - a replay of the same events (same service and a restarted one) inserts nothing twice;
 *   - a rejected `reopen:1` is followed by `reopen:2`;
 *   - the decision-time snapshot stays what the operator saw while later events change the row;
 *   - flood control still applies to a reopening.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Recommendation } from '../../src/app/recommendation-service.ts';
import type { ScoredReading, Severity } from '../../src/domain/detection.ts';
import { dedupKey, recommendationIdFor, reopenKey } from '../../src/domain/dedup.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  anomaly,
  buildHarness,
  feedSetpoint,
  operator,
  REACTOR_THROUGHPUT,
  T0,
  type Harness,
} from '../fixtures/recommendation-harness.ts';

const MIN = 60_000;
const TEMP = '[default]Reactors/R01/Temperature';
const FLOW = '[default]Reactors/R01/CoolantFlow';

/** Each test uses its own 5-minute window (the databases are shared by the tests of a target). */
let windowNo = 0;
function nextWindow(): number {
  windowNo += 2;
  return T0 + windowNo * 5 * MIN;
}

interface Look {
  readonly severity?: Severity;
  readonly score?: number;
  /** Which tag comes first (leads) in the batch; equal weights keep the batch order. */
  readonly lead?: 'temperature' | 'flow';
}

/** Cooling degradation on REACTOR_01 (temperature up, coolant flow down) at tsMs. */
function cooling(h: Harness, tsMs: number, look: Look = {}): ScoredReading[] {
  const severity = look.severity ?? 'medium';
  const score = look.score ?? 0.8;
  const temp = anomaly(h, { tagPath: TEMP, tsMs, value: 84, z: 4, score, severity });
  const flow = anomaly(h, { tagPath: FLOW, tsMs, value: 20, z: -3, score: score - 0.1, severity });
  return look.lead === 'flow' ? [flow, temp] : [temp, flow];
}

const baseKey = (ts: number): string => dedupKey('REACTOR_01', 'cooling_degradation', ts, 5);

async function start(h: Harness, ts: number, look: Look = {}): Promise<Recommendation> {
  h.plant.setSetpoint(REACTOR_THROUGHPUT, 60);
  feedSetpoint(h, REACTOR_THROUGHPUT, 60);
  assert.equal(await h.service.onScored(cooling(h, ts, look)), 1);
  const found = await h.service.get(recommendationIdFor(baseKey(ts)));
  assert.ok(found, 'recommendation created');
  return found.recommendation;
}

async function reject(h: Harness, rec: Recommendation): Promise<Recommendation> {
  h.clock.advance(MIN);
  return h.service.decide(
    rec.id,
    { decision: 'reject', note: 'motor cool-down, expected', expectedVersion: rec.version },
    operator(),
  );
}

async function reactorRows(h: Harness, fromMs: number): Promise<Recommendation[]> {
  const { items } = await h.service.list({ equipmentId: 'REACTOR_01', limit: 500, offset: 0 });
  return items
    .filter((r) => Date.parse(r.anomalyAt) >= fromMs && Date.parse(r.anomalyAt) < fromMs + 5 * MIN)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}

forEachDatabase((db) => {
  const decidedColumns = async (id: string): Promise<Record<string, unknown>> => {
    const { rows } = await db.pool().query<Record<string, unknown>>(
      `SELECT decided_severity, decided_max_score, decided_top_tags, severity, max_anomaly_score, top_tags,
              occurrence_count, cardinality(anomaly_event_ids) AS events
         FROM agentic_hmi.agent_recommendations WHERE recommendation_id = $1`,
      [id],
    );
    assert.ok(rows[0], id);
    return rows[0];
  };

  test('same-looking anomalies after a rejection land on the rejected row; no new row', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const rejected = await reject(h, await start(h, ts + 10_000));
    assert.equal(rejected.status, 'rejected');
    const changes: Change[] = [];
    h.service.subscribe((c) => changes.push(c));
    // Two minutes later: same severity, same leading tag, score within the margin.
    assert.equal(await h.service.onScored(cooling(h, ts + 2 * MIN, { score: 0.85 })), 1);
    const rows = await reactorRows(h, ts);
    assert.deepEqual(
      rows.map((r) => [r.id, r.status]),
      [[rejected.id, 'rejected']],
    );
    const after = rows[0] as Recommendation;
    assert.equal(after.occurrenceCount, 4, 'the later events were recorded on the rejected row');
    assert.equal(after.version, rejected.version, 'no version change: nothing to decide again');
    assert.equal(after.reopenedFrom, null);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]?.recommendation?.status, 'rejected');
    assert.deepEqual(h.service.kpis().reopened, { severity: 0, top_tag: 0, score: 0 });
  });

  test('a worse severity raises a new pending row linked to the rejected one, audited and pushed', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const rejected = await reject(h, await start(h, ts + 10_000, { severity: 'medium' }));
    const changes: Change[] = [];
    h.service.subscribe((c) => changes.push(c));
    const seqBefore = (await h.service.changesSince(0, 100_000)).at(-1)?.seq ?? 0;
    assert.equal(await h.service.onScored(cooling(h, ts + 2 * MIN, { severity: 'high' })), 1);

    const id = recommendationIdFor(reopenKey(baseKey(ts + 10_000), 1));
    const found = await h.service.get(id);
    assert.ok(found, 'reopen:1 row exists');
    const r = found.recommendation;
    assert.equal(r.status, 'pending');
    assert.equal(r.severity, 'high');
    assert.equal(r.reopenedFrom, rejected.id);
    assert.equal(r.reopenReason, 'Reopened: HIGH (rejected at MEDIUM)');
    assert.equal(r.occurrenceCount, 2, 'only the new events');
    // Audit: created (with the link) on the new row, reopened on the rejected one.
    assert.deepEqual(
      found.history.map((a) => [a.action, a.toStatus]),
      [['created', 'pending']],
    );
    assert.deepEqual(found.history[0]?.after, {
      dedupKey: reopenKey(baseKey(ts + 10_000), 1),
      eventIds: 2,
      reopenedFrom: rejected.id,
      reason: 'Reopened: HIGH (rejected at MEDIUM)',
    });
    const old = await h.service.get(rejected.id);
    assert.ok(old);
    assert.equal(old.recommendation.status, 'rejected');
    assert.equal(old.recommendation.occurrenceCount, 2, 'the rejected row did not take them');
    assert.deepEqual(old.history.at(-1)?.action, 'reopened');
    assert.deepEqual(old.history.at(-1)?.after, { reopenedAs: id, reason: r.reopenReason });
    // Pushed to subscribers (SSE) and in the change log (SSE resume), with the link.
    assert.deepEqual(
      changes.map((c) => [c.recommendation?.id, c.recommendation?.reopenedFrom]),
      [[id, rejected.id]],
    );
    const logged = (await h.service.changesSince(seqBefore, 100)).filter((c) => c.recommendation?.id === id);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.recommendation?.reopenReason, r.reopenReason);
    // The list serves it too.
    const listed = (await reactorRows(h, ts)).find((x) => x.id === id);
    assert.equal(listed?.reopenedFrom, rejected.id);
    assert.equal(listed?.reopenReason, r.reopenReason);
    assert.deepEqual(h.service.kpis().reopened, { severity: 1, top_tag: 0, score: 0 });
  });

  test('another leading tag raises a new row; later same-looking ones keep landing on the rejected row', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const rejected = await reject(h, await start(h, ts + 10_000, { lead: 'temperature' }));
    assert.equal(await h.service.onScored(cooling(h, ts + 2 * MIN, { lead: 'flow' })), 1);
    const id = recommendationIdFor(reopenKey(baseKey(ts + 10_000), 1));
    const r = (await h.service.get(id))?.recommendation;
    assert.equal(r?.status, 'pending');
    assert.equal(r?.reopenedFrom, rejected.id);
    assert.equal(
      r?.reopenReason,
      'Reopened: CoolantFlow now leads (the rejected alarm was led by Temperature)',
    );
    // A temperature-led batch afterwards is still the rejected pattern.
    assert.equal(await h.service.onScored(cooling(h, ts + 3 * MIN, { lead: 'temperature' })), 1);
    // A flow-led one joins the open reopening.
    assert.equal(await h.service.onScored(cooling(h, ts + 4 * MIN, { lead: 'flow' })), 1);
    const rows = await reactorRows(h, ts);
    assert.deepEqual(
      rows.map((x) => [x.id, x.status, x.occurrenceCount]),
      [
        [rejected.id, 'rejected', 4],
        [id, 'pending', 4],
      ],
    );
    assert.deepEqual(h.service.kpis().reopened, { severity: 0, top_tag: 1, score: 0 });
  });

  test('a replay of the same events after a reopening changes nothing (same service and after a restart)', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const first = cooling(h, ts + 10_000);
    h.plant.setSetpoint(REACTOR_THROUGHPUT, 60);
    feedSetpoint(h, REACTOR_THROUGHPUT, 60);
    assert.equal(await h.service.onScored(first), 1);
    const base = (await h.service.get(recommendationIdFor(baseKey(ts + 10_000))))?.recommendation;
    assert.ok(base);
    await reject(h, base);
    const same = cooling(h, ts + 2 * MIN);
    const worse = cooling(h, ts + 3 * MIN, { severity: 'high' });
    assert.equal(await h.service.onScored(same), 1);
    assert.equal(await h.service.onScored(worse), 1);
    const stateOf = async (): Promise<unknown> =>
      (await reactorRows(h, ts)).map((x) => [x.id, x.status, x.occurrenceCount, x.version, x.reopenedFrom]);
    const state = await stateOf();
    assert.equal((state as unknown[]).length, 2);
    const auditCount = async (): Promise<number> =>
      Number(
        (
          await db
            .pool()
            .query<{ n: string }>(
              `SELECT count(*) AS n FROM agentic_hmi.recommendation_audit WHERE recommendation_id = ANY ($1)`,
              [[base.id, recommendationIdFor(reopenKey(baseKey(ts + 10_000), 1))]],
            )
        ).rows[0]?.n,
      );
    const audits = await auditCount();
    for (const batch of [first, same, worse, [...same, ...worse]])
      assert.equal(await h.service.onScored(batch), 0, 'replay: nothing created or updated');
    // A restarted service (nothing in memory) replays the whole stream.
    const h2 = await buildHarness(db.pool(), {}, undefined, h.clock.now() + MIN);
    h2.plant.setSetpoint(REACTOR_THROUGHPUT, 60);
    feedSetpoint(h2, REACTOR_THROUGHPUT, 60);
    for (const batch of [first, same, worse]) assert.equal(await h2.service.onScored(batch), 0);
    assert.deepEqual(await stateOf(), state);
    assert.equal(await auditCount(), audits);
    assert.deepEqual(h2.service.kpis().reopened, { severity: 0, top_tag: 0, score: 0 });
  });

  test('a rejected reopening is followed by reopen:2 on a further different anomaly', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const key = baseKey(ts + 10_000);
    const r0 = await reject(h, await start(h, ts + 10_000, { severity: 'medium' }));
    assert.equal(await h.service.onScored(cooling(h, ts + MIN, { severity: 'high' })), 1);
    const r1 = (await h.service.get(recommendationIdFor(reopenKey(key, 1))))?.recommendation;
    assert.ok(r1);
    const r1rejected = await reject(h, r1);
    assert.equal(r1rejected.status, 'rejected');
    // High again looks like the rejected reopening: it lands there (worse than r0, not than r1).
    assert.equal(await h.service.onScored(cooling(h, ts + 2 * MIN, { severity: 'high' })), 1);
    assert.equal(await h.service.get(recommendationIdFor(reopenKey(key, 2))), undefined);
    // Critical is worse than both.
    assert.equal(await h.service.onScored(cooling(h, ts + 3 * MIN, { severity: 'critical' })), 1);
    const r2 = (await h.service.get(recommendationIdFor(reopenKey(key, 2))))?.recommendation;
    assert.equal(r2?.status, 'pending');
    assert.equal(r2?.reopenedFrom, r1.id);
    assert.equal(r2?.reopenReason, 'Reopened: CRITICAL (rejected at HIGH)');
    const rows = await reactorRows(h, ts);
    assert.deepEqual(
      rows.map((x) => [x.id, x.status, x.occurrenceCount]),
      [
        [r0.id, 'rejected', 2],
        [r1.id, 'rejected', 4],
        [r2?.id, 'pending', 2],
      ],
    );
  });

  test('the decision-time snapshot does not move with later events; the score margin counts from it', async () => {
    const h = await buildHarness(db.pool());
    const ts = nextWindow();
    const rejected = await reject(h, await start(h, ts + 10_000, { score: 0.8 }));
    const at = await decidedColumns(rejected.id);
    assert.deepEqual(
      [at.decided_severity, at.decided_max_score, at.decided_top_tags],
      ['medium', 0.8, [TEMP]],
    );
    // 0.85 is within 0.1 of 0.8: lands on the rejected row and raises its current max score.
    assert.equal(await h.service.onScored(cooling(h, ts + MIN, { score: 0.85 })), 1);
    const moved = await decidedColumns(rejected.id);
    assert.equal(moved.max_anomaly_score, 0.85);
    assert.equal(moved.events, 4);
    assert.deepEqual(
      [moved.decided_severity, moved.decided_max_score, moved.decided_top_tags],
      ['medium', 0.8, [TEMP]],
      'what the operator saw stays',
    );
    // 0.95 is within 0.1 of the current 0.85 but more than 0.1 above the 0.8 the operator rejected.
    assert.equal(await h.service.onScored(cooling(h, ts + 2 * MIN, { score: 0.95 })), 1);
    const r = (await h.service.get(recommendationIdFor(reopenKey(baseKey(ts + 10_000), 1))))?.recommendation;
    assert.equal(r?.reopenedFrom, rejected.id);
    assert.equal(r?.reopenReason, 'Reopened: score 0.95 (rejected at 0.80)');
    assert.deepEqual(h.service.kpis().reopened, { severity: 0, top_tag: 0, score: 1 });
  });

  test('flood control applies to a reopening: beyond the area limit it is grouped, not shown', async () => {
    // A clock a day on: the rows the other tests created at T0 are outside this flood window.
    const h = await buildHarness(db.pool(), { maxRecommendationsPer10Min: 1 }, undefined, T0 + 24 * 60 * MIN);
    const ts = nextWindow();
    const rejected = await reject(h, await start(h, ts + 10_000, { severity: 'medium' }));
    assert.equal(await h.service.onScored(cooling(h, ts + MIN, { severity: 'high' })), 1);
    assert.equal(await h.service.get(recommendationIdFor(reopenKey(baseKey(ts + 10_000), 1))), undefined);
    const { items } = await h.service.list({ limit: 500, offset: 0 });
    const summary = items.find(
      (x) => x.issueType === 'flood_summary' && Date.parse(x.createdAt) >= T0 + 24 * 60 * MIN,
    );
    assert.ok(summary, 'grouped into the flood summary');
    assert.equal(summary.groupedItems?.[0]?.issueType, 'cooling_degradation');
    assert.equal((await h.service.get(rejected.id))?.recommendation.occurrenceCount, 2);
    assert.deepEqual(h.service.kpis().reopened, { severity: 0, top_tag: 0, score: 0 });
  });
});
