/**
 * Sink throughput against the real Postgres at 127.0.0.1:5432 (a scratch database, dropped after):
 *   sink_rows_per_s           bronze + silver rows/s through the production path (EventBatcher ->
 *                             ResilientSink -> PgEventWriter, unnest + ON CONFLICT), batches of 500
 *   sink_bronze_rows_per_s    PgEventWriter.writeBronze alone, batches of 500
 *   sink_silver_rows_per_s    PgEventWriter.writeSilver alone (jsonb features), batches of 500
 *   sink_replay_rows_per_s    re-writing rows already present (every row conflicts): a spool replay
 *   spool_append_batches_per_s  journal appends of 500-row bronze batches, each fsync'd
 * BENCH_SINK_ROWS sets the rows per measurement (default 100,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBatcher, registerEventKinds } from '../src/adapters/event-batcher.ts';
import { PgEventWriter } from '../src/adapters/pg-event-sink.ts';
import { runMigrations } from '../src/adapters/pg-migrations.ts';
import { createPgPool } from '../src/adapters/pg-pool.ts';
import { ResilientSink } from '../src/adapters/resilient-sink.ts';
import { SpoolJournal } from '../src/adapters/spool-journal.ts';
import { createLogger } from '../src/log.ts';
import { bronzeRows, silverRows } from '../test/fixtures/event-rows.ts';
import { createTestDatabase } from '../test/fixtures/pg.ts';

const BATCH = 500;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function run(): Promise<Record<string, number | string>> {
  const rows = Number(process.env.BENCH_SINK_ROWS ?? 100_000);
  const db = await createTestDatabase('sc_bench_sink');
  const pool = createPgPool({
    url: db.url,
    ssl: 'disable',
    poolMax: 4,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 120_000,
    idleTimeoutMs: 10_000,
  });
  const dir = mkdtempSync(join(tmpdir(), 'sc-bench-sink-'));
  try {
    await runMigrations(pool);
    const writer = new PgEventWriter(pool);
    const end = Date.now();
    const bronze = bronzeRows(rows, end);
    const silver = silverRows(bronze, 50);

    const bronzeS = await timed(async () => {
      for (let i = 0; i < rows; i += BATCH) await writer.writeBronze(bronze.slice(i, i + BATCH));
    });
    const silverS = await timed(async () => {
      for (let i = 0; i < rows; i += BATCH) await writer.writeSilver(silver.slice(i, i + BATCH));
    });
    const replayS = await timed(async () => {
      for (let i = 0; i < rows; i += BATCH) await writer.writeBronze(bronze.slice(i, i + BATCH));
    });

    // Production path on fresh ids (a later stretch of the same stream).
    const sink = new ResilientSink({ dir: join(dir, 'spool'), logger: createLogger({ level: 'silent' }) });
    registerEventKinds(sink, writer);
    sink.start();
    const batcher = new EventBatcher(sink, { batchRows: BATCH });
    const b2 = bronzeRows(rows, end, rows);
    const s2 = silverRows(b2, 50);
    const pathS = await timed(async () => {
      for (let i = 0; i < rows; i += 100) await batcher.add(b2.slice(i, i + 100), s2.slice(i, i + 100));
      await batcher.flush();
    });
    await sink.close();

    const journal = SpoolJournal.open({ dir: join(dir, 'journal'), maxBytes: 1 << 30 });
    const appends = Math.min(200, Math.ceil(rows / BATCH));
    const spoolS = await timed(async () => {
      for (let i = 0; i < appends; i++)
        journal.append([{ kind: 'bronze', payload: bronze.slice(i * BATCH, (i + 1) * BATCH) }]);
    });
    journal.close();

    return {
      sink_rows_per_s: Math.round((2 * rows) / pathS),
      sink_bronze_rows_per_s: Math.round(rows / bronzeS),
      sink_silver_rows_per_s: Math.round(rows / silverS),
      sink_replay_rows_per_s: Math.round(rows / replayS),
      spool_append_batches_per_s: Math.round(appends / spoolS),
      sink_rows: rows,
      sink_batch_rows: BATCH,
    };
  } finally {
    await pool.end();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
