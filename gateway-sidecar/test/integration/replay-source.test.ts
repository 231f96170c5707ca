import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CsvReplayTagSource, type CsvReplayOptions } from '../../src/adapters/csv-replay-tag-source.ts';
import type { TagEvent } from '../../src/domain/tag-event.ts';
import { systemClock } from '../../src/ports.ts';
import { tagSourceContract } from '../contracts/tag-source.contract.ts';
import { skabMissing, skabPath } from '../fixtures/skab-data.ts';

const SKAB_FILE = skabPath('valve1', '0.csv');
const BASE = Date.UTC(2020, 2, 9, 10, 14, 33);

/** A SKAB-format table (';', datetime, label columns) with `n` rows one second apart. */
function skabText(n: number): string {
  const lines = ['datetime;Pressure;Temperature;anomaly;changepoint'];
  for (let i = 0; i < n; i++) {
    const ts = new Date(BASE + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${ts};${(0.1 + i / 1000).toFixed(4)};${(70 + i / 10).toFixed(2)};0.0;0.0`);
  }
  return lines.join('\n');
}

const make = (o: Partial<CsvReplayOptions>): CsvReplayTagSource =>
  new CsvReplayTagSource({ pace: 'fast', tagPrefix: '[default]SKAB/', clock: systemClock, ...o });

async function collect(source: CsvReplayTagSource): Promise<TagEvent[][]> {
  const batches: TagEvent[][] = [];
  const done = new Promise<void>((resolve) => source.onStateChange((s) => s === 'finished' && resolve()));
  await source.start((b) => {
    batches.push([...b]);
  });
  await done;
  await source.stop();
  return batches;
}
const strip = (evs: TagEvent[]): unknown[] => evs.map(({ receivedTimestampMs: _r, ...rest }) => rest);

tagSourceContract('csv replay', async () => ({
  source: make({ text: skabText(2000), rowsPerBatch: 50 }),
  stimulate: async () => {},
  expectedTags: ['[default]SKAB/Pressure', '[default]SKAB/Temperature'],
  close: async () => {},
}));

test('SKAB text: one event per sensor cell, prefixed tag paths, labels not emitted, recorded timestamps', async () => {
  const batches = await collect(make({ text: skabText(250), rowsPerBatch: 100 }));
  assert.deepEqual(
    batches.map((b) => b.length),
    [200, 200, 100],
  );
  const all = batches.flat();
  assert.deepEqual(
    new Set(all.map((e) => e.tagPath)),
    new Set(['[default]SKAB/Pressure', '[default]SKAB/Temperature']),
  );
  assert.equal(all[0]?.sourceTimestampMs, BASE);
  assert.equal(all.at(-1)?.sourceTimestampMs, BASE + 249_000);
  assert.equal(all.find((e) => e.tagPath.endsWith('Temperature'))?.value, 70);
});

test('the real SKAB file replays every row', { skip: skabMissing('valve1', '0.csv') }, async () => {
  const source = make({ file: SKAB_FILE, rowsPerBatch: 500 });
  const all = (await collect(source)).flat();
  assert.equal(source.rowsDelivered, 1147);
  assert.equal(all.length, 1147 * 8);
  assert.ok(all.some((e) => e.tagPath === '[default]SKAB/Volume Flow RateRMS'));
  assert.deepEqual(source.rejectedCounts(), {});
});

test('deterministic, and resuming after a checkpoint continues exactly where the first run stopped', async () => {
  const text = skabText(300);
  const full = (await collect(make({ text, rowsPerBatch: 7 }))).flat();
  const again = (await collect(make({ text, rowsPerBatch: 7 }))).flat();
  assert.deepEqual(strip(full), strip(again));
  const checkpoint = BASE + 120_000;
  const resumed = (await collect(make({ text, rowsPerBatch: 7, startAfterTimestampMs: checkpoint }))).flat();
  const head = full.filter((e) => e.sourceTimestampMs <= checkpoint);
  assert.deepEqual(strip([...head, ...resumed]), strip(full));
  assert.equal(resumed[0]?.sourceTimestampMs, checkpoint + 1000);
});

test('plain CSV with bad lines and cells: each problem counted, everything else delivered', async () => {
  const text = [
    'timestamp,flow,temp',
    '2026-01-01T00:00:00Z,1.5,20',
    '2026-01-01T00:00:01Z,1.6', // wrong cell count
    'yesterday,1.7,21', // bad timestamp
    '2026-01-01T00:00:03Z,,22', // empty cell
    '2026-01-01T00:00:04Z,abc,23', // not a number
    '2026-01-01T00:00:05Z,1.9,24',
  ].join('\n');
  const source = make({ text, tagPrefix: 'L1/' });
  const all = (await collect(source)).flat();
  assert.deepEqual(
    all.map((e) => [e.tagPath, e.value]),
    [
      ['L1/flow', 1.5],
      ['L1/temp', 20],
      ['L1/temp', 22],
      ['L1/temp', 23],
      ['L1/flow', 1.9],
      ['L1/temp', 24],
    ],
  );
  assert.deepEqual(source.rejectedCounts(), {
    csv_wrong_cell_count: 1,
    csv_bad_timestamp: 1,
    csv_cell_not_numeric: 2,
  });
});

test('recorded pace delivers one row per batch in timestamp order', async () => {
  const source = make({ text: skabText(4), pace: 'recorded', speed: 50 });
  const batches = await collect(source);
  assert.deepEqual(
    batches.map((b) => b.length),
    [2, 2, 2, 2],
  );
  assert.deepEqual(
    batches.map((b) => b[0]?.sourceTimestampMs),
    [BASE, BASE + 1000, BASE + 2000, BASE + 3000],
  );
});

test('a missing file or a header without a timestamp column fails start with a coded error', async () => {
  await assert.rejects(
    make({ file: '/nonexistent/x.csv' }).start(() => {}),
    { code: 'SC_ERR_SOURCE_CONNECT' },
  );
  await assert.rejects(
    make({ text: 'a,b\n1,2\n3' }).start(() => {}),
    { code: 'SC_ERR_SOURCE_PARSE' },
  );
});
