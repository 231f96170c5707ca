/**
 * GET /api/stream on the real stack: a change reaches a connected client, a reconnect with
 * Last-Event-ID receives exactly what it missed (in order, nothing twice), a critical alert from
 * the bypass is pushed, heartbeats flow, and a malformed Last-Event-ID is a 400. The push-first
 * bypass (src/app/critical-push.ts): pushed before its durable write, under the same seq, and
 * exactly once across a failed write, its retry, Last-Event-ID resumes and a restart. A client that
 * stops reading (a real socket) is dropped and counted while another keeps receiving everything.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pg from 'pg';
import { SidecarMetrics } from '../../src/adapters/prom-metrics.ts';
import type { Change } from '../../src/app/recommendation-service.ts';
import type { PushFirstBypass } from '../../src/app/critical-push.ts';
import { CriticalDetector } from '../../src/domain/critical.ts';
import type { SensorReading } from '../../src/domain/tag-event.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse, type SseStream } from '../fixtures/sse-client.ts';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy.ts';
import { testPool } from '../fixtures/pg.ts';

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

describe('push-first critical alerts', () => {
  let proxy: TcpProxy;
  let h: ApiHarness;
  let direct: pg.Pool;
  const bypasses: PushFirstBypass[] = [];
  const newBypass = (): PushFirstBypass => {
    const b = h.recs.criticalBypass(new CriticalDetector());
    bypasses.push(b);
    return b;
  };
  before(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    let dbUrl = '';
    h = await startApiHarness({
      poolUrl: (u) => {
        dbUrl = u;
        const url = new URL(u);
        url.port = String(proxy.port);
        return url.toString();
      },
    });
    direct = testPool(dbUrl, 2);
    direct.on('error', () => undefined);
  });
  after(async () => {
    // Earlier bypasses still observe (and refill after) later changes: let every refill finish.
    await Promise.all(bypasses.map((b) => b.push.settled().catch(() => undefined)));
    await direct.end();
    await h.close();
    await proxy.close();
  });

  const emergency = (value: number, ts: number): SensorReading => {
    const tag = h.index.sensorsByTag.get('[default]Reactors/R01/Temperature');
    assert.ok(tag);
    return { kind: 'sensor', tag, value, quality: 'good', sourceTimestampMs: ts, receivedTimestampMs: ts };
  };
  const criticalEvents = (s: SseStream) => s.events.filter((e) => e.event === 'critical_alert');

  test('pushed before the durable write, with the seq the durable row gets; a failed write is retried without a second push; resumes never repeat it', async () => {
    const bypass = newBypass();
    await bypass.push.start();
    const t = Date.now();
    // A durable change first, so a resuming client has a Last-Event-ID before the alert.
    const early = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await early.waitForComment((c) => c === 'ready');
    const late = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await late.waitForComment((c) => c === 'ready');
    await h.raise(t - 60_000);
    const before = await late.next((e) => e.event === 'recommendation');
    late.close();
    await bypass.push.settled(); // that change burnt the reservations; the refill has landed

    const alerts = bypass.evaluate(emergency(95, t));
    assert.equal(alerts.length, 1);
    const alertId = alerts[0]?.id as string;
    const hub: Change[] = [];
    const off = h.recs.subscribe((c) => hub.push(c));
    proxy.cut(); // Postgres away: the durable write cannot happen
    const raising = bypass.raise(alerts);
    // Published synchronously, before any await: from memory, not from the database.
    assert.equal(hub.length, 1);
    off();
    await assert.rejects(raising);
    const pushed = await early.next((e) => e.event === 'critical_alert');
    const pushedSeq = Number(pushed.id);
    assert.equal((JSON.parse(pushed.data) as Change).seq, pushedSeq);
    assert.equal((JSON.parse(pushed.data) as Change).alert?.id, alertId);
    const none = await direct.query('SELECT 1 FROM mining_operations.critical_alerts WHERE alert_id = $1', [
      alertId,
    ]);
    assert.equal(none.rowCount, 0, 'pushed while the durable write has not happened');
    proxy.restore();

    // A client that missed the push resumes before the durable write landed: it gets the alert
    // from memory, under the same seq.
    const resumedEarly = await openSse(
      `${h.base}/api/stream`,
      auth(TOKENS.viewer, { 'last-event-id': String(before.id) }),
    );
    const fromMemory = await resumedEarly.next((e) => e.event === 'critical_alert');
    assert.equal(Number(fromMemory.id), pushedSeq);

    // The pipeline's retry writes it, with the pushed seq, and pushes nothing again.
    await bypass.raise(alerts);
    await bypass.raise(alerts); // a further repeat (the pipeline retries a batch's alerts together)
    const rows = await direct.query<{ seq: string }>(
      `SELECT seq FROM agentic_hmi.recommendation_changes WHERE change_type = 'critical_alert' AND subject_id = $1`,
      [alertId],
    );
    assert.deepEqual(
      rows.rows.map((r) => Number(r.seq)),
      [pushedSeq],
      'one durable row, same id as the push',
    );
    const stored = await direct.query('SELECT 1 FROM mining_operations.critical_alerts WHERE alert_id = $1', [
      alertId,
    ]);
    assert.equal(stored.rowCount, 1);
    assert.deepEqual(bypass.push.stats(), {
      early: 1,
      afterWrite: 0,
      misses: 0,
      burnt: bypass.push.stats().burnt,
    });

    // Resume after the durable write: from before the alert, it comes once; from the alert's own
    // id (a client that got the early push), it never comes again.
    const resumedBefore = await openSse(
      `${h.base}/api/stream`,
      auth(TOKENS.viewer, { 'last-event-id': String(before.id) }),
    );
    const resumedAfter = await openSse(
      `${h.base}/api/stream`,
      auth(TOKENS.viewer, { 'last-event-id': String(pushedSeq) }),
    );
    await resumedBefore.waitForComment((c) => c === 'ready');
    await resumedAfter.waitForComment((c) => c === 'ready');
    // A later change marks "everything before it has arrived" on every stream.
    await h.raise(t + 60_000, { equipment: 'PUMP_02' });
    for (const s of [early, resumedEarly, resumedBefore, resumedAfter])
      await s.next((e) => e.event === 'recommendation' && Number(e.id) > pushedSeq);
    assert.equal(criticalEvents(early).length, 1, 'the connected client got it once');
    assert.equal(criticalEvents(resumedEarly).length, 1, 'resumed from memory: once');
    assert.deepEqual(
      criticalEvents(resumedBefore).map((e) => Number(e.id)),
      [pushedSeq],
      'resumed from the log: once, same id',
    );
    assert.equal(criticalEvents(resumedAfter).length, 0, 'resumed after the push: never again');
    for (const s of [early, resumedEarly, resumedBefore, resumedAfter]) s.close();

    // A restart (a new bypass on the same database) replaying the same crossing pushes nothing.
    const restarted = newBypass();
    await restarted.push.settled();
    const watcher = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await watcher.waitForComment((c) => c === 'ready');
    const replayed = restarted.evaluate(emergency(95, t));
    assert.deepEqual(
      replayed.map((a) => a.id),
      [alertId],
    );
    await restarted.raise(replayed);
    await h.raise(t + 120_000, { equipment: 'PUMP_02' });
    await watcher.next((e) => e.event === 'recommendation');
    assert.equal(criticalEvents(watcher).length, 0, 'no duplicate push after a restart');
    assert.equal(restarted.push.stats().early + restarted.push.stats().afterWrite, 0);
    watcher.close();
    // The last changes burnt both reserves; let the refills finish before the database goes away.
    await bypass.push.settled();
    await restarted.push.settled();
  });

  test('pushes stay in seq order: a reservation overtaken by a newer change is burnt, not used', async () => {
    const bypass = newBypass();
    await bypass.push.start();
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await stream.waitForComment((c) => c === 'ready');
    // Changes committed after the reservation have larger seqs than it.
    const t = Date.now() + 10 * 60_000;
    await h.raise(t);
    await h.raise(t + 60_000, { equipment: 'PUMP_02' });
    await stream.next(
      (e) =>
        e.event === 'recommendation' && stream.events.filter((x) => x.event === 'recommendation').length >= 2,
    );
    // No wait for the refill: whether the alert finds a fresh reservation or waits for one, it is
    // pushed before its write and after every change already published.
    const alerts = bypass.evaluate(emergency(96, t + 1000));
    await bypass.raise(alerts);
    assert.equal(bypass.push.stats().early, 1);
    assert.equal(bypass.push.stats().afterWrite, 0);
    const ev = await stream.next((e) => e.event === 'critical_alert');
    const ids = stream.events.map((e) => Number(e.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'ids increase in push order',
    );
    assert.ok(Number(ev.id) > Math.max(...ids.slice(0, -1)));
    assert.ok(bypass.push.stats().burnt > 0, 'the overtaken reservations were burnt');
    stream.close();
    await bypass.push.settled();
  });
});

describe('slow SSE client', () => {
  const MAX_QUEUE = 20;
  const observed = new SidecarMetrics();
  let h: ApiHarness;
  before(async () => {
    h = await startApiHarness({
      overrides: {
        sseObserver: observed,
        http: {
          bodyLimitBytes: 16_384,
          rateLimitPerMinute: 100_000,
          corsOrigins: [],
          frameAncestors: [],
          sseHeartbeatMs: 60_000,
          sseMaxQueue: MAX_QUEUE,
        },
      },
    });
  });
  after(() => h.close());

  test('a socket that stops reading is dropped and counted; another client receives every change', async () => {
    const port = Number(new URL(h.base).port);
    const slow = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      slow.once('connect', () => resolve());
      slow.once('error', reject);
    });
    let closed = false;
    slow.on('close', () => (closed = true));
    slow.on('error', () => undefined); // the server destroys it: ECONNRESET is expected
    slow.write(
      `GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.viewer}\r\nAccept: text/event-stream\r\n\r\n`,
    );
    // Read until the stream is ready, then stop reading for good.
    await new Promise<void>((resolve) => {
      let head = '';
      const onData = (b: Buffer): void => {
        head += b.toString('latin1');
        if (head.includes(': ready')) {
          slow.off('data', onData);
          slow.pause();
          resolve();
        }
      };
      slow.on('data', onData);
    });
    assert.equal(observed.sseClients.get(), 1);
    const good = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await good.waitForComment((c) => c === 'ready');
    assert.equal(observed.sseClients.get(), 2);

    // Large changes through the real hub until the slow socket's buffers are full and its queue
    // passes MAX_QUEUE (real recommendations via Postgres would take thousands to fill them).
    const padding = 'x'.repeat(64 * 1024);
    const sent: number[] = [];
    for (let i = 1; observed.sseDropped.get({ reason: 'slow_client' }) === 0; i++) {
      assert.ok(i < 5_000, 'the slow client was never dropped');
      const seq = 1_000_000 + i;
      h.recs.announce({
        seq,
        type: 'critical_alert',
        alert: {
          id: `crit-slow-${i}`,
          equipmentId: 'REACTOR_01',
          sensorType: 'temperature',
          tagPath: '[default]Reactors/R01/Temperature',
          value: 95,
          threshold: 90,
          level: 'emergency',
          message: padding,
          at: new Date().toISOString(),
        },
      });
      sent.push(seq);
      // Let the sockets move (the good client reads; the slow one does not).
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(observed.sseDropped.get({ reason: 'slow_client' }), 1);
    // The good client still gets everything, in order, and stays connected.
    const last = sent[sent.length - 1] as number;
    await good.next((e) => Number(e.id) === last, 30_000);
    assert.deepEqual(
      good.events.map((e) => Number(e.id)),
      sent,
    );
    h.recs.announce({ ...JSON.parse(good.events[0]?.data ?? '{}'), seq: last + 1 } as Change);
    await good.next((e) => Number(e.id) === last + 1);
    // The slow connection is gone server-side (gauge) and closed for the client.
    const deadline = Date.now() + 10_000;
    while ((observed.sseClients.get() !== 1 || !closed) && Date.now() < deadline) {
      slow.resume(); // drain what the kernel still holds so the close becomes visible
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(observed.sseClients.get(), 1, 'only the good client is counted as connected');
    assert.ok(closed, 'the slow socket was closed by the server');
    good.close();
  });
});
