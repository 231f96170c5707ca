/**
 * Retraining on real Postgres and onnxruntime: labelled decisions → candidate; the gate refuses a
 * deliberately worse candidate and promotes a not-worse one; the running detector hot-swaps
 * mid-stream with every event scored exactly once; rollback restores the previous version.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Detector } from '../../src/app/detector.ts';
import { hashShare, retrain, type RetrainOptions } from '../../src/app/learning-retrain.ts';
import { silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { ModelFiles } from '../../src/adapters/model-files.ts';
import { loadOnnxModelDir } from '../../src/adapters/onnx-model-runner.ts';
import { FEATURE_NAMES } from '../../src/domain/features.ts';
import { syntheticReading } from '../../src/ml/training-set.ts';
import { shippedModelDir } from '../../src/main-detection.ts';
import { createLogger } from '../../src/log.ts';
import { ERRORS } from '../../src/errors.ts';
import type { ScoredReading } from '../../src/domain/detection.ts';
import type { DriftBaseline } from '../../src/domain/learning/drift.ts';
import {
  ANOMALOUS,
  buildRig,
  coolingEvents,
  decide,
  ingest,
  latest,
  MIN,
  NORMALISH,
  scored,
  T0,
  type Rig,
} from './learning-fixture.ts';

const MILD = {
  z_score: 2.2,
  ewma_gap: 1.2,
  position_in_range: 0.8,
  level_shift: 1,
  volatility_ratio: 1.3,
  step_z: 2,
  equipment_deviation: 1.5,
};
let rig: Rig;
let modelsDir: string;
const shipped = shippedModelDir();

before(async () => {
  // A strong prior keeps every pattern raising, so the test can collect enough labelled decisions.
  rig = await buildRig({
    priorAlpha: 1_000,
    priorBeta: 500,
    holdoutShare: 0.5,
    gateMinRows: 4,
    trainingDays: 1,
  });
  modelsDir = mkdtempSync(join(tmpdir(), 'sc-learning-models-'));
  const cur = await loadOnnxModelDir(shipped, FEATURE_NAMES);
  await rig.registry.register(
    {
      version: '1.0.0',
      name: 'if-rf-ensemble',
      createdAtMs: T0 - 86_400_000,
      trainingFromMs: null,
      trainingToMs: null,
      metrics: {},
      gate: null,
      path: shipped,
      sha256: 'shipped',
      status: 'active',
    },
    T0,
  );
  await cur.close();
  // 16 decided recommendations: real faults approved, mild blips rejected as false alarms.
  for (let i = 0; i < 16; i++) {
    rig.clock.advance(10 * MIN);
    const approve = i % 2 === 0;
    assert.equal(
      await ingest(rig, coolingEvents(rig, rig.clock.now(), approve ? ANOMALOUS : MILD, approve ? 0.9 : 0.7)),
      1,
    );
    const rec = (await latest(rig, 'REACTOR_01')).find((r) => r.status === 'pending');
    assert.ok(rec);
    await decide(
      rig,
      rec,
      approve ? 'approve' : 'reject',
      approve ? undefined : 'sensor noise during sampling',
    );
  }
});
after(async () => {
  await rig.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

function options(over: Partial<RetrainOptions> = {}): RetrainOptions {
  return {
    learning: rig.learningConfig,
    ifWeight: 0.3,
    rfWeight: 0.7,
    promote: true,
    syntheticEquipments: 20,
    rfTrees: 10,
    rowsPerTree: 5_000,
    seed: 7,
    ...over,
  };
}

function deps(detector?: Detector) {
  return {
    store: rig.store,
    registry: rig.registry,
    artifacts: new ModelFiles(modelsDir, { ifWeight: 0.3, rfWeight: 0.7 }),
    clock: rig.clock,
    logger: createLogger({ level: 'silent' }),
    currentModel: async () => loadOnnxModelDir((await rig.registry.active())?.path ?? shipped, FEATURE_NAMES),
    ...(detector ? { detector } : {}),
  };
}

test('the gate rejects a deliberately worse candidate and records its numbers', async () => {
  rig.clock.advance(MIN);
  const r = await retrain(deps(), options({ corruptLabels: true }));
  assert.equal(r.gate.passed, false, r.gate.reason);
  assert.equal(r.promoted, false);
  assert.ok(
    r.holdoutRows >= 4 && r.labelledRows > 0,
    `holdout ${r.holdoutRows}, training labels ${r.labelledRows}`,
  );
  const entry = await rig.registry.get(r.version);
  assert.equal(entry?.status, 'rejected');
  assert.equal(entry?.gate?.passed, false);
  assert.equal(typeof entry?.gate?.candidate.f1, 'number');
  assert.equal((await rig.registry.active())?.version, '1.0.0');
  console.log(`gate (worse candidate): ${r.gate.reason}`);
});

/** A Detector on the shipped model with small windows and micro-batches (the hot-swap and fit-thread tests). */
async function shippedDetector(): Promise<Detector> {
  return new Detector(await loadOnnxModelDir(shipped, FEATURE_NAMES), {
    windowMs: 3_600_000,
    bucketCount: 16,
    ifWeight: 0.3,
    rfWeight: 0.7,
    batchSize: 64,
    batchMaxWaitMs: 2,
  });
}

test('a not-worse candidate is promoted and hot-swapped mid-stream, each event scored once; rollback restores', async () => {
  const detector = await shippedDetector();
  const firstVersion = detector.modelVersion;
  const results: Promise<ScoredReading[]>[] = [];
  let sent = 0;
  let stop = false;
  const pump = (async () => {
    for (let t = 0; !stop || t < 50; t++) {
      const batch = [0, 1, 2].map((s) =>
        syntheticReading('E1', `s${s}`, s, 50 + Math.sin(t / 7 + s) + (t % 13 === 0 ? 5 : 0), T0 + t * 1000),
      );
      sent += batch.length;
      results.push(detector.process(batch));
      await new Promise((r) => setImmediate(r));
    }
  })();
  rig.clock.advance(MIN);
  const r = await retrain(deps(detector), options());
  stop = true;
  await pump;
  const scored = (await Promise.all(results)).flat();
  assert.equal(r.gate.passed, true, r.gate.reason);
  assert.equal(r.promoted, true);
  assert.equal(r.swapped, true);
  console.log(
    `gate (retrained candidate): ${r.gate.reason}; holdout ${r.holdoutRows} rows, line ${r.anomalyThreshold}`,
  );
  assert.equal(scored.length, sent, 'no event dropped');
  assert.equal(new Set(scored.map((s) => s.eventId)).size, sent, 'no event scored twice');
  const versions = scored.map((s) => s.modelVersion);
  const switchAt = versions.findIndex((v) => v !== versions[0]);
  assert.ok(switchAt > 0, 'the stream started on the old model and switched');
  assert.equal(versions[0], firstVersion);
  assert.ok(
    versions.slice(switchAt).every((v) => v === `if-rf-ensemble@${r.version}`),
    'one switch, then only the new model',
  );
  assert.equal((await rig.registry.active())?.version, r.version);
  assert.equal((await rig.registry.get('1.0.0'))?.status, 'retired');
  // The drift check (main-learning.ts) reads the active version's training baseline from here.
  const baseline = (await rig.registry.active())?.metrics.driftBaseline as DriftBaseline | undefined;
  assert.deepEqual(Object.keys(baseline?.features ?? {}).sort(), [...FEATURE_NAMES].sort());
  for (const [name, f] of Object.entries(baseline?.features ?? {})) {
    assert.ok(f.edges.length > 0, `${name}: bin edges`);
    assert.ok(
      f.edges.every((e, i) => i === 0 || e >= (f.edges[i - 1] as number)),
      `${name}: edges ascend`,
    );
    assert.ok(Math.abs(f.shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, `${name}: shares sum to 1`);
  }

  const back = await rig.registry.rollback(undefined, rig.clock.now());
  assert.equal(back.version, '1.0.0');
  assert.equal((await rig.registry.active())?.version, '1.0.0');
  assert.equal((await rig.registry.get(r.version))?.status, 'retired');
  await assert.rejects(
    rig.registry.rollback('9.9.9', rig.clock.now()),
    (e: { code?: string }) => e.code === ERRORS.MODEL_REGISTRY.code,
  );
  const live = await detector.swapModel(await loadOnnxModelDir(shipped, FEATURE_NAMES));
  await live.close();
});

/**
 * Events scored by `detector` between the fit's start ('fitting random forest') and the first step
 * after it ('evaluating candidate vs current'), with a pump feeding it the whole time.
 */
async function scoredDuringFit(fitThread: 'worker' | 'main'): Promise<{ during: number; total: number }> {
  const detector = await shippedDetector();
  let scored = 0;
  const marks: Record<string, number> = {};
  let stop = false;
  const pump = (async () => {
    for (let t = 0; !stop; t++) {
      const batch = [0, 1].map((s) =>
        syntheticReading('W1', `s${s}`, s, 50 + Math.sin(t / 5 + s), T0 + t * 1000),
      );
      scored += (await detector.process(batch)).length;
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  rig.clock.advance(MIN);
  try {
    await retrain(
      {
        ...deps(),
        progress: (stage) => {
          marks[stage] ??= scored;
        },
      },
      options({ promote: false, fitThread, rfTrees: 12, rowsPerTree: 8_000, syntheticEquipments: 24 }),
    );
  } finally {
    stop = true;
    await pump;
    await detector.runner.close();
  }
  const from = marks['fitting random forest'];
  const to = marks['evaluating candidate vs current'];
  assert.ok(from !== undefined && to !== undefined, JSON.stringify(marks));
  return { during: to - from, total: scored };
}

test('the fit runs on a worker thread: events keep being scored while the forests are fitted', async () => {
  const worker = await scoredDuringFit('worker');
  console.log(`events scored during the fit on a worker thread: ${worker.during} of ${worker.total}`);
  assert.ok(worker.during > 0, `events scored while the worker fitted: ${JSON.stringify(worker)}`);
  // The same retrain with the fit on the calling thread: the event loop is blocked for the fit.
  const main = await scoredDuringFit('main');
  assert.equal(main.during, 0, `nothing is scored while the main thread fits: ${JSON.stringify(main)}`);
});

test('the line comes from the base line and the decisions: retraining again on the same decisions gives the same line; normal rows are held back for the gate', async () => {
  // Recent normal operation (not anomalous), as the detector writes it to silver.
  const now = rig.clock.now();
  const normal = Array.from({ length: 60 }, (_, i) =>
    scored(rig, '[default]Reactors/R01/Pressure', now - (i + 1) * 1_000, NORMALISH, 0.1, false),
  );
  await rig.events.writeSilver(normal.map(silverRowOf));
  rig.clock.advance(MIN);
  const a = await retrain(deps(), options());
  assert.equal(a.promoted, true, a.gate.reason);
  const shipped1 = await loadOnnxModelDir(shipped, FEATURE_NAMES);
  assert.equal(
    a.baseThreshold,
    shipped1.anomalyThreshold,
    'adapted from the serving line of the shipped model',
  );
  await shipped1.close();
  // 8 approved and 8 rejected decisions, holdoutShare 0.5: the training side's reject rate (> 30 %)
  // raises the line, by the same amount every time.
  assert.equal(a.approvedDecisions + a.rejectedDecisions + (await heldDecisions()), 16);
  assert.ok(a.anomalyThreshold > a.baseThreshold, `line ${a.anomalyThreshold} from ${a.baseThreshold}`);
  assert.ok(
    a.holdoutNormalRows > 0 && a.holdoutNormalRows < 60,
    `held-back normal rows ${a.holdoutNormalRows}`,
  );
  assert.equal(a.gate.candidate.rows, a.holdoutRows);
  assert.ok(
    a.gate.candidate.rows - a.gate.candidate.positives >= a.holdoutNormalRows,
    'normal rows are negatives',
  );
  const entry = await rig.registry.get(a.version);
  assert.equal(entry?.metrics.baseThreshold, a.baseThreshold);
  assert.equal(entry?.metrics.holdoutNormalRows, a.holdoutNormalRows);

  // The adapted version now serves; a second retrain on the same decisions starts from the base
  // line again (recorded in the registry), not from the adapted one: no drift.
  rig.clock.advance(MIN);
  const b = await retrain(deps(), options());
  assert.equal(b.baseThreshold, a.baseThreshold);
  assert.equal(b.anomalyThreshold, a.anomalyThreshold);
  await rig.registry.rollback('1.0.0', rig.clock.now());

  async function heldDecisions(): Promise<number> {
    const ids = new Set(
      (await rig.store.labelledEvents(0, rig.clock.now() + 1)).map((e) => e.recommendationId),
    );
    return [...ids].filter((id) => hashShare(id) < rig.learningConfig.holdoutShare).length;
  }
});
