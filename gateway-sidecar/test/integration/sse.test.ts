/**
 * GET /api/stream on the real stack: a change reaches a connected client, a reconnect with
 * Last-Event-ID receives exactly what it missed (in order, nothing twice), a critical alert from
 * the bypass is pushed, heartbeats flow, and a malformed Last-Event-ID is a 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../../src/app/recommendation-service.ts';
import { CriticalDetector } from '../../src/domain/critical.ts';
import type { SensorReading } from '../../src/domain/tag-event.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';

describe('SSE stream', () => {
  let h: ApiHarness;
  const t0 = Date.now() - 3 * 60 * 60_000;
  before(async () => {
    h = await startApiHarness();
  });
  after(() => h.close());

  test('a new recommendation reaches a connected client with a durable id', async () => {
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    try {
      assert.equal(stream.status, 200);
      await stream.waitForComment((c) => c === 'ready');
      assert.equal(await h.raise(t0), 1);
      const ev = await stream.next((e) => e.event === 'recommendation');
      const change = JSON.parse(ev.data) as Change;
      assert.equal(change.type, 'recommendation');
      assert.equal(change.recommendation?.equipmentId, 'REACTOR_01');
      assert.equal(ev.id, String(change.seq));
      assert.ok(change.seq > 0);
    } finally {
      stream.close();
    }
  });

  test('reconnecting with Last-Event-ID delivers exactly the missed changes, in order', async () => {
    const first = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await first.waitForComment((c) => c === 'ready');
    await h.raise(t0 + 30 * 60_000, { equipment: 'PUMP_02' });
    const seen = await first.next((e) => e.event === 'recommendation');
    first.close();
    const lastId = Number(seen.id);

    // Changes while disconnected: a decision and a new recommendation.
    const rec = (JSON.parse(seen.data) as Change).recommendation;
    assert.ok(rec);
    const decided = await fetch(`${h.base}/api/recommendations/${encodeURIComponent(rec.id)}/decision`, {
      method: 'POST',
      headers: auth(TOKENS.operator, { 'content-type': 'application/json' }),
      body: JSON.stringify({ decision: 'reject', note: 'pump on test bench', expectedVersion: rec.version }),
    });
    assert.equal(decided.status, 200);
    await h.raise(t0 + 60 * 60_000);
    const missed = await h.recs.changesSince(lastId, 100);
    assert.ok(missed.length >= 2, `at least the decision and the new recommendation, got ${missed.length}`);

    const resumed = await openSse(
      `${h.base}/api/stream`,
      auth(TOKENS.viewer, { 'last-event-id': String(lastId) }),
    );
    try {
      const lastMissed = missed[missed.length - 1] as Change;
      await resumed.next((e) => e.id === String(lastMissed.seq));
      const ids = resumed.events.map((e) => Number(e.id));
      assert.deepEqual(
        ids,
        missed.map((c) => c.seq),
        'exactly the missed changes, oldest first',
      );
      assert.ok(
        ids.every((id) => id > lastId),
        'nothing at or before Last-Event-ID is repeated',
      );
      const rejected = resumed.events
        .map((e) => JSON.parse(e.data) as Change)
        .find((c) => c.recommendation?.id === rec.id);
      assert.equal(rejected?.recommendation?.status, 'rejected');

      // And it continues live after the backlog.
      await h.raise(t0 + 90 * 60_000, { equipment: 'PUMP_02' });
      const live = await resumed.next((e) => Number(e.id) > lastMissed.seq);
      assert.equal(live.event, 'recommendation');
    } finally {
      resumed.close();
    }
  });

  test('a critical alert from the bypass is pushed to connected clients', async () => {
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    try {
      await stream.waitForComment((c) => c === 'ready');
      const tag = h.index.sensorsByTag.get('[default]Reactors/R01/Temperature');
      assert.ok(tag);
      const now = Date.now();
      const reading: SensorReading = {
        kind: 'sensor',
        tag,
        value: 95,
        quality: 'good',
        sourceTimestampMs: now,
        receivedTimestampMs: now,
      };
      const bypass = h.recs.criticalBypass(new CriticalDetector());
      const alerts = bypass.evaluate(reading);
      assert.equal(alerts.length, 1);
      await bypass.raise(alerts);
      const ev = await stream.next((e) => e.event === 'critical_alert');
      const change = JSON.parse(ev.data) as Change;
      assert.equal(change.alert?.equipmentId, 'REACTOR_01');
      assert.equal(change.alert?.value, 95);
      const list = (await (
        await fetch(`${h.base}/api/critical-alerts`, { headers: auth(TOKENS.viewer) })
      ).json()) as { items: { value: number }[] };
      assert.equal(list.items[0]?.value, 95);
    } finally {
      stream.close();
    }
  });

  test('idle streams get heartbeat comments', async () => {
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    try {
      await stream.waitForComment((c) => c.startsWith('heartbeat'));
    } finally {
      stream.close();
    }
  });

  test('a malformed Last-Event-ID is 400 naming it; no token is 401', async () => {
    const bad = await fetch(`${h.base}/api/stream`, {
      headers: auth(TOKENS.viewer, { 'last-event-id': 'yesterday' }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { message: string }).message, /Last-Event-ID/);
    const anon = await fetch(`${h.base}/api/stream`);
    assert.equal(anon.status, 401);
  });
});
