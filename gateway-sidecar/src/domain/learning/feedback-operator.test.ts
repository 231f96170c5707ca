import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupKey, recommendationIdFor } from '../dedup.ts';
import {
  answerOf,
  answerRound,
  type AnsweredRecommendation,
  foldOf,
  groupIntoRecommendations,
  judgedEvents,
  type RaisedEvent,
} from './feedback-operator.ts';

const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);
const ev = (s: number, truth: 0 | 1, tag = 'v'): RaisedEvent => ({
  eventId: `${tag}@${T0 + s * 1000}`,
  tsMs: T0 + s * 1000,
  truth,
  features: { z_score: s },
});

test('recommendations are the dedup windows of the anomalous events, with the store ids', () => {
  // 0–299 s in the first 5-minute window, 300 s onwards in the second.
  const recs = groupIntoRecommendations(
    'EQ',
    [ev(10, 0), ev(11, 1), ev(299, 1), ev(300, 0), ev(301, 0), ev(301, 0)],
    5,
  );
  assert.equal(recs.length, 2);
  const key = dedupKey('EQ', 'anomaly', T0 + 10_000, 5);
  assert.equal(recs[0]?.dedupKey, key);
  assert.equal(recs[0]?.id, recommendationIdFor(key));
  assert.deepEqual(
    [...(recs[0]?.events.keys() ?? [])],
    [`v@${T0 + 10_000}`, `v@${T0 + 11_000}`, `v@${T0 + 299_000}`],
  );
  assert.equal(recs[1]?.events.size, 2, 'a repeated event id is one event');
  // A 1-minute window splits the same events into more recommendations.
  assert.equal(groupIntoRecommendations('EQ', [ev(10, 0), ev(70, 0), ev(130, 0)], 1).length, 3);
});

test('the operator approves a recommendation overlapping a labelled fault and rejects one on normal rows only', () => {
  const [mixed, normal] = groupIntoRecommendations('EQ', [ev(10, 0), ev(20, 1), ev(400, 0), ev(410, 0)], 5);
  assert.ok(mixed !== undefined && normal !== undefined);
  assert.equal(answerOf(mixed.events.values()), 'approved');
  assert.equal(answerOf(normal.events.values()), 'rejected');
});

test('each recommendation is answered once; a re-raised one keeps its answer and takes the new events', () => {
  const answered = new Map<string, AnsweredRecommendation>();
  const r0 = answerRound(groupIntoRecommendations('EQ', [ev(10, 1), ev(400, 0)], 5), answered, 0);
  assert.deepEqual(r0, { raised: 2, answers: 2, approved: 1, rejected: 1 });
  // Round 1 raises the first window again (one more event) and a new window on normal rows.
  const r1 = answerRound(groupIntoRecommendations('EQ', [ev(11, 0), ev(700, 0)], 5), answered, 1);
  assert.deepEqual(r1, { raised: 2, answers: 1, approved: 0, rejected: 1 });
  assert.ok(r1.answers <= r1.raised);
  const first = answered.get(recommendationIdFor(dedupKey('EQ', 'anomaly', T0 + 10_000, 5)));
  assert.equal(first?.answer, 'approved');
  assert.equal(first?.round, 0);
  assert.equal(first?.rec.events.size, 2, 'the re-raised event joined the decided recommendation');
  assert.equal(first?.seen.length, 1, 'what the operator saw when answering is kept apart');
});

test('an operator answering 60 s after the recommendation is raised judges only what it has seen by then', () => {
  // A false alarm from 0 s; the real fault joins the same 5-minute window at 100 s.
  const [rec] = groupIntoRecommendations('EQ', [ev(0, 0), ev(30, 0), ev(60, 0), ev(100, 1), ev(200, 1)], 5);
  assert.ok(rec !== undefined);
  const atMinute = judgedEvents(rec, 60_000);
  assert.deepEqual(
    atMinute.seen.map((e) => e.tsMs - T0),
    [0, 30_000, 60_000],
  );
  assert.equal(atMinute.raisedAtMs, T0);
  assert.equal(atMinute.decidedAtMs, T0 + 60_000);
  assert.equal(answerOf(atMinute.seen), 'rejected');
  // In hindsight (the whole window) the same recommendation is approved, decided at its last event.
  const hindsight = judgedEvents(rec, undefined);
  assert.equal(answerOf(hindsight.seen), 'approved');
  assert.equal(hindsight.decidedAtMs, T0 + 200_000);
  // answerRound records the decision time, and later events stay unjudged.
  const answered = new Map<string, AnsweredRecommendation>();
  assert.deepEqual(answerRound([rec], answered, 0, 60_000), {
    raised: 1,
    answers: 1,
    approved: 0,
    rejected: 1,
  });
  const a = answered.get(rec.id);
  assert.equal(a?.decidedAtMs, T0 + 60_000);
  assert.equal(a?.seen.length, 3);
  assert.throws(() => judgedEvents(rec, -1), /decideAfterMs must be a finite number >= 0, got -1/);
  assert.throws(() => judgedEvents(rec, Number.NaN), /got NaN/);
});

test('folds are contiguous blocks of the files; bad fold counts are refused', () => {
  assert.deepEqual(
    Array.from({ length: 16 }, (_, i) => foldOf(i, 16, 2)),
    [...Array<number>(8).fill(0), ...Array<number>(8).fill(1)],
  );
  assert.deepEqual(
    Array.from({ length: 5 }, (_, i) => foldOf(i, 5, 1)),
    [0, 0, 0, 0, 0],
  );
  assert.deepEqual(
    Array.from({ length: 4 }, (_, i) => foldOf(i, 4, 4)),
    [0, 1, 2, 3],
  );
  assert.throws(() => foldOf(0, 3, 4), /folds must be an integer in \[1, 3\]/);
  assert.throws(() => foldOf(0, 3, 0), /got 0/);
});
