/**
 * Runs one retention pass against the configured database and prints what it did as JSON
 * (docs/retention.md). With --measure, prints the measured bytes per row of each large table
 * instead, so a site can price its own retention settings.
 *
 *   npx tsx src/cli/retention.ts [--config FILE] [--measure]
 *
 * Exit codes: 0 done, 1 failed (the error code and message are printed on stderr), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../adapters/db.ts';
import { runRetention } from '../adapters/pg-retention.ts';
import { createLogger } from '../log.ts';
import { exitWith } from './exit-with.ts';

const MEASURED = [
  'mining_operations.sensor_stream_bronze',
  'mining_operations.anomaly_detection_silver',
  'mining_operations.sensor_minute_aggregates',
  'mining_operations.sensor_stream_bronze_anomaly_context',
  'mining_operations.anomaly_detection_silver_anomaly_context',
  'agentic_hmi.agent_recommendations',
  'agentic_hmi.recommendation_audit',
  'agentic_hmi.notifications',
  'agentic_hmi.notification_deliveries',
];

/** Rows, total bytes (heap + TOAST + indexes, all partitions) and bytes per row of each table. */
export async function measureTables(
  pool: pg.Pool,
): Promise<{ table: string; rows: number; totalBytes: number; bytesPerRow: number | null }[]> {
  const out: { table: string; rows: number; totalBytes: number; bytesPerRow: number | null }[] = [];
  for (const table of MEASURED) {
    const exists = await pool.query<{ r: string | null }>('SELECT to_regclass($1)::text AS r', [table]);
    if (!exists.rows[0]?.r) continue;
    const { rows } = await pool.query<{ rows: string; bytes: string }>(
      `SELECT (SELECT count(*) FROM ${table}) AS rows,
              (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree($1::regclass)) AS bytes`,
      [table],
    );
    const n = Number(rows[0]?.rows ?? 0);
    const bytes = Number(rows[0]?.bytes ?? 0);
    out.push({ table, rows: n, totalBytes: bytes, bytesPerRow: n > 0 ? Math.round(bytes / n) : null });
  }
  return out;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: { config: { type: 'string' }, measure: { type: 'boolean', default: false } },
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: retention [--config FILE] [--measure]\n`);
    return 2;
  }
  const config = loadConfig(process.env, args.values.config);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    name: 'retention',
  });
  const db = await openDatabase(config, logger, { applicationName: 'ignition-ai-retention' });
  try {
    const result = args.values.measure
      ? await measureTables(db.pool)
      : await runRetention(db.pool, config.retention, Date.now());
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

exitWith(main);
