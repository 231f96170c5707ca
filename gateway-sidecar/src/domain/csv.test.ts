import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvFormatError, parseSensorCsv, parseTimestamp } from './csv.ts';

test('parses SKAB format with labels', () => {
  const t = parseSensorCsv(
    'datetime;A;B;anomaly;changepoint\n2020-03-09 10:14:33;1.5;2;0.0;0.0\n2020-03-09 10:14:34;;3;1.0;0.0\n',
  );
  assert.deepEqual(t.columns, ['A', 'B']);
  assert.equal(t.timestampsMs[1]! - t.timestampsMs[0]!, 1000);
  assert.equal(t.rows[0]![0], 1.5);
  assert.ok(Number.isNaN(t.rows[1]![0]!));
  assert.deepEqual(t.labels, [0, 1]);
});

test('parses plain CSV with epoch or ISO timestamps and no labels', () => {
  const t = parseSensorCsv('timestamp,temp\n1700000000,20\n2023-11-14T22:13:21Z,21\n');
  assert.equal(t.timestampsMs[0], 1_700_000_000_000);
  assert.equal(t.labels, undefined);
  assert.equal(parseTimestamp('1700000000000'), 1_700_000_000_000);
});

test('structural problems name the line', () => {
  assert.throws(() => parseSensorCsv(''), CsvFormatError);
  assert.throws(() => parseSensorCsv('a,b\n1,2'), /no timestamp column/);
  assert.throws(() => parseSensorCsv('timestamp,a\n1,2,3'), /line 2: expected 2 cells/);
  assert.throws(() => parseSensorCsv('timestamp,a\nyesterday,2'), /line 2: cannot parse timestamp/);
});
