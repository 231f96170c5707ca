/**
 * The notifier against real Postgres and a real HTTP receiver: delivery as generic JSON and
 * PagerDuty v2, dedup, a channel down with backoff, a hanging channel, the bounded queue.
 * Quiet hours, escalation and pending recommendations: notifier-escalation.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN, T0, alert, baseSettings, useNotifierHarness } from '../fixtures/notifier-harness.ts';

const { rx, setup } = useNotifierHarness('sc_notifier');

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
