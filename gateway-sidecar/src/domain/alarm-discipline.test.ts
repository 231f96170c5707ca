import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AlarmDiscipline,
  findShelf,
  isSuppressingMode,
  validateShelveRequest,
  WINDOW_10_MIN_MS,
  type Shelf,
} from './alarm-discipline.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const OPTS = { limitPer10Min: 3, chatterCount: 3, chatterWindowMs: 30 * 60_000 };

test('maintenance and start-up modes suppress; run does not', () => {
  for (const m of ['MAINTENANCE', 'maintenance', 'STARTUP', 'Start-Up', 'start_up', ' Start up '])
    assert.equal(isSuppressingMode(m), true, m);
  for (const m of [undefined, 'RUN', 'AUTO', '']) assert.equal(isSuppressingMode(m), false, String(m));
});

test('shelve requests need a reason and a bounded positive duration', () => {
  const ok = { equipmentId: 'R', issueType: '*', reason: 'sensor being replaced', durationMinutes: 60 };
  assert.equal(validateShelveRequest(ok, 8), null);
  assert.equal(validateShelveRequest({ ...ok, reason: ' ' }, 8)?.field, 'reason');
  assert.equal(validateShelveRequest({ ...ok, equipmentId: '' }, 8)?.field, 'equipmentId');
  assert.equal(validateShelveRequest({ ...ok, issueType: '' }, 8)?.field, 'issueType');
  assert.equal(validateShelveRequest({ ...ok, durationMinutes: 0 }, 8)?.field, 'durationMinutes');
  assert.equal(validateShelveRequest({ ...ok, durationMinutes: Number.NaN }, 8)?.field, 'durationMinutes');
  assert.match(validateShelveRequest({ ...ok, durationMinutes: 481 }, 8)?.message ?? '', /at most 480/);
});

test('a shelf covers its pattern only while it lasts; "*" covers every issue', () => {
  const shelves: Shelf[] = [
    { id: 1, equipmentId: 'R', issueType: 'leak', reason: 'x', by: 'a', fromMs: T0, untilMs: T0 + 60_000 },
    { id: 2, equipmentId: 'P', issueType: '*', reason: 'x', by: 'a', fromMs: T0, untilMs: T0 + 60_000 },
  ];
  assert.equal(findShelf(shelves, 'R', 'leak', T0 + 1)?.id, 1);
  assert.equal(findShelf(shelves, 'R', 'overheating', T0 + 1), undefined);
  assert.equal(findShelf(shelves, 'P', 'cavitation', T0 + 1)?.id, 2);
  assert.equal(findShelf(shelves, 'R', 'leak', T0 + 60_000), undefined);
  assert.equal(findShelf(shelves, 'R', 'leak', T0 - 1), undefined);
});

test('flood control admits the limit per area and window, then reports flood', () => {
  const d = new AlarmDiscipline(OPTS, T0);
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => d.admit('A', T0 + 1_000)),
    [true, true, true, false, false],
  );
  assert.equal(d.admit('B', T0 + 1_000), true); // per area
  assert.equal(d.admit('A', T0 + WINDOW_10_MIN_MS), true); // next window
  const k = d.kpis(T0 + WINDOW_10_MIN_MS + 1);
  assert.equal(k.grouped, 2);
  assert.equal(k.floodWindowPct, 50); // 1 of 2 windows since start
  assert.throws(() => new AlarmDiscipline({ ...OPTS, limitPer10Min: 0 }, T0), RangeError);
});

test('chattering: the same pattern raising chatterCount times inside the window', () => {
  const d = new AlarmDiscipline(OPTS, T0);
  assert.equal(d.recordRaised('R|leak', T0), false);
  assert.equal(d.recordRaised('R|leak', T0 + 5 * 60_000), false);
  assert.equal(d.recordRaised('R|leak', T0 + 10 * 60_000), true);
  assert.deepEqual(d.kpis(T0 + 10 * 60_000).chatteringPatterns, ['R|leak']);
  assert.deepEqual(d.kpis(T0 + 41 * 60_000).chatteringPatterns, []);
  // spaced out: not chattering
  const e = new AlarmDiscipline(OPTS, T0);
  for (let i = 0; i < 5; i++) assert.equal(e.recordRaised('R|x', T0 + i * 20 * 60_000), false);
});

test('recommendations per operator per hour divides by active deciders', () => {
  const d = new AlarmDiscipline(OPTS, T0);
  for (let i = 0; i < 12; i++) d.recordRaised(`P${i}`, T0 + i * 60_000);
  assert.equal(d.kpis(T0 + 20 * 60_000).recommendationsPerOperatorHour, 12); // nobody decided: per 1
  d.recordDecision('alice', T0 + 20 * 60_000);
  d.recordDecision('bob', T0 + 21 * 60_000);
  d.recordDecision('bob', T0 + 22 * 60_000);
  assert.equal(d.kpis(T0 + 22 * 60_000).recommendationsPerOperatorHour, 6);
  assert.equal(d.kpis(T0 + 2 * 3_600_000).recommendationsPerOperatorHour, 0);
  d.recordSuppressed('mode');
  d.recordSuppressed('shelved');
  d.recordSuppressed('shelved');
  assert.deepEqual(d.kpis(T0).suppressed, { mode: 1, shelved: 2, below_confidence: 0 });
});

test('flood percentage looks at most 24 hours back', () => {
  const d = new AlarmDiscipline({ ...OPTS, limitPer10Min: 1 }, T0);
  d.admit('A', T0);
  d.admit('A', T0); // flood in window 0
  const day = 24 * 3_600_000;
  assert.ok(d.kpis(T0 + day - 1).floodWindowPct > 0);
  d.admit('A', T0 + 2 * day); // prunes old bookkeeping
  assert.equal(d.kpis(T0 + 2 * day).floodWindowPct, 0);
});

test('restore rebuilds flood counts, flood windows, chattering and deciders from stored history', () => {
  const d = new AlarmDiscipline(OPTS, T0 + 10 * 60_000);
  const at = T0 + 10 * 60_000 + 1_000;
  d.restore(
    {
      raised: [
        { area: 'A', pattern: 'R|leak', atMs: at },
        { area: 'A', pattern: 'R|leak', atMs: at + 1_000 },
        { area: 'B', pattern: 'P|wear', atMs: at },
        // older than the 24 h the history covers: ignored
        { area: 'A', pattern: 'R|leak', atMs: at - 25 * 3_600_000 },
      ],
      floodSummariesAtMs: [T0 + 1_000],
      decisions: [{ user: 'olga', atMs: at + 2_000 }],
    },
    at + 3_000,
  );
  // Two of three already admitted in area A's window: one more, then flood.
  assert.deepEqual(
    [1, 2].map(() => d.admit('A', at + 4_000)),
    [true, false],
  );
  assert.equal(d.admit('B', at + 4_000), true);
  assert.equal(d.recordRaised('R|leak', at + 5_000), true, 'third raise of the pattern: chattering');
  const k = d.kpis(at + 6_000);
  // Window T0 (a restored flood, before this process started) and window T0+10 min (in flood now).
  assert.equal(k.floodWindowPct, 100);
  // 3 restored raises + 1 new in the last hour, one operator (olga) deciding.
  assert.equal(k.recommendationsPerOperatorHour, 4);
  assert.deepEqual(k.chatteringPatterns, ['R|leak']);
  // Rebuilding replaces rather than adds.
  d.restore(
    { raised: [{ area: 'A', pattern: 'R|leak', atMs: at }], floodSummariesAtMs: [], decisions: [] },
    at + 7_000,
  );
  assert.deepEqual(
    [1, 2, 3].map(() => d.admit('A', at + 8_000)),
    [true, true, false],
  );
});
