import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reopenKey } from './dedup.ts';
import { checkScoreMargin, judgeReopen, lookOf, tagLabel, type RejectedSnapshot } from './reopen.ts';

const TEMP = '[default]Reactors/R01/Temperature';
const FLOW = '[default]Reactors/R01/CoolantFlow';
const REJECTED: RejectedSnapshot = { id: 'rec-1', severity: 'medium', maxScore: 0.8, topTags: [TEMP] };

test('what the operator rejected, again, does not reopen (also at exactly the margin)', () => {
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'medium', score: 0.8, topTag: TEMP }, 0.1), {
    reopen: false,
  });
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'low', score: 0.9, topTag: TEMP }, 0.1), {
    reopen: false,
  });
});

test('each condition reopens with its own reason; all that hold are named, the first is counted', () => {
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'high', score: 0.8, topTag: TEMP }, 0.1), {
    reopen: true,
    reasons: ['severity'],
    text: 'Reopened: HIGH (rejected at MEDIUM)',
  });
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'medium', score: 0.8, topTag: FLOW }, 0.1), {
    reopen: true,
    reasons: ['top_tag'],
    text: 'Reopened: CoolantFlow now leads (the rejected alarm was led by Temperature)',
  });
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'medium', score: 0.91, topTag: TEMP }, 0.1), {
    reopen: true,
    reasons: ['score'],
    text: 'Reopened: score 0.91 (rejected at 0.80)',
  });
  const all = judgeReopen(REJECTED, { severity: 'critical', score: 1, topTag: FLOW }, 0.1);
  assert.ok(all.reopen);
  assert.deepEqual(all.reasons, ['severity', 'top_tag', 'score']);
  assert.match(all.text, /^Reopened: CRITICAL \(rejected at MEDIUM\); CoolantFlow now leads .*; score 1\.00/);
});

test('an unknown leading tag on either side never reopens by itself', () => {
  assert.deepEqual(
    judgeReopen({ ...REJECTED, topTags: [] }, { severity: 'medium', score: 0.8, topTag: FLOW }, 0.1),
    {
      reopen: false,
    },
  );
  assert.deepEqual(judgeReopen(REJECTED, { severity: 'medium', score: 0.8, topTag: undefined }, 0.1), {
    reopen: false,
  });
});

test('lookOf: worst severity, max score, first of the heaviest contributions', () => {
  const c = (tagPath: string, weight: number) => ({ tagPath, weight });
  assert.deepEqual(
    lookOf([
      { severity: 'medium', score: 0.7, explanation: [c(TEMP, 0.5)] },
      { severity: 'high', score: 0.6, explanation: [c(FLOW, 0.6), c(TEMP, 0.6)] },
    ]),
    { severity: 'high', score: 0.7, topTag: FLOW },
  );
  assert.deepEqual(lookOf([]), { severity: 'low', score: 0, topTag: undefined });
});

test('reopen keys are derived from the rejected key; the margin must be in [0, 1]', () => {
  assert.equal(
    reopenKey('R|cooling|2026-03-01T10:00:00.000Z', 2),
    'R|cooling|2026-03-01T10:00:00.000Z|reopen:2',
  );
  assert.throws(() => reopenKey('k', 0), /integer ≥ 1/);
  assert.equal(tagLabel(FLOW), 'CoolantFlow');
  assert.equal(tagLabel('plain'), 'plain');
  assert.equal(checkScoreMargin(0.1), 0.1);
  for (const bad of [-0.1, 1.5, Number.NaN])
    assert.throws(() => checkScoreMargin(bad), /reopen score margin must be a number in \[0, 1\]/);
});
