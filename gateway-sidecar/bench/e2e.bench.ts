/**
 * End-to-end latency on the real stack: tag event -> features + ONNX ensemble -> recommendation
 * committed in Postgres (127.0.0.1:5432) -> pushed to an SSE client over HTTP; and the critical
 * bypass: emergency value -> SSE push from memory (the critical_alerts row follows; see
 * src/app/critical-push.ts). Offered load 1,000 and 10,000
 * events/s from the seeded plant (faults injected often so recommendations keep changing).
 *
 * Latency of one push = time the SSE client parsed it - receive time of the newest event behind
 * it (events are stamped with the wall clock when the bench source hands them over).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { createHttpApp } from '../src/adapters/http/create-http-app.ts';
import { runMigrations } from '../src/adapters/pg-migrations.ts';
import { createPgPool } from '../src/adapters/pg-pool.ts';
import { SidecarMetrics } from '../src/adapters/prom-metrics.ts';
import type { CriticalBypass } from '../src/app/ingest.ts';
import type { Change } from '../src/app/recommendation-service.ts';
import { parseConfig } from '../src/config.ts';
import { CriticalDetector, type CriticalAlertCandidate } from '../src/domain/critical.ts';
import { PlantSimulator } from '../src/domain/plant-simulator.ts';
import { EventValidator } from '../src/domain/tag-event.ts';
import { systemClock } from '../src/ports.ts';
import { createTestDatabase } from '../test/fixtures/pg.ts';
import { openSse } from '../test/fixtures/sse-client.ts';
import { PacedPlantSource } from './load-generator.ts';
import { openBenchStack } from './bench-stack.ts';

const TOKEN = 'bench-viewer-token-0123456789';
const EMERGENCY_TAG = '[default]Reactors/R01/Temperature';
/** Plant ticks between emergency readings (more ticks, fewer bypass samples for the p99). */
const EMERGENCY_EVERY = Number(process.env.BENCH_EMERGENCY_EVERY ?? 25);
/**
 * `push-first` (default): the shipped bypass (src/app/critical-push.ts). `write-first`: the bypass
 * as it was before, for A/B runs back to back: write the alert, then publish what was inserted.
 */
const BYPASS_MODE = process.env.BENCH_BYPASS_MODE ?? 'push-first';
if (BYPASS_MODE !== 'push-first' && BYPASS_MODE !== 'write-first')
  throw new Error(`BENCH_BYPASS_MODE must be push-first or write-first, got ${BYPASS_MODE}`);

async function runAt(eventsPerSecond: number, durationMs: number): Promise<Record<string, number>> {
  const db = await createTestDatabase('sc_bench_e2e');
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-e2e-'));
  const pool = createPgPool({
    url: db.url,
    ssl: 'disable',
    poolMax: 10,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 15000,
    idleTimeoutMs: 10000,
  });
  try {
    await runMigrations(pool);
    const config = parseConfig({
      auth: { tokens: [{ token: TOKEN, user: 'bench', roles: ['viewer'] }] },
      dataDir,
    });
    const plant = new PlantSimulator({ seed: 3, tickMs: 1000, startMs: Date.now(), faultEveryMinutes: 1 });
    const stack = await openBenchStack(pool, config, plant, dataDir);
    const { index, logger, recs, store } = stack;
    const metrics = new SidecarMetrics();
    const source = new PacedPlantSource({
      name: 'bench-plant',
      plant,
      eventsPerSecond,
      durationMs,
      sourceTime: 'now',
      // Alternate 95 (alert) and the normal value so the latch re-arms between emergencies.
      emergency: { tagPath: EMERGENCY_TAG, every: EMERGENCY_EVERY, value: 95 },
    });
    const pushFirst = recs.criticalBypass(new CriticalDetector());
    const writeFirst = new CriticalDetector();
    const critical: CriticalBypass<CriticalAlertCandidate> =
      BYPASS_MODE === 'push-first'
        ? pushFirst
        : {
            evaluate: (r) => writeFirst.evaluate(r),
            raise: async (alerts) => {
              for (const c of await store.appendCriticalAlerts(alerts)) recs.announce(c);
            },
          };
    const ingest = stack.ingest({
      source,
      validator: new EventValidator(index),
      critical,
      observer: metrics,
    });
    const bypassWritten = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 600_000_000,
      numberOfSignificantValueDigits: 3,
    });
    const app = createHttpApp({
      recommendations: recs,
      auth: config.auth,
      http: { ...config.http, rateLimitPerMinute: 1_000_000, sseMaxQueue: 100_000 },
      clock: systemClock,
      logger,
      health: async () => ({ status: 'ok', dependencies: {} }),
      metrics: () => metrics.render(),
      // Server side of the bypass latency: the moment the alert is written to the client's socket.
      sseObserver: {
        pushed: (change, nowMs) => {
          if (change.type === 'critical_alert' && change.alert)
            bypassWritten.recordValue(Math.max(1, (nowMs - Date.parse(change.alert.at)) * 1000));
        },
        clients: () => undefined,
      },
    });
    const server: Server = await new Promise((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const e2e = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 600_000_000,
      numberOfSignificantValueDigits: 3,
    });
    const bypass = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 600_000_000,
      numberOfSignificantValueDigits: 3,
    });
    const stream = await openSse(`${base}/api/stream`, { authorization: `Bearer ${TOKEN}` });
    await stream.waitForComment((c) => c === 'ready');
    let seen = 0;
    const drain = setInterval(() => {
      for (; seen < stream.events.length; seen++) {
        const ev = stream.events[seen];
        if (!ev) continue;
        const change = JSON.parse(ev.data) as Change;
        const now = ev.receivedAtMs;
        if (change.type === 'critical_alert' && change.alert)
          bypass.recordValue(Math.max(1, (now - Date.parse(change.alert.at)) * 1000));
        else if (change.recommendation)
          e2e.recordValue(Math.max(1, (now - Date.parse(change.recommendation.lastSeenAt)) * 1000));
      }
    }, 5);
    const started = Date.now();
    await ingest.start();
    await source.done();
    const elapsed = Date.now() - started;
    await ingest.stop();
    await recs.idle();
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(drain);
    stream.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await stack.close();
    const us = (h: hdr.Histogram, p: number): number => Math.round(h.getValueAtPercentile(p)) / 1000;
    return {
      offered_events_per_s: eventsPerSecond,
      achieved_events_per_s: Math.round((source.delivered / elapsed) * 1000),
      events: source.delivered,
      duration_ms: elapsed,
      recommendation_pushes: e2e.totalCount,
      e2e_p50_ms: us(e2e, 50),
      e2e_p99_ms: us(e2e, 99),
      bypass_pushes: bypass.totalCount,
      emergencies_injected: source.emergencies,
      bypass_p50_ms: us(bypass, 50),
      bypass_p99_ms: us(bypass, 99),
      bypass_written_p50_ms: us(bypassWritten, 50),
      bypass_written_p99_ms: us(bypassWritten, 99),
      bypass_pushed_early: pushFirst.push.stats().early,
      bypass_pushed_after_write: pushFirst.push.stats().afterWrite,
      bypass_reservation_misses: pushFirst.push.stats().misses,
      load_average_1m: loadavg()[0] ?? 0,
    };
  } finally {
    await pool.end();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, number | string>> {
  const durationMs = Number(process.env.BENCH_E2E_MS ?? 15_000);
  const low = await runAt(1_000, durationMs);
  const high = await runAt(10_000, durationMs);
  return {
    e2e_p50_ms: high.e2e_p50_ms as number,
    e2e_p99_ms: high.e2e_p99_ms as number,
    bypass_p99_ms: high.bypass_p99_ms as number,
    bypass_p50_ms: high.bypass_p50_ms as number,
    bypass_1k_p50_ms: low.bypass_p50_ms as number,
    e2e_1k_p50_ms: low.e2e_p50_ms as number,
    e2e_1k_p99_ms: low.e2e_p99_ms as number,
    bypass_1k_p99_ms: low.bypass_p99_ms as number,
    e2e_10k_achieved_events_per_s: high.achieved_events_per_s as number,
    e2e_1k_achieved_events_per_s: low.achieved_events_per_s as number,
    e2e_10k_recommendation_pushes: high.recommendation_pushes as number,
    e2e_10k_bypass_pushes: high.bypass_pushes as number,
    e2e_10k_emergencies_injected: high.emergencies_injected as number,
    /** Event -> alert written to the SSE socket (server side; the p50/p99 above are client receipt). */
    bypass_written_p99_ms: high.bypass_written_p99_ms as number,
    bypass_1k_written_p99_ms: low.bypass_written_p99_ms as number,
    e2e_10k_bypass_pushed_early: high.bypass_pushed_early as number,
    e2e_10k_bypass_reservation_misses: high.bypass_reservation_misses as number,
    e2e_1k_bypass_pushed_early: low.bypass_pushed_early as number,
    e2e_1k_bypass_reservation_misses: low.bypass_reservation_misses as number,
    e2e_10k_load_average_1m: high.load_average_1m as number,
    e2e_1k_load_average_1m: low.load_average_1m as number,
    e2e_duration_ms_each: durationMs,
    e2e_bypass_mode: BYPASS_MODE,
    e2e_emergency_every_ticks: EMERGENCY_EVERY,
    e2e_cores: cpus().length,
    e2e_node: process.version,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
