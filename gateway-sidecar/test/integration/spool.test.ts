import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolJournal, type ShrinkFn } from '../../src/adapters/spool-journal.ts';

const root = mkdtempSync(join(tmpdir(), 'sc-spool-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `j${n++}`);

test('records come back in order after a reopen, and acknowledged ones do not', () => {
  const dir = freshDir();
  const j = SpoolJournal.open({ dir, maxBytes: 1 << 20, segmentBytes: 256 });
  const stored = Array.from({ length: 40 }, (_, i) =>
    j.append([{ kind: i % 2 ? 'silver' : 'bronze', payload: { i, unit: '°C' } }]),
  ).flat();
  assert.deepEqual(
    stored.map((r) => r.seq),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.ok(readdirSync(dir).filter((f) => f.startsWith('seg-')).length > 1, 'small segments rotate');
  j.ack(15);
  assert.equal(j.depth, 25);
  j.close();

  const again = SpoolJournal.open({ dir, maxBytes: 1 << 20, segmentBytes: 256 });
  const rest = again.peek(100);
  assert.deepEqual(
    rest.map((r) => (r.payload as { i: number }).i),
    Array.from({ length: 25 }, (_, i) => i + 15),
  );
  assert.equal(rest[0]?.seq, 16);
  assert.equal((rest[0]?.payload as { unit: string }).unit, '°C');
  const more = again.append([{ kind: 'bronze', payload: { i: 40 } }]);
  assert.equal(more[0]?.seq, 41, 'sequence numbers continue after a reopen');
  again.ack(41);
  assert.equal(again.depth, 0);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('seg-')),
    [],
    'fully acknowledged segments are deleted',
  );
  again.close();
});

test('a torn last line left by a crash is cut off; the whole records before it survive', () => {
  const dir = freshDir();
  const j = SpoolJournal.open({ dir, maxBytes: 1 << 20 });
  j.append([
    { kind: 'critical_alert', payload: { id: 'a1' } },
    { kind: 'critical_alert', payload: { id: 'a2' } },
  ]);
  j.close();
  const seg = readdirSync(dir).find((f) => f.startsWith('seg-'));
  assert.ok(seg);
  appendFileSync(join(dir, seg), '{"s":3,"k":"critical_alert","t":1,"p":{"id":"a3"'); // no newline: torn
  const again = SpoolJournal.open({ dir, maxBytes: 1 << 20 });
  assert.deepEqual(
    again.peek(10).map((r) => (r.payload as { id: string }).id),
    ['a1', 'a2'],
  );
  const next = again.append([{ kind: 'critical_alert', payload: { id: 'a3' } }]);
  assert.equal(next[0]?.seq, 3);
  again.close();
  assert.deepEqual(
    SpoolJournal.open({ dir, maxBytes: 1 << 20 })
      .peek(10)
      .map((r) => (r.payload as { id: string }).id),
    ['a1', 'a2', 'a3'],
  );
});

test('when full, the oldest bronze rows are dropped and counted; anomalies and alerts never are', () => {
  const dir = freshDir();
  const shrink: ShrinkFn = (kind, payload) => {
    const rows = payload as { anomaly: boolean }[];
    if (kind === 'bronze') return { keep: undefined, droppedRows: rows.length };
    if (kind === 'silver') {
      const keep = rows.filter((r) => r.anomaly);
      return { keep: keep.length ? keep : undefined, droppedRows: rows.length - keep.length };
    }
    return undefined;
  };
  const j = SpoolJournal.open({ dir, maxBytes: 64 * 1024, segmentBytes: 4 * 1024, shrink });
  const rows = (k: number, anomaly: (i: number) => boolean) =>
    Array.from({ length: 10 }, (_, i) => ({ k, i, anomaly: anomaly(i), pad: 'x'.repeat(20) }));
  let alerts = 0;
  let anomalies = 0;
  for (let k = 0; k < 200; k++) {
    j.append([{ kind: 'bronze', payload: rows(k, () => false) }]);
    j.append([{ kind: 'silver', payload: rows(k, (i) => i === 3) }]);
    anomalies++;
    if (k % 20 === 0) {
      j.append([{ kind: 'critical_alert', payload: { k } }]);
      alerts++;
    }
  }
  const st = j.stats();
  assert.ok((st.droppedRows.bronze ?? 0) > 0, 'bronze rows were dropped');
  assert.ok((st.droppedRows.silver ?? 0) > 0, 'normal silver rows were dropped');
  assert.equal(st.droppedRows.critical_alert, undefined);
  const all = j.peek(1_000_000);
  const keptAlerts = all.filter((r) => r.kind === 'critical_alert').length;
  const keptAnomalies = all
    .filter((r) => r.kind === 'silver')
    .flatMap((r) => r.payload as { anomaly: boolean }[])
    .filter((r) => r.anomaly).length;
  assert.equal(keptAlerts, alerts, 'every alert is kept');
  assert.equal(keptAnomalies, anomalies, 'every anomaly is kept');
  const keptBronze = all.filter((r) => r.kind === 'bronze').flatMap((r) => r.payload as unknown[]).length;
  assert.equal(
    keptBronze + (st.droppedRows.bronze ?? 0),
    2_000,
    'each bronze row is either kept or counted as dropped',
  );
  // The newest bronze rows are the ones kept (oldest dropped first).
  const lastBronze = all.filter((r) => r.kind === 'bronze').at(-1)?.payload as { k: number }[] | undefined;
  assert.equal(lastBronze?.[0]?.k, 199);
  // Order is still strictly increasing after compaction, also after a reopen.
  j.close();
  const seqs = SpoolJournal.open({ dir, maxBytes: 64 * 1024, shrink })
    .peek(1_000_000)
    .map((r) => r.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
  );
  assert.equal(seqs.length, all.length);
});

test('records that must survive are written even past the bound, and the journal says it is over', () => {
  const dir = freshDir();
  const shrink: ShrinkFn = (kind, payload) =>
    kind === 'bronze' ? { keep: undefined, droppedRows: (payload as unknown[]).length } : undefined;
  const j = SpoolJournal.open({ dir, maxBytes: 4 * 1024, segmentBytes: 1024, shrink });
  for (let i = 0; i < 100; i++) j.append([{ kind: 'critical_alert', payload: { i, text: 'y'.repeat(40) } }]);
  const st = j.stats();
  assert.equal(st.depth, 100, 'no alert is ever dropped');
  assert.equal(st.overLimit, true);
  assert.ok(st.bytes > st.maxBytes);
  // A droppable record arriving now is dropped and counted instead of growing the journal.
  assert.deepEqual(j.append([{ kind: 'bronze', payload: [1, 2, 3] }]), []);
  assert.equal(j.stats().droppedRows.bronze, 3);
  j.close();
});
