/**
 * The outcome of an executed write on the real API stack: approved over HTTP, written to the plant
 * simulator, then the learning loops (main-learning.ts, as main.ts starts them) record the outcome;
 * it reaches a connected SSE client as a recommendation change, and GET /api/recommendations (list
 * and one) shows it, with an audit entry. Real Postgres; the learning clock runs 31 minutes ahead
 * so the outcome window has passed without waiting.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Recommendation } from '../../src/app/recommendation-service.ts';
import { PgEventWriter, silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { parseConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { createLearning, startLearningLoops, type LearningLoops } from '../../src/main-learning.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';
import { ANOMALOUS, MIN, NORMALISH, REACTOR_TEMP, scored } from './learning-fixture.ts';

let h: ApiHarness;
let loops: LearningLoops | undefined;
before(async () => {
  h = await startApiHarness();
});
after(async () => {
  await loops?.stop();
  await h.close();
});

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${h.base}${path}`, { headers: auth(TOKENS.viewer) });
  assert.equal(res.status, 200, path);
  return (await res.json()) as T;
}

async function approve(rec: Recommendation): Promise<Recommendation> {
  let cur = rec;
  for (const token of [TOKENS.operator, TOKENS.operator2]) {
    const res = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(cur.id)}/decision`, {
      method: 'POST',
      headers: auth(token, { 'content-type': 'application/json' }),
      body: JSON.stringify({ decision: 'approve', expectedVersion: cur.version }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    cur = (await res.json()) as Recommendation;
    if (cur.status !== 'pending') break;
  }
  return cur;
}

test('an executed write gets its outcome on GET /api/recommendations and on the SSE stream', async () => {
  const now = Date.now();
  assert.equal(await h.raise(now - 2 * MIN), 1);
  const { items } = await getJson<{ items: Recommendation[] }>('/api/recommendations?status=pending');
  const rec = items.find((r) => r.equipmentId === 'REACTOR_01');
  assert.ok(rec?.proposedAction, `a cooling recommendation with a setpoint change: ${JSON.stringify(items)}`);
  assert.equal(rec.outcome, null, 'no outcome before the write');
  const done = await approve(rec);
  assert.equal(done.status, 'executed', JSON.stringify(done.writeResult));
  assert.equal(done.outcome, null, 'no outcome right after the write');
  const writtenAt = Date.parse(done.writeResult?.at ?? '');
  assert.ok(Number.isFinite(writtenAt));

  // Scored events of the reactor: anomalous for 30 min before the write; after it one anomalous
  // reading 4 min in, then clean readings for the rest of the window.
  const events = new PgEventWriter(h.pool);
  const rows = [
    ...Array.from({ length: 30 }, (_, i) =>
      scored(
        { equipment: h.index },
        REACTOR_TEMP,
        writtenAt - 30 * MIN + i * MIN + 500,
        ANOMALOUS,
        0.85,
        true,
      ),
    ),
    scored({ equipment: h.index }, REACTOR_TEMP, writtenAt + 4 * MIN, ANOMALOUS, 0.8, true),
    ...Array.from({ length: 25 }, (_, i) =>
      scored({ equipment: h.index }, REACTOR_TEMP, writtenAt + 5 * MIN + i * MIN, NORMALISH, 0.12, false),
    ),
  ];
  await events.writeSilver(rows.map(silverRowOf));

  const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
  try {
    await stream.waitForComment((c) => c === 'ready');
    const config = parseConfig({ learning: { retrainEnabled: false, outcomeWindowMinutes: 30 } });
    const logger = createLogger({ level: 'silent' });
    const learning = createLearning(config, h.pool, logger, {
      clock: { now: () => Date.now() + 31 * MIN },
    });
    // The first learning tick runs at start and checks outcomes.
    loops = await startLearningLoops({ config, pool: h.pool, logger, learning, recommendations: h.recs });
    const ev = await stream.next((e) => {
      if (e.event !== 'recommendation') return false;
      const c = JSON.parse(e.data) as Change;
      return c.recommendation?.id === rec.id && c.recommendation.outcome != null;
    }, 20_000);
    const pushed = (JSON.parse(ev.data) as Change).recommendation;
    assert.ok(pushed?.outcome);
    assert.equal(pushed.outcome.outcome, 'effective');
    assert.equal(
      pushed.outcome.clearedAfterMinutes,
      4,
      'the last anomalous reading came 4 min after the write',
    );
    assert.equal(pushed.outcome.windowMinutes, 30);
    assert.equal(pushed.outcome.before.events, 30);
    assert.equal(pushed.outcome.before.anomalies, 30);
    assert.ok(
      Math.abs(pushed.outcome.before.meanScore - 0.85) < 1e-9,
      String(pushed.outcome.before.meanScore),
    );
    assert.equal(pushed.outcome.after.events, 26);
    assert.equal(pushed.outcome.after.anomalies, 1);
    assert.equal(pushed.outcome.writtenAt, new Date(writtenAt).toISOString());
    assert.equal(pushed.outcome.reverted, false);
    assert.equal(pushed.status, 'executed');
    assert.equal(pushed.version, done.version, 'an outcome is not a decision: the version stays');

    const one = await getJson<{
      recommendation: Recommendation;
      history: { action: string; actor: string }[];
    }>(`/api/recommendations/${encodeURIComponent(rec.id)}`);
    assert.deepEqual(one.recommendation.outcome, pushed.outcome);
    assert.ok(
      one.history.some((a) => a.action === 'outcome' && a.actor === 'learning'),
      `audited: ${JSON.stringify(one.history.map((a) => a.action))}`,
    );
    const list = await getJson<{ items: Recommendation[] }>('/api/recommendations?status=executed');
    assert.deepEqual(list.items.find((r) => r.id === rec.id)?.outcome, pushed.outcome);
    // A client reconnecting with Last-Event-ID gets it from the change log too.
    const missed = await h.recs.changesSince(Number(ev.id) - 1, 10);
    assert.deepEqual(missed[0]?.recommendation?.outcome, pushed.outcome);
  } finally {
    stream.close();
  }
});
