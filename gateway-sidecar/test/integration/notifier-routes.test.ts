/** The notification routes over a real notifier and Postgres: list with delivery state, acknowledge with role checks. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { routesOnlyNotifier } from '../fixtures/notifier-harness.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgNotificationStore } from '../../src/adapters/pg-notification-store.ts';
import { createNotificationsRouter } from '../../src/adapters/http/notifications-routes.ts';
import { SidecarError } from '../../src/errors.ts';
import type { Actor } from '../../src/app/recommendation-service.ts';

const T0 = Date.parse('2026-07-01T12:00:00Z');
let db: TestDatabase;
let pool: pg.Pool;

before(async () => {
  db = await createTestDatabase('sc_notifier_routes');
  pool = testPool(db.url, 4);
  await runMigrations(pool);
});

after(async () => {
  await pool.end();
  await db.drop();
});

async function setup() {
  const store = new PgNotificationStore(pool);
  // One notification with a delivered and a failed page, as the notifier would have left them.
  await store.create(
    {
      id: 'n-1',
      kind: 'critical_alert',
      dedupKey: 'alert:R1:temperature:emergency',
      subjectId: 'alert-1',
      equipmentId: 'R1',
      area: 'Reactors',
      severity: 'critical',
      title: 'EMERGENCY temperature on R1',
      body: 'hot',
      details: {},
      routeIds: ['all'],
      channelIds: ['hook', 'mail'],
      createdAt: new Date(T0).toISOString(),
    },
    [
      { channelId: 'hook', action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: T0 },
      { channelId: 'mail', action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: T0 },
    ],
  );
  const [hook, mail] = (await store.get('n-1'))?.deliveries ?? [];
  await store.updateDelivery(hook?.deliveryId ?? 0, {
    state: 'sent',
    attempts: 1,
    lastError: null,
    nextAttemptAtMs: null,
    atMs: T0,
  });
  await store.updateDelivery(mail?.deliveryId ?? 0, {
    state: 'failed',
    attempts: 8,
    lastError: "email channel 'mail': ECONNECTION",
    nextAttemptAtMs: null,
    atMs: T0,
  });
  const notifier = routesOnlyNotifier(store, () => T0 + 60_000);
  return { notifier, a: { id: 'alert-1' } };
}

test('routes: list shows delivery state; acknowledge needs operator; bad input and unknown ids are refused with codes', async () => {
  const { notifier, a } = await setup();
  const app = express();
  app.use(express.json());
  const actors: Record<string, Actor> = {
    viewer: { user: 'vic', roles: ['viewer'], via: 'token' },
    operator: { user: 'olga', roles: ['operator'], via: 'token' },
  };
  app.use(
    '/api',
    createNotificationsRouter({
      notifier,
      actorOf: (req) =>
        actors[req.get('x-test-actor') ?? 'viewer'] ?? { user: 'nobody', roles: [], via: 'token' },
    }),
  );
  // The app's own error middleware does the same mapping; a minimal one keeps this test self-contained.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (err instanceof SidecarError)
      res.status(err.status ?? 500).json({ code: err.code, message: err.message });
    else res.status(500).json({ code: 'SC_ERR_INTERNAL', message: String(err) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  try {
    const list = (await (await fetch(`${base}/notifications?subjectId=${a.id}`)).json()) as {
      total: number;
      items: { id: string; deliveries: { state: string; attempts: number; lastError: string | null }[] }[];
    };
    assert.equal(list.total, 1);
    assert.deepEqual(
      list.items[0]?.deliveries.map((d) => [d.state, d.attempts, d.lastError]),
      [
        ['sent', 1, null],
        ['failed', 8, "email channel 'mail': ECONNECTION"],
      ],
    );
    const failed = (await (
      await fetch(`${base}/notifications?deliveryState=failed&acknowledged=false`)
    ).json()) as { total: number };
    assert.equal(failed.total, 1);
    const id = list.items[0]?.id ?? '';
    assert.equal((await fetch(`${base}/notifications/${id}`)).status, 200);
    const bad = await fetch(`${base}/notifications?deliveryState=lost`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { code: string }).code, 'SC_ERR_API_VALIDATION');
    const forbidden = await fetch(`${base}/notifications/${id}/acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(forbidden.status, 403);
    const ok = await fetch(`${base}/notifications/${id}/acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-actor': 'operator' },
      body: JSON.stringify({ note: 'seen' }),
    });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { acknowledgedBy: string }).acknowledgedBy, 'olga');
    const missing = await fetch(`${base}/notifications/nope/acknowledge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-actor': 'operator' },
      body: '{}',
    });
    assert.equal(missing.status, 404);
    assert.equal((await fetch(`${base}/notifications/nope`)).status, 404);
  } finally {
    server.close();
  }
});
