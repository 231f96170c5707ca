import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { EventBatcher, registerEventKinds } from '../../src/adapters/event-batcher.ts';
import { PgEventWriter } from '../../src/adapters/pg-event-sink.ts';
import { ResilientSink, isTransientDbError } from '../../src/adapters/resilient-sink.ts';
import { createLogger } from '../../src/log.ts';
import { forEachDatabase, poolFor } from '../fixtures/db-targets.ts';
import { alertRow, bronzeRows, silverRows } from '../fixtures/event-rows.ts';
import { startTcpProxy, type TcpProxy } from '../fixtures/tcp-proxy.ts';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'sc-resilient-'));
after(() => rmSync(root, { recursive: true, force: true }));

function openSink(dir: string, pool: pg.Pool): ResilientSink {
  const sink = new ResilientSink({
    dir,
    logger,
    retryInitialMs: 50,
    retryMaxMs: 400,
    attemptTimeoutMs: 5_000,
  });
  registerEventKinds(sink, new PgEventWriter(pool));
  // A probe kind through the same journal: its table records the order writes arrived in.
  sink.register<{ k: number | string }>('probe', {
    write: async (p) =>
      void (await pool.query('INSERT INTO sink_probe (k) VALUES ($1) ON CONFLICT (k) DO NOTHING', [p.k])),
  });
  sink.start();
  return sink;
}

async function counts(
  pool: pg.Pool,
): Promise<{ bronze: number; silver: number; anomalies: number; alerts: number }> {
  const { rows } = await pool.query<{ b: string; s: string; a: string; c: string }>(`
    SELECT (SELECT count(*) FROM mining_operations.sensor_stream_bronze) AS b,
           (SELECT count(*) FROM mining_operations.anomaly_detection_silver) AS s,
           (SELECT count(*) FROM mining_operations.anomaly_detection_silver WHERE is_anomaly) AS a,
           (SELECT count(*) FROM mining_operations.critical_alerts) AS c`);
  const r = rows[0];
  return { bronze: Number(r?.b), silver: Number(r?.s), anomalies: Number(r?.a), alerts: Number(r?.c) };
}

function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

test('transient vs permanent database errors', () => {
  assert.equal(isTransientDbError(new Error('Connection terminated unexpectedly')), true);
  assert.equal(isTransientDbError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), true);
  assert.equal(isTransientDbError(Object.assign(new Error('admin shutdown'), { code: '57P01' })), true);
  assert.equal(isTransientDbError(Object.assign(new Error('cannot connect now'), { code: '57P03' })), true);
  assert.equal(isTransientDbError(Object.assign(new Error('bad input'), { code: '22P02' })), false);
  assert.equal(isTransientDbError(Object.assign(new Error('not null'), { code: '23502' })), false);
});

forEachDatabase((target) => {
  let proxy: TcpProxy;
  let direct: pg.Pool;
  before(async () => {
    direct = target.pool();
    await direct.query(
      'CREATE TABLE IF NOT EXISTS sink_probe (id BIGSERIAL PRIMARY KEY, k INTEGER NOT NULL UNIQUE)',
    );
    const u = new URL(target.url());
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
  });
  after(async () => {
    await proxy.close();
  });

  test('connection cut mid-stream: keeps accepting, spools, flushes in order; nothing lost, nothing doubled', async () => {
    await direct.query(
      'TRUNCATE sink_probe, mining_operations.sensor_stream_bronze, mining_operations.anomaly_detection_silver, mining_operations.critical_alerts',
    );
    const pool = poolFor(viaProxy(target.url(), proxy), 4);
    const dir = join(root, `cut-${target.kind}`);
    const sink = openSink(dir, pool);
    const states: string[] = [];
    sink.onStateChange((s) => states.push(s));
    const batcher = new EventBatcher(sink, { batchRows: 50, flushIntervalMs: 20 });
    const end = Date.now();
    const outcomes: string[] = [];
    for (let k = 0; k < 30; k++) {
      if (k === 10) proxy.cut();
      if (k === 20) proxy.restore();
      const bronze = bronzeRows(50, end, k * 50);
      await batcher.add(bronze, silverRows(bronze, 10));
      outcomes.push(await sink.submit('probe', { k }));
      if (k % 10 === 5) outcomes.push(await batcher.writeAlert(alertRow(end + k, k)));
    }
    await batcher.flush();
    await sink.drained(30_000);
    assert.ok(outcomes.includes('spooled'), 'some writes were spooled while the connection was cut');
    assert.ok(outcomes.includes('written'), 'writes before the cut went straight through');
    assert.ok(states.includes('spooling') && states.at(-1) === 'direct', `states: ${states.join(',')}`);
    const st = sink.stats();
    assert.ok(st.spooledTotal > 0 && st.replayedTotal >= st.spooledTotal, JSON.stringify(st));
    assert.equal(st.journal.depth, 0);
    assert.deepEqual(st.journal.droppedRows, {});
    assert.deepEqual(await counts(direct), { bronze: 1_500, silver: 1_500, anomalies: 150, alerts: 3 });
    const order = await direct.query<{ k: number }>('SELECT k FROM sink_probe ORDER BY id');
    assert.deepEqual(
      order.rows.map((r) => r.k),
      Array.from({ length: 30 }, (_, i) => i),
      'probes arrived once each, in submit order',
    );
    await sink.close();
    await pool.end();
  });

  test('a restart while spooled: a new sink on the same journal flushes it', async () => {
    await direct.query(
      'TRUNCATE sink_probe, mining_operations.sensor_stream_bronze, mining_operations.anomaly_detection_silver, mining_operations.critical_alerts',
    );
    const dir = join(root, `restart-${target.kind}`);
    const pool = poolFor(viaProxy(target.url(), proxy), 2);
    proxy.cut();
    const first = openSink(dir, pool);
    const batcher = new EventBatcher(first, { batchRows: 100 });
    const bronze = bronzeRows(400, Date.now());
    await batcher.add(bronze, silverRows(bronze, 4));
    await batcher.flush();
    await batcher.writeAlert(alertRow(Date.now()));
    for (let k = 0; k < 5; k++) assert.equal(await first.submit('probe', { k }), 'spooled');
    assert.ok(first.stats().journal.depth >= 9);
    await first.close();
    await pool.end();
    proxy.restore();

    const second = openSink(dir, direct);
    await second.drained(30_000);
    assert.deepEqual(await counts(direct), { bronze: 400, silver: 400, anomalies: 100, alerts: 1 });
    const order = await direct.query<{ k: number }>('SELECT k FROM sink_probe ORDER BY id');
    assert.deepEqual(
      order.rows.map((r) => r.k),
      [0, 1, 2, 3, 4],
    );
    await second.close();
    // A third open finds nothing left to replay.
    const third = new ResilientSink({ dir, logger });
    assert.equal(third.stats().journal.depth, 0);
    await third.close();
  });

  test('a batch the database rejects is dead-lettered and counted; the rest goes on', async () => {
    await direct.query('TRUNCATE sink_probe');
    const dir = join(root, `dead-${target.kind}`);
    const sink = openSink(dir, direct);
    assert.equal(await sink.submit('probe', { k: 1 }), 'written');
    assert.equal(await sink.submit('probe', { k: 'not-a-number' }), 'rejected');
    assert.equal(await sink.submit('probe', { k: 2 }), 'written');
    assert.equal(sink.stats().deadLetteredTotal, 1);
    const dead = readFileSync(join(dir, 'dead-letter.ndjson'), 'utf8').trim().split('\n');
    assert.equal(dead.length, 1);
    assert.equal(JSON.parse(dead[0] as string).payload.k, 'not-a-number');
    assert.equal(JSON.parse(dead[0] as string).sqlstate, '22P02');
    const order = await direct.query<{ k: number }>('SELECT k FROM sink_probe ORDER BY id');
    assert.deepEqual(
      order.rows.map((r) => r.k),
      [1, 2],
    );
    await assert.rejects(
      sink.submit('unknown_kind', {}),
      /no spool handler registered for kind 'unknown_kind'/,
    );
    await sink.close();
  });
});
