/**
 * The store and a sibling change: when a decision on one recommendation moves its pattern's
 * history, the sidecar pushes a change for each other open recommendation of the pattern with the
 * SAME version (it is not a decision) and a new `patternHistory`. The store applies it like any
 * update, keeps a decision in flight on that card optimistic, and an older version still never
 * overwrites a newer one. Runs with MobX 6 ("unit") and MobX 5.15 ("mobx5").
 */
import { describe, expect, it } from 'vitest';
import { RecommendationsStore } from '../src/components/recommendations/recommendations.store.ts';
import type { PatternHistory } from '../src/api/types.ts';
import { buildRecommendation } from './support/builders.ts';
import { ScriptedTransport, flush } from './support/scripted-transport.ts';

const NONE: PatternHistory = { approved: 0, rejected: 0, lastRejectionNote: null, lastDecidedAt: null };
const AFTER: PatternHistory = {
  approved: 0,
  rejected: 1,
  lastRejectionNote: 'planned coolant flush',
  lastDecidedAt: '2026-11-29T08:05:00.000Z',
};

async function started() {
  const transport = new ScriptedTransport();
  transport.items = [
    buildRecommendation({ id: 'a', patternHistory: NONE }),
    buildRecommendation({ id: 'b', patternHistory: NONE, createdAt: '2026-11-29T08:01:00.000Z' }),
  ];
  const store = new RecommendationsStore({
    transport,
    pageSize: 25,
    now: () => Date.parse('2026-11-29T09:00:00Z'),
  });
  store.start();
  await flush();
  return { transport, store };
}

describe('RecommendationsStore: sibling changes (pattern history)', () => {
  it('applies a same-version change that carries the new history', async () => {
    const { transport, store } = await started();
    const b = store.find('b');
    transport.listener?.onChange({
      seq: 11,
      type: 'recommendation',
      recommendation: buildRecommendation({ ...b, id: 'b', version: b?.version ?? 1, patternHistory: AFTER }),
    });
    expect(store.find('b')?.patternHistory).toEqual(AFTER);
    expect(store.find('b')?.status).toBe('pending');
    expect(store.state.items).toHaveLength(2);
    // An older version (a change replayed out of order) does not undo it.
    transport.listener?.onChange({
      seq: 3,
      type: 'recommendation',
      recommendation: buildRecommendation({ id: 'b', version: 0, patternHistory: NONE }),
    });
    expect(store.find('b')?.patternHistory).toEqual(AFTER);
  });

  it('keeps a decision in flight on the sibling optimistic while taking its new history', async () => {
    const { transport, store } = await started();
    const deciding = store.decide('b', 'defer', { deferMinutes: 15 });
    expect(store.find('b')?.status).toBe('deferred');
    transport.listener?.onChange({
      seq: 12,
      type: 'recommendation',
      recommendation: buildRecommendation({ id: 'b', version: 1, status: 'pending', patternHistory: AFTER }),
    });
    expect(store.find('b')?.status).toBe('deferred');
    expect(store.find('b')?.patternHistory).toEqual(AFTER);
    transport.answerDecision(
      buildRecommendation({ id: 'b', version: 2, status: 'deferred', patternHistory: AFTER }),
    );
    expect(await deciding).toBe(true);
    expect(store.find('b')?.version).toBe(2);
  });
});
