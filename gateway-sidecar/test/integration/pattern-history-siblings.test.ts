/**
 * A decision reaches the other open recommendations of its pattern, on both databases (Postgres
 * and the embedded one), through the real service, store and HTTP/SSE stack: rejecting A of
 * REACTOR_01 × cooling_degradation logs, in A's transaction, one change for each other OPEN
 * recommendation of the pattern (B pending, C deferred) with its new `patternHistory`. A live SSE
 * client receives A then B and C (ascending ids, each once); a client resuming from an id before
 * the decision receives the same three once, from A's id only B and C. The decided E of the
 * pattern and the PUMP_02 recommendation get nothing; a deferral (not counted in the history)
 * pushes nothing for the others. Two concurrent decisions of the pattern both succeed and the last
 * change logged for the remaining open one counts both. The cap keeps the newest open ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createHttpApp } from '../../src/adapters/http/create-http-app.ts';
import { appendDecisionChanges, changesPatternHistory } from '../../src/adapters/pg-recommendation-log.ts';
import { inTransaction } from '../../src/adapters/pg-pool.ts';
import type { Change, Recommendation } from '../../src/app/recommendation-service.ts';
import { parseConfig } from '../../src/config.ts';
import { dedupKey, recommendationIdFor } from '../../src/domain/dedup.ts';
import type { PatternHistory } from '../../src/domain/recommendation-view.ts';
import { createLogger } from '../../src/log.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import {
  anomaly,
  buildHarness,
  coolingEvent,
  operator,
  T0,
  type Harness,
} from '../fixtures/recommendation-harness.ts';
import { openSse, type SseEvent, type SseStream } from '../fixtures/sse-client.ts';

const MIN = 60_000;
const TOKEN = 'viewer-token-for-sibling-tests-0123';

interface Stack {
  readonly h: Harness;
  readonly base: string;
  close(): Promise<void>;
}

/** The harness's service behind the real HTTP app (SSE included), listening on port 0. */
async function startStack(pool: Parameters<typeof buildHarness>[0]): Promise<Stack> {
  // Each suite's stack starts after everything the earlier ones created (they share the database).
  const h = await buildHarness(pool, {}, undefined, T0 + slot * 10 * MIN);
  const config = parseConfig({ auth: { tokens: [{ token: TOKEN, user: 'vera', roles: ['viewer'] }] } });
  const app = createHttpApp({
    recommendations: h.service,
    auth: config.auth,
    http: { ...config.http, sseHeartbeatMs: 200 },
    clock: h.clock,
    logger: createLogger({ level: 'silent' }),
    health: async () => ({ status: 'ok', dependencies: {} }),
    metrics: () => '',
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    h,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await h.service.idle();
    },
  };
}

let slot = 0;
/** A new REACTOR_01 cooling recommendation in its own dedup window. */
async function reactorRec(h: Harness): Promise<Recommendation> {
  const ts = T0 + (slot++ + 1) * 7 * MIN;
  // Each one created a minute after the last (the cap keeps the newest).
  h.clock.advance(MIN);
  assert.equal(await h.service.onScored(coolingEvent(h, ts)), 1);
  const found = await h.service.get(
    recommendationIdFor(dedupKey('REACTOR_01', 'cooling_degradation', ts, 5)),
  );
  assert.ok(found);
  return found.recommendation;
}

/** A new PUMP_02 recommendation (another pattern). */
async function pumpRec(h: Harness): Promise<Recommendation> {
  const ts = T0 + (slot++ + 1) * 7 * MIN;
  const before = new Set((await h.service.list({ limit: 1000, offset: 0 })).items.map((r) => r.id));
  await h.service.onScored([
    anomaly(h, { tagPath: '[default]Utilities/P02/Vibration', tsMs: ts, value: 9, z: 6 }),
    anomaly(h, { tagPath: '[default]Utilities/P02/BearingTemperature', tsMs: ts, value: 88, z: 4 }),
  ]);
  const fresh = (await h.service.list({ limit: 1000, offset: 0 })).items.filter((r) => !before.has(r.id));
  assert.equal(fresh.length, 1);
  return fresh[0] as Recommendation;
}

async function maxSeq(h: Harness): Promise<number> {
  const [last] = await h.store.changesSince(0, 1_000_000).then((all) => all.slice(-1));
  return last?.seq ?? 0;
}

const recOf = (e: SseEvent): Recommendation | undefined =>
  e.event === 'recommendation' ? (JSON.parse(e.data) as Change).recommendation : undefined;

/** Recommendation events with id > `afterSeq`, as [id, seq] in arrival order. */
function after(stream: SseStream, afterSeq: number): { id: string; seq: number; rec: Recommendation }[] {
  return stream.events
    .filter((e) => Number(e.id) > afterSeq && recOf(e) !== undefined)
    .map((e) => ({
      id: (recOf(e) as Recommendation).id,
      seq: Number(e.id),
      rec: recOf(e) as Recommendation,
    }));
}

async function resume(base: string, lastEventId: number): Promise<SseStream> {
  const s = await openSse(`${base}/api/stream`, {
    authorization: `Bearer ${TOKEN}`,
    'last-event-id': String(lastEventId),
  });
  await s.waitForComment((c) => c === 'ready');
  return s;
}

forEachDatabase((db) => {
  test('a decision pushes the new pattern history to the open siblings, live and on resume, once each', async () => {
    const s = await startStack(db.pool());
    const { h } = s;
    try {
      const e = await reactorRec(h);
      await h.service.decide(
        e.id,
        { decision: 'reject', note: 'sensor swap', expectedVersion: e.version },
        operator(),
      );
      const a = await reactorRec(h);
      const b = await reactorRec(h);
      const c0 = await reactorRec(h);
      const c = await h.service.decide(
        c0.id,
        {
          decision: 'defer',
          deferUntil: new Date(h.clock.now() + 60 * MIN).toISOString(),
          expectedVersion: c0.version,
        },
        operator(),
      );
      assert.equal(c.status, 'deferred');
      const pump = await pumpRec(h);
      const expectedBefore: PatternHistory = {
        approved: 0,
        rejected: 1,
        lastRejectionNote: 'sensor swap',
        lastDecidedAt: (await h.service.get(e.id))?.recommendation.decidedAt ?? null,
      };
      assert.deepEqual((await h.service.get(b.id))?.recommendation.patternHistory, expectedBefore);

      const live = await openSse(`${s.base}/api/stream`, { authorization: `Bearer ${TOKEN}` });
      await live.waitForComment((x) => x === 'ready');
      const beforeSeq = await maxSeq(h);
      h.clock.advance(MIN);
      const decided = await h.service.decide(
        a.id,
        { decision: 'reject', note: 'planned coolant flush', expectedVersion: a.version },
        operator(),
      );
      const expected: PatternHistory = {
        approved: 0,
        rejected: 2,
        lastRejectionNote: 'planned coolant flush',
        lastDecidedAt: decided.decidedAt,
      };
      // A marker change after the decision: everything the decision pushed arrived before it.
      const marker = await pumpRec(h);
      await live.next((x) => recOf(x)?.id === marker.id);
      const pushed = after(live, beforeSeq).filter((x) => x.id !== marker.id);
      live.close();
      assert.equal(pushed[0]?.id, a.id, 'the decision first');
      assert.deepEqual(
        new Set(pushed.slice(1).map((x) => x.id)),
        new Set([b.id, c.id]),
        'then each open sibling',
      );
      assert.equal(pushed.length, 3, 'each once; the decided E and the pump get nothing');
      assert.deepEqual(
        pushed.map((x) => x.seq),
        [...pushed.map((x) => x.seq)].sort((x, y) => x - y),
      );
      for (const x of pushed.slice(1)) {
        assert.deepEqual(x.rec.patternHistory, expected, `${x.id} carries the new history`);
        assert.equal(x.rec.version, x.id === b.id ? b.version : c.version, 'not a decision: same version');
        assert.equal(x.rec.status, x.id === b.id ? 'pending' : 'deferred');
        assert.deepEqual((await h.service.get(x.id))?.recommendation.patternHistory, expected, 'GET agrees');
      }
      assert.ok(!pushed.some((x) => x.id === e.id || x.id === pump.id));

      // Resume from before the decision: the same three, once each, in seq order.
      const r1 = await resume(s.base, beforeSeq);
      const replayed = after(r1, beforeSeq).filter((x) => x.id !== marker.id);
      r1.close();
      assert.deepEqual(
        replayed.map((x) => [x.id, x.seq]),
        pushed.map((x) => [x.id, x.seq]),
      );
      for (const x of replayed.slice(1)) assert.deepEqual(x.rec.patternHistory, expected);
      // Resume from the decision's own id: only the siblings, nothing twice.
      const aSeq = pushed[0]?.seq as number;
      const r2 = await resume(s.base, aSeq);
      const rest = after(r2, 0).filter((x) => x.id !== marker.id);
      r2.close();
      assert.deepEqual(
        rest.map((x) => x.id),
        pushed.slice(1).map((x) => x.id),
      );

      // A deferral does not change what the history counts: nothing for the others.
      const mark2 = await maxSeq(h);
      const bNow = (await h.service.get(b.id))?.recommendation as Recommendation;
      await h.service.decide(
        b.id,
        {
          decision: 'defer',
          deferUntil: new Date(h.clock.now() + 30 * MIN).toISOString(),
          expectedVersion: bNow.version,
        },
        operator(),
      );
      const afterDefer = await h.store.changesSince(mark2, 100);
      assert.deepEqual(
        afterDefer.map((x) => x.recommendation?.id),
        [b.id],
      );
    } finally {
      await s.close();
    }
  });

  test('two concurrent decisions of one pattern both commit; the last change of the open one counts both', async () => {
    const s = await startStack(db.pool());
    const { h } = s;
    try {
      const a = await reactorRec(h);
      const b = await reactorRec(h);
      const c = await reactorRec(h);
      const mark = await maxSeq(h);
      const rejectedBefore = c.patternHistory?.rejected ?? NaN;
      const [da, db2] = await Promise.all([
        h.service.decide(
          a.id,
          { decision: 'reject', note: 'first', expectedVersion: a.version },
          operator('olga'),
        ),
        h.service.decide(
          b.id,
          { decision: 'reject', note: 'second', expectedVersion: b.version },
          operator('otto'),
        ),
      ]);
      assert.equal(da.status, 'rejected');
      assert.equal(db2.status, 'rejected');
      const logged = await h.store.changesSince(mark, 100);
      const forC = logged.filter((x) => x.recommendation?.id === c.id);
      assert.ok(forC.length >= 1 && forC.length <= 2);
      assert.equal(
        forC.at(-1)?.recommendation?.patternHistory?.rejected,
        rejectedBefore + 2,
        'the newest change of C counts both',
      );
      // Serialised: the one decided first logged the other as a pending sibling BEFORE that one's
      // decision, never after it (a stale pending state must not be the last word), and the one
      // decided second logged no change for the first (already decided).
      for (const id of [a.id, b.id]) {
        const mine = logged.filter((x) => x.recommendation?.id === id);
        assert.equal(
          mine.at(-1)?.recommendation?.status,
          'rejected',
          `${id}: the decision is its last change`,
        );
        assert.ok(mine.length <= 2, `${id}: at most one sibling change before its decision`);
      }
    } finally {
      await s.close();
    }
  });

  test('the cap keeps the newest open siblings', async () => {
    const s = await startStack(db.pool());
    const { h } = s;
    try {
      const a = await reactorRec(h);
      const older = await reactorRec(h);
      const newer1 = await reactorRec(h);
      const newer2 = await reactorRec(h);
      const changes = await inTransaction(
        db.pool(),
        async (c) => (await appendDecisionChanges(c, a, true, 2)).siblings,
      );
      assert.deepEqual(new Set(changes.map((x) => x.recommendation?.id)), new Set([newer1.id, newer2.id]));
      assert.ok(!changes.some((x) => x.recommendation?.id === older.id));
    } finally {
      await s.close();
    }
  });
});

test('only a move into a counted status (approved, rejected) fans out', () => {
  const moves: [string, string, boolean][] = [
    ['pending', 'approved', true],
    ['pending', 'rejected', true],
    ['deferred', 'rejected', true],
    ['deferred', 'approved', true],
    // The first approval of a two-person change keeps it pending; a deferral is not counted.
    ['pending', 'pending', false],
    ['pending', 'deferred', false],
    // The write's outcome: approved, executed and failed all count as approved already.
    ['approved', 'executed', false],
    ['approved', 'failed', false],
    ['deferred', 'pending', false],
    ['pending', 'expired', false],
  ];
  for (const [from, to, fans] of moves)
    assert.equal(changesPatternHistory(from, to), fans, `${from} -> ${to}`);
});
