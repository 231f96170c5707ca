/**
 * The notifier against real Postgres and a real HTTP receiver: delivery, dedup, channel down with
 * backoff, quiet hours, escalation, acknowledgement, pending recommendations, the routes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../fixtures/pg.ts';
import { Receiver } from '../fixtures/http-receiver.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgNotificationStore } from '../../src/adapters/pg-notification-store.ts';
import { createWebhookChannel } from '../../src/adapters/notify-webhook.ts';
import { Notifier, type CriticalAlertInput, type NotifierSettings } from '../../src/app/notifier.ts';
import type { Actor, Recommendation } from '../../src/app/recommendation-service.ts';

let db: TestDatabase;
let pool: pg.Pool;
const rx = new Receiver();
const MIN = 60_000;
const T0 = Date.parse('2026-07-01T12:00:00Z');

before(async () => {
  db = await createTestDatabase('sc_notifier');
  pool = new pg.Pool({ connectionString: db.url, max: 5 });
  await runMigrations(pool);
  await rx.start();
});

after(async () => {
  await rx.stop();
  await pool.end();
  await db.drop();
});

const baseSettings = (over: Partial<NotifierSettings> = {}): NotifierSettings => ({
  routes: [
    {
      id: 'all',
      areas: ['*'],
      minSeverity: 'high',
      kinds: ['critical_alert', 'recommendation_pending'],
      channels: ['hook', 'pd'],
      timeZone: 'UTC',
    },
  ],
  escalation: { levels: [] },
  dedupWindowMinutes: 15,
  pendingAfterMinutes: 10,
  pendingMinSeverity: 'high',
  retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, factor: 2 },
  queueMax: 100,
  ...over,
});

let seq = 0;
/** Each test starts from empty tables: one notifier per database, as in production. */
async function setup(settings: NotifierSettings, extraChannels: string[] = [], timeoutMs = 5000) {
  await pool.query('TRUNCATE agentic_hmi.notification_deliveries, agentic_hmi.notifications');
  const clock = {
    t: T0,
    now(): number {
      return this.t;
    },
  };
  const tag = `n${++seq}`;
  const channels = [
    createWebhookChannel({
      id: 'hook',
      type: 'webhook',
      url: `${rx.url}/${tag}/hook`,
      timeoutMs,
      source: 'test',
    }),
    createWebhookChannel({
      id: 'pd',
      type: 'pagerduty',
      url: `${rx.url}/${tag}/pd`,
      routingKey: 'R0UTINGKEY',
      timeoutMs,
      source: 'test',
    }),
    ...extraChannels.map((id) =>
      createWebhookChannel({
        id,
        type: 'slack',
        url: `${rx.url}/${tag}/${id}`,
        timeoutMs,
        source: 'test',
      }),
    ),
  ];
  const errors: unknown[] = [];
  const notifier = new Notifier({
    store: new PgNotificationStore(pool),
    channels,
    settings,
    clock,
    areaOf: (eq) => (eq.startsWith('CR') ? 'Crushing' : 'Reactors'),
    onError: (err) => errors.push(err),
    random: () => 0.999999,
  });
  const got = (suffix: string) => rx.received.filter((r) => r.path === `/${tag}/${suffix}`);
  return { notifier, clock, got, errors, tag };
}

const alert = (over: Partial<CriticalAlertInput> = {}): CriticalAlertInput => ({
  id: `alert-${++seq}`,
  equipmentId: `REACTOR_${seq}`,
  sensorType: 'temperature',
  tagPath: '[default]R01/Temp',
  value: 93,
  threshold: 90,
  level: 'emergency',
  message: 'Temperature 93 °C above emergency 90 °C',
  at: new Date(T0).toISOString(),
  ...over,
});

test('a critical alert is delivered as generic JSON and PagerDuty v2; repeats inside the window are counted, not sent', async () => {
  const { notifier, got, clock } = await setup(baseSettings());
  const a = alert();
  assert.equal(notifier.onCriticalAlert(a), true);
  await notifier.idle();
  assert.equal(got('hook').length, 1);
  const pd = got('pd')[0]?.body as {
    routing_key: string;
    event_action: string;
    dedup_key: string;
    payload: Record<string, unknown>;
  };
  assert.equal(pd.routing_key, 'R0UTINGKEY');
  assert.equal(pd.event_action, 'trigger');
  assert.equal(pd.dedup_key, `alert:${a.equipmentId}:temperature:emergency`);
  assert.equal(pd.payload.severity, 'critical');
  assert.equal(pd.payload.component, a.equipmentId);
  assert.equal(pd.payload.group, 'Reactors');
  assert.equal(pd.payload.class, 'critical_alert');
  assert.equal(pd.payload.source, 'test');
  assert.equal((pd.payload.custom_details as Record<string, unknown>).value, 93);
  assert.equal(got('hook')[0]?.body.schema, 'ignition-ai.notification/v1');

  clock.t += 5 * MIN;
  notifier.onCriticalAlert({ ...a, id: 'alert-repeat', value: 95 });
  await notifier.idle();
  assert.equal(got('hook').length, 1, 'the repeat was not sent again');
  const { items } = await notifier.list({ subjectId: a.id, limit: 10, offset: 0 });
  assert.equal(items.length, 1);
  assert.equal(items[0]?.repeatCount, 1);
  assert.deepEqual(
    items[0]?.deliveries.map((d) => [d.channelId, d.state, d.attempts]),
    [
      ['hook', 'sent', 1],
      ['pd', 'sent', 1],
    ],
  );
  assert.equal(notifier.stats().duplicates, 1);

  clock.t += 15 * MIN;
  notifier.onCriticalAlert({ ...a, id: 'alert-after-window' });
  await notifier.idle();
  assert.equal(got('hook').length, 2, 'after the window it pages again');
});

test('a channel that is down retries with exponential backoff, records state and last error, and fails after maxAttempts', async () => {
  const { notifier, got, clock } = await setup(
    baseSettings({
      routes: [
        {
          id: 'r',
          areas: ['*'],
          minSeverity: 'high',
          kinds: ['critical_alert'],
          channels: ['hook'],
          timeZone: 'UTC',
        },
      ],
    }),
  );
  rx.mode = 'down';
  try {
    const a = alert();
    notifier.onCriticalAlert(a);
    await notifier.idle();
    let [n] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
    let d = n?.deliveries[0];
    assert.equal(d?.state, 'retrying');
    assert.equal(d?.attempts, 1);
    assert.match(d?.lastError ?? '', /webhook channel 'hook': HTTP 503 maintenance/);
    assert.equal(d?.nextAttemptAt, new Date(T0 + 1000).toISOString(), 'first retry after baseDelayMs');

    await notifier.tick(T0 + 500);
    [n] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
    assert.equal(n?.deliveries[0]?.attempts, 1, 'not retried before its time');

    clock.t = T0 + 1000;
    await notifier.tick(clock.t);
    [n] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
    d = n?.deliveries[0];
    assert.equal(d?.attempts, 2);
    assert.equal(
      d?.nextAttemptAt,
      new Date(T0 + 1000 + 2000).toISOString(),
      'second retry waits twice as long',
    );

    clock.t = T0 + 3000;
    await notifier.tick(clock.t);
    [n] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
    assert.equal(n?.deliveries[0]?.state, 'failed');
    assert.equal(n?.deliveries[0]?.attempts, 3);
    assert.equal(got('hook').length, 0);
    const failed = await notifier.list({ deliveryState: 'failed', limit: 50, offset: 0 });
    assert.ok(failed.items.some((x) => x.id === n?.id));
  } finally {
    rx.mode = 'ok';
  }
});

test('a hanging channel never blocks the caller; it times out into retrying and recovers when the receiver is back', async () => {
  const { notifier, got, clock } = await setup(
    baseSettings({
      routes: [
        {
          id: 'r',
          areas: ['*'],
          minSeverity: 'high',
          kinds: ['critical_alert'],
          channels: ['hook'],
          timeZone: 'UTC',
        },
      ],
    }),
    [],
    1000,
  );
  rx.mode = 'hang';
  const a = alert();
  // The call returns synchronously: the pipeline hands the alert over and moves on.
  const accepted = notifier.onCriticalAlert(a);
  assert.equal(accepted, true);
  assert.equal(notifier.stats().queued, 1, 'still queued when the call returned: nothing was awaited');
  await notifier.idle();
  rx.mode = 'ok';
  const [n] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
  assert.equal(n?.deliveries[0]?.state, 'retrying');
  assert.match(n?.deliveries[0]?.lastError ?? '', /timed out after 1000 ms/);
  clock.t = T0 + 1000;
  await notifier.tick(clock.t);
  const [n2] = (await notifier.list({ subjectId: a.id, limit: 1, offset: 0 })).items;
  assert.equal(n2?.deliveries[0]?.state, 'sent');
  assert.equal(n2?.deliveries[0]?.attempts, 2);
  assert.equal(n2?.deliveries[0]?.lastError, null);
  assert.equal(got('hook').length, 1);
});

test('the queue is bounded: overflow is dropped and counted, never awaited', async () => {
  const { notifier } = await setup(baseSettings({ queueMax: 2 }));
  const results = [1, 2, 3, 4, 5].map(() => notifier.onCriticalAlert(alert()));
  assert.deepEqual(results, [true, true, false, false, false]);
  assert.equal(notifier.stats().dropped, 3);
  await notifier.idle();
});

test('quiet hours: suppress records and never sends; delay sends when the period ends; critical can bypass', async () => {
  const quiet = { start: '11:00', end: '13:00', days: [], mode: 'suppress' as const };
  const { notifier, got, clock } = await setup(
    baseSettings({
      routes: [
        {
          id: 'mute',
          areas: ['Reactors'],
          minSeverity: 'high',
          kinds: ['critical_alert', 'recommendation_pending'],
          channels: ['hook'],
          timeZone: '+01:00',
          quietHours: { ...quiet, start: '12:00', end: '14:00' },
        },
        {
          id: 'later',
          areas: ['Crushing'],
          minSeverity: 'high',
          kinds: ['critical_alert', 'recommendation_pending'],
          channels: ['chat'],
          timeZone: 'Europe/London',
          quietHours: { ...quiet, mode: 'delay' },
        },
      ],
    }),
    ['chat'],
  );
  // 12:00 UTC = 13:00 at +01:00 (inside 12-14) and 13:00 in London (BST; 11-13 has just ended? no: 13:00 is the exclusive end).
  clock.t = T0 - 30 * MIN; // 11:30 UTC = 12:30 London (inside), 12:30 at +01:00 (inside)
  const muted = alert();
  const delayed = alert({ equipmentId: 'CRUSHER_1' });
  notifier.onCriticalAlert(muted);
  notifier.onCriticalAlert(delayed);
  await notifier.idle();
  const [m] = (await notifier.list({ subjectId: muted.id, limit: 1, offset: 0 })).items;
  assert.deepEqual(
    m?.deliveries.map((d) => d.state),
    ['suppressed'],
  );
  const [dl] = (await notifier.list({ subjectId: delayed.id, limit: 1, offset: 0 })).items;
  assert.equal(dl?.deliveries[0]?.state, 'queued');
  assert.equal(dl?.deliveries[0]?.nextAttemptAt, '2026-07-01T12:00:00.000Z', '13:00 London is 12:00 UTC');
  await notifier.tick(T0 - MIN);
  assert.equal(got('chat').length, 0);
  clock.t = T0;
  await notifier.tick(T0);
  assert.equal(got('chat').length, 1);
  assert.equal(got('hook').length, 0, 'suppressed never sends');
  assert.equal(typeof got('chat')[0]?.body.text, 'string');
  assert.ok(Array.isArray(got('chat')[0]?.body.blocks));
});

test('escalation re-notifies, then moves up a level, unless acknowledged; ack tells PagerDuty and stops it', async () => {
  const { notifier, got, clock } = await setup(
    baseSettings({
      escalation: {
        levels: [
          { afterMinutes: 10, channels: [] },
          { afterMinutes: 10, channels: ['lead'] },
        ],
      },
    }),
    ['lead'],
  );
  const a = alert();
  const b = alert();
  notifier.onCriticalAlert(a);
  notifier.onCriticalAlert(b);
  await notifier.idle();
  assert.equal(got('hook').length, 2);
  const idOf = async (subject: string) =>
    (await notifier.list({ subjectId: subject, limit: 1, offset: 0 })).items[0]?.id ?? '';
  const operator: Actor = { user: 'olga', roles: ['operator'], via: 'token' };
  clock.t = T0 + 5 * MIN;
  await notifier.acknowledge(await idOf(b.id), operator, 'on my way');
  const pdAcks = got('pd').filter((r) => r.body.event_action === 'acknowledge');
  assert.equal(pdAcks.length, 1);
  assert.equal(pdAcks[0]?.body.dedup_key, `alert:${b.equipmentId}:temperature:emergency`);

  await notifier.tick(T0 + 9 * MIN);
  assert.equal(got('hook').length, 2, 'nothing before afterMinutes');
  clock.t = T0 + 10 * MIN;
  await notifier.tick(clock.t);
  assert.equal(
    got('hook').length,
    3,
    'level 1 re-notifies the original channels of the unacknowledged one only',
  );
  assert.equal(got('pd').filter((r) => r.body.event_action === 'trigger').length, 3);
  clock.t = T0 + 20 * MIN;
  await notifier.tick(clock.t);
  assert.equal(got('lead').length, 1, 'level 2 reaches the lead');
  assert.match(String(got('lead')[0]?.body.text), /^ESCALATION 2:/);
  clock.t = T0 + 25 * MIN;
  const acked = await notifier.acknowledge(await idOf(a.id), operator);
  assert.equal(acked.acknowledgedBy, 'olga');
  assert.equal(acked.escalationLevel, 2);
  clock.t = T0 + 120 * MIN;
  await notifier.tick(clock.t);
  assert.equal(got('lead').length, 1);
  assert.equal(got('hook').length, 3);
  const again = await notifier.acknowledge(await idOf(a.id), { user: 'someone-else' });
  assert.equal(again.acknowledgedBy, 'olga', 'the first acknowledgement stays');
  await assert.rejects(notifier.acknowledge('no-such-id', operator), { code: 'SC_ERR_API_NOT_FOUND' });
});

const rec = (over: Partial<Recommendation> = {}): Recommendation => ({
  id: `rec-${++seq}`,
  equipmentId: 'REACTOR_01',
  area: 'Reactors',
  issueType: 'overheating',
  severity: 'high',
  anomalyScore: 0.9,
  confidence: 0.8,
  text: 'Reduce throughput to 75 %',
  explanation: [],
  proposedAction: null,
  status: 'pending',
  createdAt: new Date(T0).toISOString(),
  anomalyAt: new Date(T0).toISOString(),
  lastSeenAt: new Date(T0).toISOString(),
  occurrenceCount: 1,
  maxAnomalyScore: 0.9,
  decidedBy: null,
  decidedAt: null,
  deferredUntil: null,
  operatorNotes: null,
  writeResult: null,
  version: 1,
  ...over,
});

test('a recommendation still pending after N minutes is notified; deciding it acknowledges and stops escalation', async () => {
  const { notifier, got, clock } = await setup(
    baseSettings({ escalation: { levels: [{ afterMinutes: 5, channels: [] }] } }),
  );
  const r = rec();
  const low = rec({ severity: 'low' });
  const decidedEarly = rec();
  notifier.onRecommendation(r);
  notifier.onRecommendation(low);
  notifier.onRecommendation(decidedEarly);
  notifier.onRecommendation({ ...decidedEarly, status: 'approved', decidedBy: 'olga' });
  await notifier.tick(T0 + 9 * MIN);
  assert.equal(got('hook').length, 0);
  clock.t = T0 + 10 * MIN;
  await notifier.tick(clock.t);
  await notifier.idle();
  assert.equal(got('hook').length, 1, 'only the high-severity one still pending');
  assert.equal(got('hook')[0]?.body.kind, 'recommendation_pending');
  notifier.onRecommendation({ ...r, status: 'approved', decidedBy: 'olga' });
  for (
    let i = 0;
    i < 50 && (await notifier.list({ subjectId: r.id, acknowledged: true, limit: 1, offset: 0 })).total === 0;
    i++
  ) {
    await new Promise((res) => setTimeout(res, 20));
  }
  const [n] = (await notifier.list({ subjectId: r.id, limit: 1, offset: 0 })).items;
  assert.equal(n?.acknowledgedBy, 'decision:olga');
  clock.t = T0 + 60 * MIN;
  await notifier.tick(clock.t);
  assert.equal(got('hook').length, 1, 'no escalation after the decision');
});
