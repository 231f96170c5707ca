/**
 * The notifier against real Postgres and a real HTTP receiver: quiet hours, escalation,
 * acknowledgement, recommendations still pending. Delivery and retries: notifier.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Actor } from '../../src/app/recommendation-service.ts';
import { MIN, T0, alert, baseSettings, rec, useNotifierHarness } from '../fixtures/notifier-harness.ts';

const { setup } = useNotifierHarness('sc_notifier_esc');

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
