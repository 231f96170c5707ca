/**
 * Data retention on Postgres / Lakebase (migration 041, docs/retention.md). One run:
 *  1. creates the daily (raw) and monthly (aggregate) partitions ahead of time, moving any rows
 *     that already sit in the DEFAULT partition for that range;
 *  2. recomputes the per-sensor 1-minute aggregates of the recent minutes (late events included);
 *  3. for every raw partition past its retention: aggregates it once more, copies rows near an
 *     anomaly or critical alert into the *_anomaly_context tables, then drops the partition
 *     (old rows in the DEFAULT partition get the same treatment, then are deleted);
 *  4. prunes the context tables, old aggregate partitions and pipeline_metrics by age.
 * Only the tables in PRUNABLE are ever deleted from or dropped; recommendations, their audit,
 * labels, alerts and notifications are never touched (a test checks it).
 */
import type pg from 'pg';

export interface RetentionSettings {
  readonly bronzeDays: number;
  readonly silverDays: number;
  readonly aggregatesDays: number;
  readonly anomalyContextMinutes: number;
  readonly anomalyContextDays: number;
  readonly pipelineMetricsDays: number;
  readonly partitionsAheadDays: number;
  readonly aggregateLookbackMinutes: number;
}

/** What one run did (mutable while the run fills it in). */
export interface RetentionReport {
  partitionsCreated: string[];
  partitionsDropped: string[];
  rowsMovedFromDefault: number;
  minuteAggregatesWritten: number;
  contextRowsKept: number;
  rowsDeleted: Record<string, number>;
}

type Granularity = 'day' | 'month';

interface PartitionedTable {
  readonly schema: string;
  readonly name: string;
  readonly column: string;
  readonly granularity: Granularity;
  readonly keepDays: (s: RetentionSettings) => number;
}

const BRONZE: PartitionedTable = {
  schema: 'mining_operations',
  name: 'sensor_stream_bronze',
  column: 'source_timestamp',
  granularity: 'day',
  keepDays: (s) => s.bronzeDays,
};
const SILVER: PartitionedTable = {
  schema: 'mining_operations',
  name: 'anomaly_detection_silver',
  column: 'timestamp',
  granularity: 'day',
  keepDays: (s) => s.silverDays,
};
const AGGREGATES: PartitionedTable = {
  schema: 'mining_operations',
  name: 'sensor_minute_aggregates',
  column: 'minute_timestamp',
  granularity: 'month',
  keepDays: (s) => s.aggregatesDays,
};

/** The only tables retention may delete from or drop partitions of. */
export const PRUNABLE: ReadonlySet<string> = new Set([
  'mining_operations.sensor_stream_bronze',
  'mining_operations.anomaly_detection_silver',
  'mining_operations.sensor_minute_aggregates',
  'mining_operations.sensor_stream_bronze_anomaly_context',
  'mining_operations.anomaly_detection_silver_anomaly_context',
  'mining_operations.pipeline_metrics',
]);

function guard(qualified: string): string {
  if (!PRUNABLE.has(qualified))
    throw new Error(`retention refuses to prune '${qualified}': not a prunable table`);
  return qualified;
}

const DAY_MS = 86_400_000;

function startOf(ms: number, g: Granularity): number {
  const d = new Date(ms);
  return g === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function next(ms: number, g: Granularity): number {
  const d = new Date(ms);
  return g === 'day' ? ms + DAY_MS : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Partition name for the range starting at `fromMs`: sensor_stream_bronze_p20261129 / _m202611. */
export function partitionName(t: PartitionedTable, fromMs: number): string {
  const iso = new Date(fromMs).toISOString();
  return t.granularity === 'day'
    ? `${t.name}_p${iso.slice(0, 10).replaceAll('-', '')}`
    : `${t.name}_m${iso.slice(0, 7).replace('-', '')}`;
}

const NAME_RE = /_(p)(\d{4})(\d{2})(\d{2})$|_(m)(\d{4})(\d{2})$/;

function rangeOfName(t: PartitionedTable, name: string): { from: number; to: number } | undefined {
  if (!name.startsWith(`${t.name}_`)) return undefined;
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const from = m[1]
    ? Date.UTC(Number(m[2]), Number(m[3]) - 1, Number(m[4]))
    : Date.UTC(Number(m[6]), Number(m[7]) - 1, 1);
  return { from, to: next(from, t.granularity) };
}

const lit = (ms: number): string => `'${new Date(ms).toISOString()}'`;

async function partitionsOf(db: pg.PoolClient, t: PartitionedTable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = $1 AND p.relname = $2`,
    [t.schema, t.name],
  );
  return rows.map((r) => r.name);
}

async function inTransaction<T>(db: pg.PoolClient, fn: () => Promise<T>): Promise<T> {
  await db.query('BEGIN');
  try {
    const result = await fn();
    await db.query('COMMIT');
    return result;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Creates the partition for [from, to), moving rows the DEFAULT partition already holds for it. */
async function createPartition(db: pg.PoolClient, t: PartitionedTable, from: number): Promise<number> {
  const to = next(from, t.granularity);
  const parent = `${t.schema}.${t.name}`;
  const part = `${t.schema}.${partitionName(t, from)}`;
  const def = `${t.schema}.${t.name}_default`;
  return inTransaction(db, async () => {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${def} WHERE ${t.column} >= $1 AND ${t.column} < $2`,
      [new Date(from), new Date(to)],
    );
    const waiting = Number(rows[0]?.n ?? 0);
    if (waiting === 0) {
      await db.query(
        `CREATE TABLE ${part} PARTITION OF ${parent} FOR VALUES FROM (${lit(from)}) TO (${lit(to)})`,
      );
      return 0;
    }
    // Attaching a range the default partition still holds rows for fails, so move them first.
    await db.query(`CREATE TABLE ${part} (LIKE ${parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await db.query(
      `WITH moved AS (DELETE FROM ${def} WHERE ${t.column} >= $1 AND ${t.column} < $2 RETURNING *) INSERT INTO ${part} SELECT * FROM moved`,
      [new Date(from), new Date(to)],
    );
    await db.query(
      `ALTER TABLE ${parent} ATTACH PARTITION ${part} FOR VALUES FROM (${lit(from)}) TO (${lit(to)})`,
    );
    return waiting;
  });
}

/**
 * Recomputes the 1-minute aggregates of bronze rows in [fromMs, toMs) (whole minutes). Idempotent:
 * each minute is rebuilt from all its raw rows, so late events are included on the next run.
 */
export async function aggregateMinutes(
  db: pg.Pool | pg.PoolClient,
  fromMs: number,
  toMs: number,
): Promise<number> {
  const res = await db.query(
    `INSERT INTO mining_operations.sensor_minute_aggregates AS a
       (tag_path, minute_timestamp, equipment_id, sensor_type, sample_count, good_count, min_value, max_value,
        avg_value, sum_squares, first_value, last_value)
     SELECT tag_path, date_trunc('minute', source_timestamp), min(equipment_id), min(sensor_type), count(*),
            count(*) FILTER (WHERE quality = 'good'), min(sensor_value), max(sensor_value), avg(sensor_value),
            sum(sensor_value * sensor_value),
            (array_agg(sensor_value ORDER BY source_timestamp))[1],
            (array_agg(sensor_value ORDER BY source_timestamp DESC))[1]
       FROM mining_operations.sensor_stream_bronze
      WHERE source_timestamp >= $1 AND source_timestamp < $2
      GROUP BY tag_path, date_trunc('minute', source_timestamp)
     ON CONFLICT (tag_path, minute_timestamp) DO UPDATE SET
       equipment_id = EXCLUDED.equipment_id, sensor_type = EXCLUDED.sensor_type, sample_count = EXCLUDED.sample_count,
       good_count = EXCLUDED.good_count, min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value,
       avg_value = EXCLUDED.avg_value, sum_squares = EXCLUDED.sum_squares, first_value = EXCLUDED.first_value,
       last_value = EXCLUDED.last_value`,
    [new Date(Math.floor(fromMs / 60_000) * 60_000), new Date(Math.floor(toMs / 60_000) * 60_000)],
  );
  return res.rowCount ?? 0;
}

async function columnsOf(db: pg.PoolClient, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ c: string }>(
    `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  return rows.map((r) => r.c);
}

/** Copies rows of `t` in [from, to) that lie within ±minutes of an anomaly or critical alert on the same equipment. */
async function keepContext(
  db: pg.PoolClient,
  t: PartitionedTable,
  from: number,
  to: number,
  minutes: number,
): Promise<number> {
  if (minutes <= 0) return 0;
  const ctx = `${t.name}_anomaly_context`;
  const target = new Set(await columnsOf(db, t.schema, ctx));
  const cols = (await columnsOf(db, t.schema, t.name))
    .filter((c) => target.has(c))
    .map((c) => `"${c}"`)
    .join(', ');
  const res = await db.query(
    `INSERT INTO ${t.schema}.${ctx} (${cols})
     SELECT ${cols} FROM ${t.schema}.${t.name} r
      WHERE r.${t.column} >= $1 AND r.${t.column} < $2
        AND (EXISTS (SELECT 1 FROM mining_operations.anomaly_detection_silver s
                      WHERE s.is_anomaly AND s.equipment_id = r.equipment_id
                        AND s.timestamp BETWEEN r.${t.column} - $3 * INTERVAL '1 minute' AND r.${t.column} + $3 * INTERVAL '1 minute')
          OR EXISTS (SELECT 1 FROM mining_operations.critical_alerts a
                      WHERE a.equipment_id = r.equipment_id
                        AND a.alert_timestamp BETWEEN r.${t.column} - $3 * INTERVAL '1 minute' AND r.${t.column} + $3 * INTERVAL '1 minute'))
     ON CONFLICT (event_id) DO NOTHING`,
    [new Date(from), new Date(to), minutes],
  );
  return res.rowCount ?? 0;
}

async function deleteOlder(
  db: pg.PoolClient,
  qualified: string,
  column: string,
  cutoffMs: number,
): Promise<number> {
  const res = await db.query(`DELETE FROM ${guard(qualified)} WHERE ${column} < $1`, [new Date(cutoffMs)]);
  return res.rowCount ?? 0;
}

/** Runs one retention pass at `nowMs`. Safe to run from several processes: an advisory lock serialises runs. */
export async function runRetention(
  pool: pg.Pool,
  s: RetentionSettings,
  nowMs: number,
): Promise<RetentionReport> {
  const report: RetentionReport = {
    partitionsCreated: [],
    partitionsDropped: [],
    rowsMovedFromDefault: 0,
    minuteAggregatesWritten: 0,
    contextRowsKept: 0,
    rowsDeleted: {},
  };
  const db = await pool.connect();
  try {
    const { rows } = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(727411041) AS ok');
    if (!rows[0]?.ok) return report;
    try {
      await pass(db, s, nowMs, report);
    } finally {
      await db.query('SELECT pg_advisory_unlock(727411041)');
    }
  } finally {
    db.release();
  }
  return report;
}

async function pass(
  db: pg.PoolClient,
  s: RetentionSettings,
  nowMs: number,
  report: RetentionReport,
): Promise<void> {
  const add = (table: string, n: number): void => {
    report.rowsDeleted[table] = (report.rowsDeleted[table] ?? 0) + n;
  };
  for (const t of [BRONZE, SILVER, AGGREGATES]) {
    const existing = new Set(await partitionsOf(db, t));
    const horizon = nowMs + s.partitionsAheadDays * DAY_MS;
    for (
      let from = startOf(nowMs - DAY_MS, t.granularity);
      from <= horizon;
      from = next(from, t.granularity)
    ) {
      if (existing.has(partitionName(t, from))) continue;
      report.rowsMovedFromDefault += await createPartition(db, t, from);
      report.partitionsCreated.push(partitionName(t, from));
    }
  }
  // Never recompute minutes whose raw rows may already be pruned: that would shrink their counts.
  const bronzeCutoff = nowMs - s.bronzeDays * DAY_MS;
  report.minuteAggregatesWritten += await aggregateMinutes(
    db,
    Math.max(nowMs - s.aggregateLookbackMinutes * 60_000, bronzeCutoff),
    nowMs,
  );

  for (const t of [BRONZE, SILVER]) {
    const cutoff = nowMs - t.keepDays(s) * DAY_MS;
    for (const name of await partitionsOf(db, t)) {
      const range = rangeOfName(t, name);
      if (!range || range.to > cutoff) continue;
      await inTransaction(db, async () => {
        if (t === BRONZE) report.minuteAggregatesWritten += await aggregateMinutes(db, range.from, range.to);
        report.contextRowsKept += await keepContext(db, t, range.from, range.to, s.anomalyContextMinutes);
        guard(`${t.schema}.${t.name}`);
        await db.query(`DROP TABLE ${t.schema}.${name}`);
      });
      report.partitionsDropped.push(name);
    }
    // Stragglers in the DEFAULT partition (old replays): same treatment, row by row.
    await inTransaction(db, async () => {
      const { rows } = await db.query<{ lo: Date | null }>(
        `SELECT min(${t.column}) AS lo FROM ${t.schema}.${t.name}_default WHERE ${t.column} < $1`,
        [new Date(cutoff)],
      );
      const lo = rows[0]?.lo;
      if (!lo) return;
      if (t === BRONZE) report.minuteAggregatesWritten += await aggregateMinutes(db, lo.getTime(), cutoff);
      report.contextRowsKept += await keepContext(db, t, lo.getTime(), cutoff, s.anomalyContextMinutes);
      add(`${t.schema}.${t.name}`, await deleteOlder(db, `${t.schema}.${t.name}`, t.column, cutoff));
    });
  }

  const aggCutoff = nowMs - s.aggregatesDays * DAY_MS;
  for (const name of await partitionsOf(db, AGGREGATES)) {
    const range = rangeOfName(AGGREGATES, name);
    if (!range || range.to > aggCutoff) continue;
    await db.query(`DROP TABLE ${AGGREGATES.schema}.${name}`);
    report.partitionsDropped.push(name);
  }
  add(
    'mining_operations.sensor_minute_aggregates',
    await deleteOlder(db, 'mining_operations.sensor_minute_aggregates', 'minute_timestamp', aggCutoff),
  );
  const ctxCutoff = nowMs - s.anomalyContextDays * DAY_MS;
  add(
    'mining_operations.sensor_stream_bronze_anomaly_context',
    await deleteOlder(
      db,
      'mining_operations.sensor_stream_bronze_anomaly_context',
      'source_timestamp',
      ctxCutoff,
    ),
  );
  add(
    'mining_operations.anomaly_detection_silver_anomaly_context',
    await deleteOlder(
      db,
      'mining_operations.anomaly_detection_silver_anomaly_context',
      'timestamp',
      ctxCutoff,
    ),
  );
  add(
    'mining_operations.pipeline_metrics',
    await deleteOlder(
      db,
      'mining_operations.pipeline_metrics',
      'metric_timestamp',
      nowMs - s.pipelineMetricsDays * DAY_MS,
    ),
  );
}

/**
 * Runs retention every `intervalMs` (first run at once) until stopped. A failed run is reported to
 * `onError` and retried at the next interval; runs never overlap.
 */
export function scheduleRetention(
  pool: pg.Pool,
  settings: RetentionSettings,
  options: {
    intervalMs: number;
    now: () => number;
    onReport?: (r: RetentionReport) => void;
    onError?: (err: unknown) => void;
    /** Delay before the first run (default 0: at once). */
    firstRunAfterMs?: number;
  },
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = (): void => {
    if (running) return;
    running = runRetention(pool, settings, options.now())
      .then((r) => options.onReport?.(r))
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        running = undefined;
      });
  };
  let timer: NodeJS.Timeout | undefined;
  const begin = (): void => {
    run();
    timer = setInterval(run, options.intervalMs);
    timer.unref();
  };
  const delayMs = options.firstRunAfterMs ?? 0;
  const first = delayMs > 0 ? setTimeout(begin, delayMs) : undefined;
  if (first === undefined) begin();
  else first.unref();
  return {
    async stop(): Promise<void> {
      if (first !== undefined) clearTimeout(first);
      if (timer !== undefined) clearInterval(timer);
      await running;
    },
  };
}
