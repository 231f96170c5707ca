import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backoffDelayMs,
  isDuplicate,
  isValidClockTime,
  isValidTimeZone,
  localTime,
  nextEscalation,
  quietMinutesRemaining,
  routeNotification,
  uniqueChannels,
  type RouteRule,
} from './notification-routing.ts';

const at = (iso: string): number => Date.parse(iso);

const route = (over: Partial<RouteRule> = {}): RouteRule => ({
  id: 'r1',
  areas: ['*'],
  minSeverity: 'high',
  kinds: ['critical_alert', 'recommendation_pending'],
  channels: ['ops'],
  timeZone: 'UTC',
  ...over,
});

test('localTime handles fixed offsets and IANA zones (DST aware)', () => {
  // 2026-07-01 is a Wednesday; Berlin is UTC+2 in summer, UTC+1 in winter.
  assert.deepEqual(localTime(at('2026-07-01T21:30:00Z'), '+02:00'), {
    weekday: 3,
    minuteOfDay: 23 * 60 + 30,
  });
  assert.deepEqual(localTime(at('2026-07-01T23:30:00Z'), 'Europe/Berlin'), { weekday: 4, minuteOfDay: 90 });
  assert.deepEqual(localTime(at('2026-01-07T23:30:00Z'), 'Europe/Berlin'), { weekday: 4, minuteOfDay: 30 });
  assert.deepEqual(localTime(at('2026-07-01T02:00:00Z'), '-05:30'), {
    weekday: 2,
    minuteOfDay: 20 * 60 + 30,
  });
  assert.deepEqual(localTime(at('2026-07-01T00:00:00Z'), 'UTC'), { weekday: 3, minuteOfDay: 0 });
});

test('zone and clock validation', () => {
  assert.equal(isValidTimeZone('Australia/Perth'), true);
  assert.equal(isValidTimeZone('+09:30'), true);
  assert.equal(isValidTimeZone('Mars/Olympus'), false);
  assert.equal(isValidClockTime('06:00'), true);
  assert.equal(isValidClockTime('24:00'), false);
  assert.equal(isValidClockTime('6:00'), false);
});

test('quiet hours across midnight belong to the day they start on', () => {
  const quiet = { start: '22:00', end: '06:00', mode: 'suppress' as const, days: [5] }; // Friday nights
  // Friday 23:00 UTC -> inside, 7 h left.
  assert.equal(quietMinutesRemaining(at('2026-07-03T23:00:00Z'), quiet, 'UTC'), 7 * 60);
  // Saturday 05:00 -> still Friday's period, 1 h left.
  assert.equal(quietMinutesRemaining(at('2026-07-04T05:00:00Z'), quiet, 'UTC'), 60);
  // Saturday 23:00 -> Saturday is not listed.
  assert.equal(quietMinutesRemaining(at('2026-07-04T23:00:00Z'), quiet, 'UTC'), 0);
  // Thursday 05:00 -> the period would have started Wednesday: not listed.
  assert.equal(quietMinutesRemaining(at('2026-07-02T05:00:00Z'), quiet, 'UTC'), 0);
  // Same-day period and the zero-length period.
  assert.equal(
    quietMinutesRemaining(at('2026-07-02T12:30:00Z'), { start: '12:00', end: '13:00', mode: 'delay' }, 'UTC'),
    30,
  );
  assert.equal(
    quietMinutesRemaining(at('2026-07-02T13:00:00Z'), { start: '12:00', end: '13:00', mode: 'delay' }, 'UTC'),
    0,
  );
  assert.equal(
    quietMinutesRemaining(at('2026-07-02T12:30:00Z'), { start: '12:00', end: '12:00', mode: 'delay' }, 'UTC'),
    0,
  );
});

test('quiet hours are evaluated in the route time zone', () => {
  const r = route({
    timeZone: 'America/New_York',
    quietHours: { start: '22:00', end: '06:00', mode: 'suppress' },
  });
  // 03:00 UTC = 23:00 New York (EDT) -> suppressed; 12:00 UTC = 08:00 -> sent.
  assert.equal(
    routeNotification(
      { kind: 'critical_alert', area: 'A', severity: 'high' },
      [r],
      at('2026-07-01T03:00:00Z'),
    )[0]?.action,
    'suppress',
  );
  assert.equal(
    routeNotification(
      { kind: 'critical_alert', area: 'A', severity: 'high' },
      [r],
      at('2026-07-01T12:00:00Z'),
    )[0]?.action,
    'send',
  );
});

test('routing filters by kind, area and severity; delay releases when quiet hours end; bypass severity pages anyway', () => {
  const routes = [
    route({ id: 'crushers', areas: ['Crushing'], minSeverity: 'medium', channels: ['crush-mail'] }),
    route({
      id: 'night',
      minSeverity: 'high',
      channels: ['pager'],
      quietHours: { start: '22:00', end: '06:00', mode: 'delay', bypassAtSeverity: 'critical' },
    }),
    route({
      id: 'recs-only',
      kinds: ['recommendation_pending'],
      minSeverity: 'low',
      channels: ['pager', 'chat'],
    }),
  ];
  const night = at('2026-07-01T23:10:20Z');
  const high = routeNotification(
    { kind: 'critical_alert', area: 'Crushing', severity: 'high' },
    routes,
    night,
  );
  assert.deepEqual(
    high.map((d) => [d.routeId, d.action]),
    [
      ['crushers', 'send'],
      ['night', 'delay'],
    ],
  );
  const delayed = high[1];
  assert.ok(delayed && delayed.action === 'delay');
  assert.equal(new Date(delayed.notBeforeMs).toISOString(), '2026-07-02T06:00:00.000Z');
  const crit = routeNotification(
    { kind: 'critical_alert', area: 'Reactors', severity: 'critical' },
    routes,
    night,
  );
  assert.deepEqual(
    crit.map((d) => [d.routeId, d.action]),
    [['night', 'send']],
  );
  assert.deepEqual(
    routeNotification({ kind: 'critical_alert', area: 'Reactors', severity: 'medium' }, routes, night),
    [],
  );
  const rec = routeNotification(
    { kind: 'recommendation_pending', area: 'Reactors', severity: 'low' },
    routes,
    at('2026-07-01T12:00:00Z'),
  );
  assert.deepEqual(uniqueChannels(rec), ['pager', 'chat']);
});

test('repeats inside the dedup window are duplicates', () => {
  const t0 = at('2026-07-01T12:00:00Z');
  assert.equal(isDuplicate(undefined, t0, 15), false);
  assert.equal(isDuplicate(t0, t0 + 14 * 60_000, 15), true);
  assert.equal(isDuplicate(t0, t0 + 15 * 60_000, 15), false);
});

test('escalation moves up one level per afterMinutes without acknowledgement and stops when acknowledged', () => {
  const levels = [
    { afterMinutes: 10, channels: [] },
    { afterMinutes: 20, channels: ['lead'] },
  ];
  const t0 = at('2026-07-01T12:00:00Z');
  assert.deepEqual(
    nextEscalation({ level: 0, lastNotifiedAtMs: t0, acknowledged: false }, levels, t0 + 9 * 60_000),
    { due: false },
  );
  assert.deepEqual(
    nextEscalation({ level: 0, lastNotifiedAtMs: t0, acknowledged: false }, levels, t0 + 10 * 60_000),
    {
      due: true,
      level: 1,
      channels: 'original',
    },
  );
  const t1 = t0 + 10 * 60_000;
  assert.deepEqual(
    nextEscalation({ level: 1, lastNotifiedAtMs: t1, acknowledged: false }, levels, t1 + 19 * 60_000),
    { due: false },
  );
  assert.deepEqual(
    nextEscalation({ level: 1, lastNotifiedAtMs: t1, acknowledged: false }, levels, t1 + 20 * 60_000),
    {
      due: true,
      level: 2,
      channels: ['lead'],
    },
  );
  assert.deepEqual(
    nextEscalation({ level: 2, lastNotifiedAtMs: t1, acknowledged: false }, levels, t1 + 999 * 60_000),
    { due: false },
  );
  assert.deepEqual(
    nextEscalation({ level: 0, lastNotifiedAtMs: t0, acknowledged: true }, levels, t0 + 60 * 60_000),
    { due: false },
  );
});

test('backoff grows exponentially, is capped and jittered within [50 %, 100 %]', () => {
  const policy = { baseDelayMs: 1000, maxDelayMs: 30_000, factor: 2 };
  assert.equal(backoffDelayMs(1, policy, 0.999999), 1000);
  assert.equal(backoffDelayMs(1, policy, 0), 500);
  assert.equal(backoffDelayMs(3, policy, 0.999999), 4000);
  assert.equal(backoffDelayMs(10, policy, 0.999999), 30_000);
  assert.equal(backoffDelayMs(10, policy, 0), 15_000);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelayMs(4, policy, i / 100);
    assert.ok(d >= 4000 && d <= 8000, `delay ${d}`);
  }
});
