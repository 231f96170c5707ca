import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change } from '../domain/recommendation-view.ts';
import { withPending } from './critical-push.ts';

const rec = (seq: number): Change => ({ seq, type: 'recommendation' });
const alert = (seq: number): Change => ({
  seq,
  type: 'critical_alert',
  alert: {
    id: `crit-${seq}`,
    equipmentId: 'REACTOR_01',
    sensorType: 'temperature',
    tagPath: '[default]R/T',
    value: 95,
    threshold: 90,
    level: 'emergency',
    message: 'EMERGENCY',
    at: '2026-11-29T10:00:00.000Z',
  },
});
const pending = (...cs: Change[]) => ({ pendingSince: (after: number) => cs.filter((c) => c.seq > after) });

test('pending alerts join a resume page in seq order, none twice', () => {
  const page = withPending([rec(3), rec(7)], [pending(alert(5), alert(9))], 2, 100);
  assert.deepEqual(
    page.map((c) => c.seq),
    [3, 5, 7, 9],
  );
  // Already durable (the write landed between the two reads): once.
  assert.deepEqual(
    withPending([rec(3), alert(5)], [pending(alert(5))], 2, 100).map((c) => c.seq),
    [3, 5],
  );
  // At or before Last-Event-ID: not replayed.
  assert.deepEqual(
    withPending([], [pending(alert(5))], 5, 100).map((c) => c.seq),
    [],
  );
});

test('a full page stops at its last seq; later pending alerts wait for the next page', () => {
  // Durable rows 4 and 6 fill the page (limit 2); 8 may exist beyond it, so pending 9 must not
  // jump ahead of it (the next page starts after the last seq returned).
  const page = withPending([rec(4), rec(6)], [pending(alert(5), alert(9))], 3, 2);
  assert.deepEqual(
    page.map((c) => c.seq),
    [4, 5, 6],
  );
  const next = withPending([rec(8)], [pending(alert(9))], 6, 2);
  assert.deepEqual(
    next.map((c) => c.seq),
    [8, 9],
  );
});
