/**
 * The store: ordering, filters, optimistic decisions with rollback, live updates and connection
 * state. Runs twice: with MobX 6 (project "unit") and MobX 5.15 (project "mobx5"), because
 * Perspective 8.1 pages carry MobX 5 as the global.
 */
import { describe, expect, it } from 'vitest';
import * as mobx from 'mobx';
import { reaction } from 'mobx';
import { TransportError } from '../src/api/transport.ts';
import {
  RecommendationsStore,
  type DecisionOutcome,
} from '../src/components/recommendations/recommendations.store.ts';
import { buildRecommendation } from './support/builders.ts';
import { ScriptedTransport, flush } from './support/scripted-transport.ts';

const NOW = Date.parse('2026-11-29T09:00:00.000Z');

async function started(items = [buildRecommendation()], outcomes: DecisionOutcome[] = []) {
  const transport = new ScriptedTransport();
  transport.items = items;
  const store = new RecommendationsStore({
    transport,
    pageSize: 25,
    now: () => NOW,
    onDecided: (o) => outcomes.push(o),
  });
  store.start();
  await flush();
  return { transport, store, outcomes };
}

const mobxMajor = 'makeAutoObservable' in mobx ? '6' : '5';

describe(`RecommendationsStore (mobx ${mobxMajor})`, () => {
  it('runs against the MobX major this project expects', () => {
    // Guards the mobx5 project: if the alias broke, both runs would silently use MobX 6.
    expect(mobxMajor).toBe(process.env.EXPECT_MOBX_MAJOR);
  });

  it('sorts by severity, then newest first', async () => {
    const { store } = await started([
      buildRecommendation({ id: 'low-new', severity: 'low', createdAt: '2026-11-29T08:50:00Z' }),
      buildRecommendation({ id: 'crit-old', severity: 'critical', createdAt: '2026-11-29T07:00:00Z' }),
      buildRecommendation({ id: 'high', severity: 'high', createdAt: '2026-11-29T08:00:00Z' }),
      buildRecommendation({ id: 'crit-new', severity: 'critical', createdAt: '2026-11-29T08:30:00Z' }),
    ]);
    expect(store.state.visible.map((r) => r.id)).toEqual(['crit-new', 'crit-old', 'high', 'low-new']);
  });

  it('filters locally at once and asks the transport with the same filter', async () => {
    const { store, transport } = await started([
      buildRecommendation({ id: 'a', equipmentId: 'PUMP_01', severity: 'medium' }),
      buildRecommendation({ id: 'b', equipmentId: 'REACTOR_01', severity: 'critical' }),
    ]);
    store.setFilter({ equipmentId: 'REACTOR_01', severity: ['high', 'critical'] });
    expect(store.state.visible.map((r) => r.id)).toEqual(['b']);
    await flush();
    expect(transport.listCalls.at(-1)).toMatchObject({
      equipmentId: 'REACTOR_01',
      severity: ['high', 'critical'],
      limit: 25,
      offset: 0,
    });
  });

  it('computed values react to live changes (reaction)', async () => {
    const { store, transport } = await started([]);
    const seen: number[] = [];
    const dispose = reaction(
      () => store.state.visible.length,
      (n) => seen.push(n),
    );
    transport.listener?.onChange({
      seq: 7,
      type: 'recommendation',
      recommendation: buildRecommendation({ id: 'live' }),
    });
    expect(seen).toEqual([1]);
    expect(store.state.total).toBe(1);
    dispose();
  });

  it('applies a decision optimistically and then takes the server version', async () => {
    const rec = buildRecommendation({ id: 'x', version: 4 });
    const { store, transport, outcomes } = await started([rec]);
    const done = store.decide('x', 'approve', { note: ' ok ' });
    expect(store.find('x')?.status).toBe('approved');
    expect(store.state.pending.get('x')).toBe('approve');
    expect(transport.decideCalls[0]).toEqual({
      id: 'x',
      request: { decision: 'approve', expectedVersion: 4, note: 'ok' },
    });
    transport.answerDecision({ ...rec, status: 'approved', version: 5, decidedBy: 'op1' });
    expect(await done).toBe(true);
    expect(store.find('x')).toMatchObject({ status: 'approved', version: 5, decidedBy: 'op1' });
    expect(store.state.pending.has('x')).toBe(false);
    expect(outcomes).toEqual([
      expect.objectContaining({ id: 'x', decision: 'approve', ok: true, status: 'approved' }),
    ]);
  });

  it('rolls back when the decision fails and says why', async () => {
    const { store, transport, outcomes } = await started([buildRecommendation({ id: 'x' })]);
    const done = store.decide('x', 'reject', { note: 'sensor is being serviced' });
    expect(store.find('x')?.status).toBe('rejected');
    transport.answerDecision(new TransportError('SC_ERR_DB_CONNECT', 'database unreachable', 503));
    expect(await done).toBe(false);
    expect(store.find('x')?.status).toBe('pending');
    expect(store.state.notice).toMatchObject({ kind: 'error', code: 'SC_ERR_DB_CONNECT' });
    expect(store.state.notice?.text).toContain('database unreachable');
    expect(outcomes[0]).toMatchObject({ ok: false, errorCode: 'SC_ERR_DB_CONNECT', status: 'pending' });
  });

  it('on 409 rolls back, says someone else changed it, and reloads', async () => {
    const { store, transport } = await started([buildRecommendation({ id: 'x', equipmentId: 'PUMP_07' })]);
    const loadsBefore = transport.listCalls.length;
    const done = store.decide('x', 'approve');
    transport.items = [
      buildRecommendation({ id: 'x', equipmentId: 'PUMP_07', status: 'rejected', version: 2 }),
    ];
    transport.answerDecision(new TransportError('SC_ERR_API_CONFLICT', 'stale version', 409));
    await done;
    await flush();
    expect(store.state.notice?.text).toMatch(/PUMP_07: changed by someone else/);
    expect(transport.listCalls.length).toBe(loadsBefore + 1);
    expect(store.find('x')).toMatchObject({ status: 'rejected', version: 2 });
  });

  it('on 403 turns read-only', async () => {
    const { store, transport } = await started();
    const id = store.state.items[0]?.id as string;
    const done = store.decide(id, 'approve');
    transport.answerDecision(new TransportError('SC_ERR_API_FORBIDDEN', "role 'viewer' may not decide", 403));
    await done;
    expect(store.state.canDecide).toBe(false);
    expect(store.find(id)?.status).toBe('pending');
    expect(store.state.notice?.text).toContain('Not allowed');
  });

  it('keeps a newer live version instead of rolling back over it', async () => {
    const rec = buildRecommendation({ id: 'x', version: 1 });
    const { store, transport } = await started([rec]);
    const done = store.decide('x', 'approve');
    transport.listener?.onChange({
      seq: 9,
      type: 'recommendation',
      recommendation: { ...rec, status: 'rejected', version: 2 },
    });
    transport.listError = new TransportError('CLIENT_ERR_NETWORK', 'offline'); // the reload must not hide a rollback
    transport.answerDecision(new TransportError('SC_ERR_API_CONFLICT', 'stale', 409));
    await done;
    expect(store.find('x')).toMatchObject({ status: 'rejected', version: 2 });
  });

  it('ignores an older version arriving late', async () => {
    const { store, transport } = await started([
      buildRecommendation({ id: 'x', version: 3, status: 'executed' }),
    ]);
    transport.listener?.onChange({
      seq: 2,
      type: 'recommendation',
      recommendation: buildRecommendation({ id: 'x', version: 2 }),
    });
    expect(store.find('x')).toMatchObject({ version: 3, status: 'executed' });
  });

  it('refuses a second decision while one is in flight', async () => {
    const { store, transport } = await started([buildRecommendation({ id: 'x' })]);
    void store.decide('x', 'approve');
    expect(await store.decide('x', 'reject', { note: 'n' })).toBe(false);
    expect(transport.decideCalls).toHaveLength(1);
  });

  it('defers until now + the chosen minutes', async () => {
    const { store, transport } = await started([buildRecommendation({ id: 'x' })]);
    void store.decide('x', 'defer', { deferMinutes: 240 });
    expect(transport.decideCalls[0]?.request.deferUntil).toBe(new Date(NOW + 240 * 60_000).toISOString());
  });

  it('tells that an approval still needs a second approver', async () => {
    const rec = buildRecommendation({ id: 'x' });
    const { store, transport } = await started([rec]);
    const done = store.decide('x', 'approve');
    transport.answerDecision({ ...rec, status: 'pending', version: 2 });
    await done;
    expect(store.state.notice).toMatchObject({ kind: 'info' });
    expect(store.state.notice?.text).toContain('second approver');
  });

  it('tracks the connection and reloads when the stream resumes', async () => {
    const { store, transport } = await started();
    transport.listener?.onConnection({ state: 'reconnecting', attempts: 1, detail: 'socket closed' });
    expect(store.state.connection).toEqual({ state: 'reconnecting', attempts: 1, detail: 'socket closed' });
    const before = transport.listCalls.length;
    transport.listener?.onConnection({ state: 'online', attempts: 0, detail: null });
    transport.listener?.onResumed();
    await flush();
    expect(store.state.connection.state).toBe('online');
    expect(transport.listCalls.length).toBe(before + 1);
  });

  it('shows a load error and clears it on a good reload', async () => {
    const transport = new ScriptedTransport();
    transport.listError = new TransportError('SC_ERR_API_UNAUTHENTICATED', 'no token', 401);
    const store = new RecommendationsStore({ transport, pageSize: 10 });
    store.start();
    await flush();
    expect(store.state.loadError).toMatchObject({ code: 'SC_ERR_API_UNAUTHENTICATED', text: 'no token' });
    transport.listError = null;
    await store.load();
    expect(store.state.loadError).toBeNull();
    expect(store.state.loaded).toBe(true);
  });

  it('pages with offset and keeps critical alerts (newest first, at most 3)', async () => {
    const { store, transport } = await started([buildRecommendation({ id: 'a' })]);
    transport.items = [buildRecommendation({ id: 'b' })];
    await store.loadMore();
    expect(transport.listCalls.at(-1)).toMatchObject({ offset: 1 });
    expect(store.state.items.map((r) => r.id).sort()).toEqual(['a', 'b']);
    for (let i = 1; i <= 4; i++) {
      transport.listener?.onChange({
        seq: 100 + i,
        type: 'critical_alert',
        alert: {
          id: `al${i}`,
          equipmentId: 'R1',
          sensorType: 'temperature',
          tagPath: 't',
          value: 95,
          threshold: 90,
          level: 'emergency',
          message: `m${i}`,
          at: '2026-11-29T08:00:00Z',
        },
      });
    }
    expect(store.state.alerts.map((a) => a.id)).toEqual(['al4', 'al3', 'al2']);
  });
});

describe('role check', () => {
  it('disables decisions up front when /me reports a viewer, keeps them for an operator', async () => {
    for (const [roles, expected] of [
      [['viewer'], false],
      [['operator'], true],
    ] as const) {
      const transport = new ScriptedTransport();
      const withMe = Object.assign(transport, {
        me: async () => ({ user: 'u', roles: [...roles], via: 'token' }),
      });
      const store = new RecommendationsStore({ transport: withMe, pageSize: 5 });
      store.start();
      await flush();
      expect(store.state.canDecide).toBe(expected);
      expect(store.state.user).toBe('u');
    }
  });
});
