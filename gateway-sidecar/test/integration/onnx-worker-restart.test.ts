// The ONNX worker thread dies and comes back by itself (docs/performance.md, "Worker restart"): a
// real worker thread is made to die three ways (uncaught error, process.exit inside it, terminate)
// through the runner's documented diagnostic; runs in flight then are answered by the restarted
// thread with the scores they had before the death, bit for bit. Through createDetection + Detector
// + IngestPipeline on a CSV replay, two deaths mid-stream leave every reading scored exactly once,
// identical to a run without deaths, the restart counter at 2 and the cause in the log. Too many
// deaths within a minute leave the runner failed with SC_ERR_MODEL_WORKER and /health's model down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pino } from 'pino';
import {
  crashModelWorker,
  loadOnnxModelDir,
  workerHealthOf,
  type WorkerEvent,
} from '../../src/adapters/onnx-model-runner.ts';
import { CsvReplayTagSource } from '../../src/adapters/csv-replay-tag-source.ts';
import { SidecarMetrics } from '../../src/adapters/prom-metrics.ts';
import { Detector } from '../../src/app/detector.ts';
import { IngestPipeline } from '../../src/app/ingest.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import type { ScoredReading } from '../../src/domain/detection.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureEngine } from '../../src/domain/features.ts';
import { EventValidator } from '../../src/domain/tag-event.ts';
import { syntheticReading } from '../../src/ml/training-set.ts';
import { createDetection } from '../../src/main-detection.ts';
import { systemClock, type ModelOutputs, type ModelRunner } from '../../src/ports.ts';

const MODEL_DIR = resolve(import.meta.dirname, '../../../models/if-rf-ensemble/1.0.0');

/** Real feature rows: 600 readings of two sensors through the feature engine. */
function featureRows(): Float32Array {
  const engine = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const out = new Float32Array(600 * FEATURE_COUNT);
  for (let i = 0; i < 600; i++) {
    const t = i >> 1;
    const r =
      i % 2 === 0
        ? syntheticReading(
            'PUMP_02',
            'pressure',
            0,
            5 + 0.05 * Math.sin(t * 1.7) + (t > 200 ? 0.4 : 0),
            t * 1000,
          )
        : syntheticReading('PUMP_02', 'flow', 1, 40 + 0.3 * Math.cos(t * 0.9), t * 1000);
    engine.update(r, out, i * FEATURE_COUNT);
  }
  return out;
}

function codeOf(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

test('a worker thread that dies (uncaught error, process.exit, terminate) is restarted; runs in flight get the scores they had before, bit for bit', async () => {
  const x = featureRows();
  const events: WorkerEvent[] = [];
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, {
    thread: 'worker',
    workerRestart: { firstDelayMs: 20 },
    onWorkerEvent: (e) => events.push(e),
  });
  const inline = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'main' });
  const whole = await runner.run(x, 600);
  const tail = await runner.run(x.subarray(100 * FEATURE_COUNT), 200);
  assert.deepEqual(whole, await inline.run(x, 600), 'worker and inline agree before any death');
  assert.equal(workerHealthOf(runner)?.restarts, 0);
  assert.equal(workerHealthOf(inline), undefined, 'the inline runner has no thread to report');

  const causes = {
    throw: /its worker thread failed: Error: diagnostic crash requested, run \d+ left unanswered/,
    exit: /its worker thread exited \(code 70\)/,
    terminate: /its worker thread exited \(code 1\)/,
  };
  let k = 0;
  for (const how of ['throw', 'exit', 'terminate'] as const) {
    crashModelWorker(runner, how);
    // 'throw'/'exit': the first run kills the thread, the second waits behind it; both are in flight.
    const inFlight: Promise<ModelOutputs>[] = [
      runner.run(x, 600),
      runner.run(x.subarray(100 * FEATURE_COUNT), 200),
    ];
    const [a, b] = await Promise.all(inFlight);
    k++;
    assert.deepEqual(a, whole, `${how}: the run in flight at the death is scored as before`);
    assert.deepEqual(b, tail, `${how}: so is the one queued behind it`);
    const died = events.filter((e) => e.type === 'died');
    assert.equal(died.length, k, `${how}: one death reported`);
    const last = died[k - 1] as Extract<WorkerEvent, { type: 'died' }>;
    assert.match(last.cause, causes[how]);
    assert.equal(last.inFlight, 2, `${how}: both runs were in flight`);
    assert.equal(last.restarts, k);
    const h = workerHealthOf(runner);
    assert.equal(h?.state, 'up');
    assert.equal(h?.restarts, k);
    assert.match(String(h?.lastCause), causes[how]);
    // And the restarted thread keeps scoring new runs identically.
    assert.deepEqual(await runner.run(x, 600), whole, `${how}: next run after the restart`);
  }
  assert.deepEqual(
    events.filter((e) => e.type === 'restarted').map((e) => (e as { resent: number }).resent),
    [2, 2, 2],
    'each restarted thread was sent the two runs in flight',
  );
  assert.ok(!events.some((e) => e.type === 'failed'));
  await runner.close();
  await assert.rejects(
    runner.run(x, 1),
    (e: unknown) => codeOf(e) === 'SC_ERR_MODEL_LOAD' && /is closed/.test(String(e)),
  );
  assert.equal(workerHealthOf(runner)?.state, 'closed');
  assert.equal(events.length, 6, 'closing is not a death: nothing restarted after close()');
  await inline.close();
});

test('more deaths within a minute than allowed: runs in flight and later are rejected with SC_ERR_MODEL_WORKER naming the cause; the runner stays failed', async () => {
  const x = featureRows();
  const events: WorkerEvent[] = [];
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, {
    thread: 'worker',
    workerRestart: { firstDelayMs: 10, maxRestartsPerMinute: 2 },
    onWorkerEvent: (e) => events.push(e),
  });
  const before = await runner.run(x, 100);
  for (let i = 0; i < 2; i++) {
    crashModelWorker(runner, 'exit');
    assert.deepEqual(await runner.run(x, 100), before, `death ${i + 1} is within the cap`);
  }
  crashModelWorker(runner, 'throw');
  const inFlight = runner.run(x, 100);
  const queued = runner.run(x, 50);
  const isCapError = (e: unknown): boolean =>
    codeOf(e) === 'SC_ERR_MODEL_WORKER' &&
    /died 3 times within 60 s \(more than 2\); not restarting again/.test(String(e)) &&
    /Last cause: its worker thread failed: Error: diagnostic crash requested/.test(String(e));
  await assert.rejects(inFlight, isCapError);
  await assert.rejects(queued, isCapError);
  await assert.rejects(runner.run(x, 10), isCapError, 'later runs get the same clear error');
  const h = workerHealthOf(runner);
  assert.equal(h?.state, 'failed');
  assert.equal(h?.restarts, 2);
  assert.ok(h?.error !== undefined && isCapError(h.error));
  assert.deepEqual(
    events.map((e) => e.type),
    ['died', 'restarted', 'died', 'restarted', 'failed'],
  );
  assert.deepEqual(events[4], { type: 'failed', cause: h?.lastCause, rejected: 2 });
  assert.throws(
    () => crashModelWorker(runner, 'exit'),
    (e: unknown) =>
      codeOf(e) === 'SC_ERR_MODEL_WORKER' && /no worker thread is up \(failed\)/.test(String(e)),
  );
  await runner.close(); // resolves on a failed runner
});

test('close() while the thread is dead and not yet restarted: the waiting runs are rejected, no thread is started', async () => {
  const x = featureRows();
  const events: WorkerEvent[] = [];
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, {
    thread: 'worker',
    workerRestart: { firstDelayMs: 60_000 },
    onWorkerEvent: (e) => events.push(e),
  });
  crashModelWorker(runner, 'exit');
  const waiting = runner.run(x, 100);
  while (events.length === 0) await new Promise((r) => setTimeout(r, 10));
  assert.equal(workerHealthOf(runner)?.state, 'restarting');
  await runner.close();
  await assert.rejects(
    waiting,
    (e: unknown) =>
      codeOf(e) === 'SC_ERR_MODEL_LOAD' && /closed while its worker thread was restarting/.test(String(e)),
  );
  assert.equal(workerHealthOf(runner)?.state, 'closed');
  assert.deepEqual(
    events.map((e) => e.type),
    ['died'],
  );
});

const T0 = Date.UTC(2026, 0, 6, 8, 0, 0);

/** 240 rows at 1 s of four reactor sensors, a step on the temperature from row 150 (alarms on). */
function csvText(): string {
  const lines = [
    'timestamp,Reactors/R01/Temperature,Reactors/R01/Pressure,Reactors/R01/CoolantFlow,Reactors/R01/AgitatorCurrent',
  ];
  for (let i = 0; i < 240; i++) {
    const temp = 70 + Math.sin(i / 7) + (i >= 150 ? 12 : 0);
    lines.push(
      `${new Date(T0 + i * 1000).toISOString()},${temp},${4 + 0.1 * Math.cos(i / 3)},${30 + Math.cos(i / 5)},${20 + 0.5 * Math.sin(i / 11)}`,
    );
  }
  return lines.join('\n');
}

interface Run {
  readonly silver: ScoredReading[];
  readonly metrics: SidecarMetrics;
  readonly logs: Record<string, unknown>[];
  readonly lastError: string | undefined;
  readonly health: { state: string; detail: string };
}

/** The sidecar's detection (createDetection, worker thread) under IngestPipeline on a CSV replay; `crashAfter` batches end with a death armed. */
async function ingestRun(crashAfter: ReadonlyMap<number, 'throw' | 'exit'>): Promise<Run> {
  const config = parseConfig({});
  const index = buildEquipmentIndex(toEquipment(config));
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const metrics = new SidecarMetrics();
  const detection = await createDetection(config, index, logger, metrics);
  const runner = detection.runner as ModelRunner;
  assert.ok(workerHealthOf(runner) !== undefined, 'the sidecar runs the model in a worker thread');
  const silver: ScoredReading[] = [];
  const checkpoints = new Map<string, number>();
  const source = new CsvReplayTagSource({
    text: csvText(),
    pace: 'fast',
    tagPrefix: '[default]',
    rowsPerBatch: 12,
    clock: { now: () => T0 + 300_000 },
  });
  const done = new Promise<void>((r) => source.onStateChange((s) => s === 'finished' && r()));
  const ingest = new IngestPipeline({
    source,
    validator: new EventValidator(index),
    critical: { evaluate: () => [], raise: async () => undefined },
    detector: detection.detector,
    sink: { write: async (_bronze, scored) => void silver.push(...scored) },
    recommendations: { onScored: async () => 0 },
    modes: { onMode: () => undefined },
    setpoints: { onSetpoint: () => undefined },
    checkpoints: {
      load: async (s) => checkpoints.get(s),
      save: async (s, ts) => void checkpoints.set(s, ts),
    },
    observer: metrics,
    clock: systemClock,
    logger,
    retryMs: { first: 10, max: 50 },
  });
  ingest.onBatch((st) => {
    const how = crashAfter.get(st.batches);
    if (how !== undefined) crashModelWorker(runner, how); // the next batch's first run kills the thread
  });
  await ingest.start();
  await done;
  await ingest.stop();
  const run = { silver, metrics, logs, lastError: ingest.status().lastError, health: detection.health() };
  await detection.close();
  return run;
}

test('Detector + IngestPipeline across two worker deaths: every reading scored exactly once, identical to a run without deaths; counter and log name it', async () => {
  const reference = await ingestRun(new Map());
  const crashed = await ingestRun(
    new Map([
      [4, 'throw'],
      [11, 'exit'],
    ]),
  );
  assert.equal(reference.silver.length, 240 * 4);
  assert.ok(
    reference.silver.some((s) => s.isAnomaly),
    'the step raises alarms, so the alarm gate state is exercised',
  );
  const ids = crashed.silver.map((s) => s.eventId);
  assert.equal(new Set(ids).size, ids.length, 'no reading scored twice');
  assert.deepEqual(
    ids,
    reference.silver.map((s) => s.eventId),
    'none lost, same order',
  );
  // Bit-identical scores and features: the feature windows did not see any reading twice.
  assert.deepEqual(
    crashed.silver.map((s) => [s.score, s.ifScore, s.rfScore, s.isAnomaly, s.severity, s.features]),
    reference.silver.map((s) => [s.score, s.ifScore, s.rfScore, s.isAnomaly, s.severity, s.features]),
  );
  assert.match(crashed.metrics.render(), /^sidecar_model_worker_restarts_total 2$/m);
  assert.match(reference.metrics.render(), /^sidecar_model_worker_restarts_total 0$/m);
  assert.doesNotMatch(crashed.metrics.render(), /sidecar_ingest_stage_retries_total\{stage="detector"\}/);
  assert.equal(crashed.lastError, undefined);
  const died = crashed.logs.filter((l) => l.code === 'SC_ERR_MODEL_WORKER');
  assert.equal(died.length, 2);
  assert.match(String(died[0]?.cause), /diagnostic crash requested/);
  assert.match(String(died[1]?.cause), /exited \(code 70\)/);
  assert.ok(died.every((l) => l.level === 40 && Number(l.inFlight) >= 1 && /restarting/.test(String(l.msg))));
  assert.equal(crashed.logs.filter((l) => l.msg === 'onnx worker thread restarted').length, 2);
  assert.equal(crashed.health.state, 'up');
  assert.match(
    crashed.health.detail,
    /worker thread restarted 2 times, last cause: its worker thread exited \(code 70\)/,
  );
  assert.equal(reference.health.state, 'up');
});

test('createDetection: after more than 5 deaths within a minute /health reports the model down with SC_ERR_MODEL_WORKER', async () => {
  const config = parseConfig({});
  const metrics = new SidecarMetrics();
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const detection = await createDetection(config, buildEquipmentIndex(toEquipment(config)), logger, metrics);
  const runner = detection.runner as ModelRunner;
  const x = featureRows();
  for (let i = 0; i < 5; i++) {
    crashModelWorker(runner, 'exit');
    await runner.run(x, 10);
  }
  assert.equal(detection.health().state, 'up');
  crashModelWorker(runner, 'exit');
  await assert.rejects(runner.run(x, 10), (e: unknown) => codeOf(e) === 'SC_ERR_MODEL_WORKER');
  const h = detection.health();
  assert.equal(h.state, 'down');
  assert.ok(
    h.detail.includes(
      `SC_ERR_MODEL_WORKER: model ${runner.modelVersion}: its worker thread died 6 times within 60 s`,
    ),
    h.detail,
  );
  assert.match(metrics.render(), /^sidecar_model_worker_restarts_total 5$/m);
  assert.ok(
    logs.some(
      (l) => l.level === 50 && l.code === 'SC_ERR_MODEL_WORKER' && /exited \(code 70\)/.test(String(l.cause)),
    ),
  );
  await detection.close();
});

test('createDetection after a hot swap: runner, health, restart counting and close follow the swapped-in model', async () => {
  const config = parseConfig({});
  const metrics = new SidecarMetrics();
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const detection = await createDetection(config, buildEquipmentIndex(toEquipment(config)), logger, metrics);
  const first = detection.runner as ModelRunner;
  // The shipped default is the highest version; swap in 1.0.0 the way the learning loop does.
  const next = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, detection.runnerOptions);
  assert.notEqual(next.modelVersion, first.modelVersion);
  const detector = detection.detector as Detector;
  await (await detector.swapModel(next)).close();
  assert.equal(detection.runner, next);
  assert.deepEqual(detection.health(), { state: 'up', detail: next.modelVersion });

  crashModelWorker(next, 'exit');
  await next.run(featureRows(), 10);
  assert.match(
    metrics.render(),
    /^sidecar_model_worker_restarts_total 1$/m,
    "the swapped-in model's death is counted",
  );
  assert.ok(
    logs.some(
      (l) => l.level === 40 && l.code === 'SC_ERR_MODEL_WORKER' && /exited \(code 70\)/.test(String(l.cause)),
    ),
  );
  const h = detection.health();
  assert.equal(h.state, 'up');
  assert.ok(h.detail.startsWith(`${next.modelVersion} (worker thread restarted 1 times`), h.detail);

  await detection.close();
  await assert.rejects(next.run(featureRows(), 10), 'close() closed the runner scoring now');
});
