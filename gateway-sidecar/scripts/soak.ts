/**
 * `npm run soak [-- --minutes 10 --rate 5000 --sample-seconds 5 --max-batch 2000]` (opt-in, not part of npm test).
 *
 * Writes bench/soak-results.json (every sample) and merges the summary into bench/results.json
 * (gateway-sidecar/bench and the repository root) under the key `soak`: achieved rate, RSS at
 * start/end and its slope, loop-delay p50/p99 per minute, and the load generator's time split
 * (bench/load-generator.ts, shared with the e2e bench) that says whether it or the pipeline was the
 * bottleneck.
 *
 * Drives the real pipeline in this process (validator -> critical bypass -> features + ONNX
 * ensemble -> resilient sink -> bronze/silver in Postgres -> recommendations -> SSE-capable API)
 * at a paced rate from the seeded plant simulator, on a fresh database at 127.0.0.1:5432. Every few
 * seconds it samples RSS, heap and event-loop delay (perf_hooks.monitorEventLoopDelay, reset per
 * sample), prints a table, and writes bench/soak-results.json with the samples and a verdict on
 * whether RSS and lag stayed flat (last third vs first third after warm-up). If the pipeline cannot
 * keep up, the backlog stays at the source (as with a real OPC UA or MQTT queue) and shows as
 * achieved < offered events/s and a growing `behind_s`, not as unbounded batches.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { runMigrations } from '../src/adapters/pg-migrations.ts';
import { createPgPool } from '../src/adapters/pg-pool.ts';
import { SidecarMetrics } from '../src/adapters/prom-metrics.ts';
import type { IngestObserver } from '../src/app/ingest.ts';
import { parseConfig } from '../src/config.ts';
import { CriticalDetector } from '../src/domain/critical.ts';
import { PlantSimulator } from '../src/domain/plant-simulator.ts';
import { EventValidator } from '../src/domain/tag-event.ts';
import { createTestDatabase } from '../test/fixtures/pg.ts';
import { PacedPlantSource } from '../bench/load-generator.ts';
import { openBenchStack } from '../bench/bench-stack.ts';
import { mergeBenchResults } from '../bench/results-file.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0)
    throw new Error(`--${name} must be a positive number, got '${process.argv[i + 1]}'`);
  return v;
}

const MINUTES = arg('minutes', 10);
const RATE = arg('rate', 5_000);
const SAMPLE_S = arg('sample-seconds', 5);
/** Largest batch handed over at once, like a real source's maxBatch; a backlog stays at the source. */
const MAX_BATCH = arg('max-batch', 2_000);
const WARMUP_S = Math.min(30, (MINUTES * 60) / 6);

interface Sample {
  t_s: number;
  events: number;
  events_per_s: number;
  rss_mb: number;
  heap_mb: number;
  lag_p50_ms: number;
  lag_p99_ms: number;
  lag_max_ms: number;
  behind_s: number;
}

interface MinuteFigures {
  minute: number;
  events_per_s: number;
  lag_p50_ms: number;
  lag_p99_ms: number;
  lag_max_ms: number;
  rss_mb: number;
}

/** Least-squares slope of rss_mb against t_s, in MB per minute. */
function rssSlopeMbPerMin(xs: readonly Sample[]): number {
  if (xs.length < 2) return Number.NaN;
  const n = xs.length;
  const mt = xs.reduce((a, s) => a + s.t_s, 0) / n;
  const mr = xs.reduce((a, s) => a + s.rss_mb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of xs) {
    num += (s.t_s - mt) * (s.rss_mb - mr);
    den += (s.t_s - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : (s[Math.floor(s.length / 2)] as number);
};
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

const db = await createTestDatabase('sc_soak');
const dataDir = mkdtempSync(join(tmpdir(), 'soak-'));
const pool = createPgPool({
  url: db.url,
  ssl: 'disable',
  poolMax: 10,
  connectionTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  idleTimeoutMs: 10_000,
});
const samples: Sample[] = [];
try {
  await runMigrations(pool);
  const config = parseConfig({ dataDir });
  const plant = new PlantSimulator({ seed: 5, tickMs: 1000, startMs: Date.now(), faultEveryMinutes: 2 });
  const stack = await openBenchStack(pool, config, plant, dataDir);
  const { index, recs } = stack;
  const validator = new EventValidator(index);
  const source = new PacedPlantSource({
    name: 'soak-plant',
    plant,
    eventsPerSecond: RATE,
    maxBatch: MAX_BATCH,
    sourceTime: 'tick',
    idleSleepMs: 2,
  });
  // Counts what the pipeline reports (accepted = live sensor readings, each one bronze row) and
  // forwards to the real metrics.
  const metrics = new SidecarMetrics();
  const counted = { sensorsAccepted: 0, rejected: {} as Record<string, number> };
  const observer: IngestObserver = {
    accepted: (n) => {
      counted.sensorsAccepted += n;
      metrics.accepted(n);
    },
    rejected: (reason) => {
      counted.rejected[reason] = (counted.rejected[reason] ?? 0) + 1;
      metrics.rejected(reason);
    },
    scored: (n, a) => metrics.scored(n, a),
    recommendationLatency: (ms, c) => metrics.recommendationLatency(ms, c),
    batch: (size, ms) => metrics.batch(size, ms),
    stageRetry: (stage) => metrics.stageRetry(stage),
  };
  const ingest = stack.ingest({
    source,
    validator,
    critical: recs.criticalBypass(new CriticalDetector()),
    observer,
  });

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  // A second histogram, reset each minute, for the per-minute loop-delay figures.
  const minuteLag = monitorEventLoopDelay({ resolution: 10 });
  minuteLag.enable();
  const perMinute: MinuteFigures[] = [];
  let minuteStart = performance.now();
  let minuteEvents = 0;
  const rssStartMb = round(process.memoryUsage().rss / 2 ** 20);
  const started = performance.now();
  let lastEvents = 0;
  let lastT = started;
  process.stdout.write(
    `soak: ${MINUTES} min at ${RATE} events/s, sample every ${SAMPLE_S} s (node ${process.version}, ${cpus().length} cores)\n`,
  );
  process.stdout.write('   t_s    events  ev/s   rss_mb  heap_mb  lag_p50  lag_p99  lag_max  behind_s\n');
  await ingest.start();
  while (performance.now() - started < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
    const now = performance.now();
    const mem = process.memoryUsage();
    const s: Sample = {
      t_s: round((now - started) / 1000, 0),
      events: source.delivered,
      events_per_s: Math.round(((source.delivered - lastEvents) / (now - lastT)) * 1000),
      rss_mb: round(mem.rss / 2 ** 20),
      heap_mb: round(mem.heapUsed / 2 ** 20),
      lag_p50_ms: round(lag.percentile(50) / 1e6, 2),
      lag_p99_ms: round(lag.percentile(99) / 1e6, 2),
      lag_max_ms: round(lag.max / 1e6, 2),
      behind_s: round(source.behindS(), 1),
    };
    lag.reset();
    lastEvents = source.delivered;
    lastT = now;
    samples.push(s);
    if (now - minuteStart >= 60_000 - SAMPLE_S * 500) {
      perMinute.push({
        minute: perMinute.length + 1,
        events_per_s: Math.round(((source.delivered - minuteEvents) / (now - minuteStart)) * 1000),
        lag_p50_ms: round(minuteLag.percentile(50) / 1e6, 2),
        lag_p99_ms: round(minuteLag.percentile(99) / 1e6, 2),
        lag_max_ms: round(minuteLag.max / 1e6, 2),
        rss_mb: s.rss_mb,
      });
      minuteLag.reset();
      minuteStart = now;
      minuteEvents = source.delivered;
    }
    process.stdout.write(
      `${String(s.t_s).padStart(6)} ${String(s.events).padStart(9)} ${String(s.events_per_s).padStart(5)} ${s.rss_mb.toFixed(1).padStart(8)} ${s.heap_mb.toFixed(1).padStart(8)} ${s.lag_p50_ms.toFixed(2).padStart(8)} ${s.lag_p99_ms.toFixed(2).padStart(8)} ${s.lag_max_ms.toFixed(2).padStart(8)} ${s.behind_s.toFixed(1).padStart(9)}\n`,
    );
  }
  const load = source.stats();
  await ingest.stop();
  lag.disable();
  minuteLag.disable();
  await stack.close();

  const count = async (sql: string): Promise<number> =>
    Number((await pool.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const bronze = await count('SELECT count(*) AS n FROM mining_operations.sensor_stream_bronze');
  const silver = await count('SELECT count(*) AS n FROM mining_operations.anomaly_detection_silver');
  const recommendations = await count('SELECT count(*) AS n FROM agentic_hmi.agent_recommendations');
  const steady = samples.filter((s) => s.t_s > WARMUP_S);
  const third = Math.max(1, Math.floor(steady.length / 3));
  const first = steady.slice(0, third);
  const lastPart = steady.slice(-third);
  const rssGrowth =
    (median(lastPart.map((s) => s.rss_mb)) - median(first.map((s) => s.rss_mb))) /
    median(first.map((s) => s.rss_mb));
  const slope = rssSlopeMbPerMin(steady.length >= 2 ? steady : samples);
  const summary = {
    minutes: MINUTES,
    offered_events_per_s: RATE,
    achieved_events_per_s: Math.round(source.delivered / (MINUTES * 60)),
    rss_mb_start: rssStartMb,
    rss_mb_end: samples.at(-1)?.rss_mb ?? Number.NaN,
    /** Least-squares slope of RSS over the samples after warm-up, MB per minute. */
    rss_slope_mb_per_min: round(slope, 2),
    per_minute: perMinute,
    /**
     * Where the wall time went, from the load generator's side: building batches (its own cost),
     * awaiting the pipeline with a batch, waiting for events to become due. pipeline ≈ 100 % and
     * idle ≈ 0 mean the sidecar pipeline, not the generator, sets the achieved rate.
     */
    generator_pct: round((load.generateMs / load.elapsedMs) * 100),
    pipeline_pct: round((load.pipelineMs / load.elapsedMs) * 100),
    idle_pct: round((load.idleMs / load.elapsedMs) * 100),
    batches: load.batches,
    mean_batch: Math.round(load.delivered / Math.max(1, load.batches)),
    events: source.delivered,
    accepted: validator.acceptedCount,
    rejected_by_reason: counted.rejected,
    sensor_readings_accepted: counted.sensorsAccepted,
    /** Each accepted sensor reading becomes one bronze row: equal counts mean nothing was lost or doubled. */
    bronze_rows: bronze,
    bronze_equals_accepted: bronze === counted.sensorsAccepted,
    silver_rows: silver,
    recommendations,
    warmup_s: WARMUP_S,
    rss_mb_first_third_median: median(first.map((s) => s.rss_mb)),
    rss_mb_last_third_median: median(lastPart.map((s) => s.rss_mb)),
    rss_growth_pct: round(rssGrowth * 100),
    heap_mb_first_third_median: median(first.map((s) => s.heap_mb)),
    heap_mb_last_third_median: median(lastPart.map((s) => s.heap_mb)),
    lag_p99_ms_first_third_median: median(first.map((s) => s.lag_p99_ms)),
    lag_p99_ms_last_third_median: median(lastPart.map((s) => s.lag_p99_ms)),
    lag_max_ms: Math.max(...samples.map((s) => s.lag_max_ms)),
    behind_s_at_end: samples.at(-1)?.behind_s ?? 0,
    max_batch: MAX_BATCH,
    conditions: {
      node: process.version,
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      load_average_1m_at_end: round(loadavg()[0] as number),
      sample_seconds: SAMPLE_S,
      at: new Date().toISOString(),
    },
  };
  const out = fileURLToPath(new URL('../bench/soak-results.json', import.meta.url));
  writeFileSync(out, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
  // The headline figures also go to bench/results.json (both copies) under `soak`.
  const written = mergeBenchResults({ soak: summary });
  process.stdout.write(
    `${JSON.stringify(summary, null, 2)}\nwritten to ${out} and ${written.join(', ')} (key "soak")\n`,
  );
} finally {
  await pool.end();
  await db.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
