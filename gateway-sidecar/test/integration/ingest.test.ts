/**
 * The ingest pipeline on real parts: CSV replay source -> EventValidator -> critical bypass ->
 * fallback detector -> bronze/silver through the resilient sink -> Recommendations on Postgres,
 * with the HTTP app serving the SSE stream. Checks: bad events are rejected and counted per
 * reason without losing the others; an emergency crossing becomes a critical_alerts row and
 * reaches an SSE client; the checkpoint records the last source timestamp; a second pipeline on
 * the same database resumes after it and writes nothing twice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CsvReplayTagSource } from '../../src/adapters/csv-replay-tag-source.ts';
import { EventBatcher, registerEventKinds } from '../../src/adapters/event-batcher.ts';
import { PgEventWriter } from '../../src/adapters/pg-event-sink.ts';
import { PgCheckpointStore } from '../../src/adapters/pg-checkpoint-store.ts';
import { ResilientSink } from '../../src/adapters/resilient-sink.ts';
import { FallbackDetector } from '../../src/app/fallback-detector.ts';
import { IngestPipeline } from '../../src/app/ingest.ts';
import type { Change } from '../../src/app/recommendation-service.ts';
import { CriticalDetector } from '../../src/domain/critical.ts';
import { EventValidator } from '../../src/domain/tag-event.ts';
import { createLogger } from '../../src/log.ts';
import { systemClock } from '../../src/ports.ts';
import { auth, startApiHarness, TOKENS, type ApiHarness } from '../fixtures/api-harness.ts';
import { openSse } from '../fixtures/sse-client.ts';

const T0 = Date.UTC(2026, 0, 6, 8, 0, 0);

/** 120 rows at 1 s: reactor temperature normal, one emergency sample at row 100, a bad row, an unknown column. */
function csvText(): string {
  const lines = ['timestamp,Reactors/R01/Temperature,Reactors/R01/CoolantFlow,Unknown/Tag'];
  for (let i = 0; i < 120; i++) {
    const temp = i === 100 ? 96.5 : i === 50 ? 500 : 70 + Math.sin(i / 7);
    lines.push(`${new Date(T0 + i * 1000).toISOString()},${temp},${30 + Math.cos(i / 5)},1`);
  }
  return lines.join('\n');
}

describe('ingest pipeline', () => {
  let h: ApiHarness;
  const dir = mkdtempSync(join(tmpdir(), 'ingest-'));
  before(async () => {
    h = await startApiHarness();
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pipeline(): {
    ingest: IngestPipeline;
    source: CsvReplayTagSource;
    done: Promise<void>;
    close(): Promise<void>;
  } {
    const logger = createLogger({ level: 'silent' });
    const sink = new ResilientSink({ dir: join(dir, 'spool'), logger });
    registerEventKinds(sink, new PgEventWriter(h.pool));
    sink.start();
    const batcher = new EventBatcher(sink);
    const source = new CsvReplayTagSource({
      text: csvText(),
      pace: 'fast',
      tagPrefix: '[default]',
      rowsPerBatch: 10,
      clock: { now: () => T0 + 200_000 },
    });
    const done = new Promise<void>((resolve) => source.onStateChange((s) => s === 'finished' && resolve()));
    const ingest = new IngestPipeline({
      source,
      validator: new EventValidator(h.index),
      critical: h.recs.criticalBypass(new CriticalDetector()),
      detector: new FallbackDetector(),
      sink: { write: (bronze, silver) => batcher.writeReadings(bronze, silver) },
      recommendations: h.recs,
      modes: h.recs,
      setpoints: h.recs,
      checkpoints: new PgCheckpointStore(h.pool),
      observer: h.metrics,
      clock: systemClock,
      logger,
    });
    return {
      ingest,
      source,
      done,
      async close() {
        await ingest.stop();
        await batcher.close();
        await sink.close();
      },
    };
  }

  test('bad events are counted per reason; an emergency reaches SSE and critical_alerts; the checkpoint is saved', async () => {
    const stream = await openSse(`${h.base}/api/stream`, auth(TOKENS.viewer));
    await stream.waitForComment((c) => c === 'ready');
    const p = pipeline();
    try {
      await p.ingest.start();
      await p.done;
      const alertEvent = await stream.next((e) => e.event === 'critical_alert');
      const alert = (JSON.parse(alertEvent.data) as Change).alert;
      assert.equal(alert?.tagPath, '[default]Reactors/R01/Temperature');
      assert.equal(alert?.value, 96.5);
      assert.equal(alert?.at, new Date(T0 + 100_000).toISOString());
    } finally {
      stream.close();
      await p.close();
    }
    const metrics = await (await fetch(`${h.base}/metrics`)).text();
    assert.match(metrics, /sidecar_events_rejected_total\{reason="unknown_tag"\} 120/);
    assert.match(metrics, /sidecar_events_rejected_total\{reason="out_of_engineering_range"\} 1/);
    assert.match(metrics, /sidecar_events_accepted_total 239/);
    const bronze = await h.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM mining_operations.sensor_stream_bronze',
    );
    assert.equal(
      Number(bronze.rows[0]?.n),
      239,
      'every good event stored once, the bad ones cost only themselves',
    );
    const alerts = await h.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM mining_operations.critical_alerts',
    );
    assert.equal(Number(alerts.rows[0]?.n), 1);
    assert.equal(await new PgCheckpointStore(h.pool).load(p.source.name), T0 + 119_000);
  });

  test('a second run on the same database resumes after the checkpoint and writes nothing twice', async () => {
    const before = await h.pool.query<{ n: string }>(
      'SELECT (SELECT count(*) FROM mining_operations.sensor_stream_bronze) + (SELECT count(*) FROM agentic_hmi.recommendation_changes) AS n',
    );
    const p = pipeline();
    try {
      await p.ingest.start();
      assert.equal(p.ingest.status().checkpoint, T0 + 119_000);
      await p.done;
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      await p.close();
    }
    const afterRun = await h.pool.query<{ n: string }>(
      'SELECT (SELECT count(*) FROM mining_operations.sensor_stream_bronze) + (SELECT count(*) FROM agentic_hmi.recommendation_changes) AS n',
    );
    assert.equal(afterRun.rows[0]?.n, before.rows[0]?.n, 'no new bronze rows, no new changes');
  });
});
