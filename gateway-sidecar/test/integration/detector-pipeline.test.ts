// The pipelined Detector (model in a worker thread, several runs per micro-batch, result objects
// built while the next run is scored) against the plain sequential one (model on the calling
// thread, one run per micro-batch): identical output on thousands of rows whose alarms switch on
// and off, so the alarm gate's effect on the feature windows is exercised. Plus the worker
// runner's own contract: same scores as the inline session, clear errors, no hold on the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { Detector } from '../../src/app/detector.ts';
import { loadOnnxModelDir } from '../../src/adapters/onnx-model-runner.ts';
import { ModelFiles } from '../../src/adapters/model-files.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureEngine } from '../../src/domain/features.ts';
import type { ScoredReading } from '../../src/domain/detection.ts';
import type { SensorReading } from '../../src/domain/tag-event.ts';
import { syntheticReading } from '../../src/ml/training-set.ts';
import type { ModelRunner } from '../../src/ports.ts';
import { loadSwapPair } from '../fixtures/swap-models.ts';

const MODEL_DIR = resolve(import.meta.dirname, '../../../models/if-rf-ensemble/1.0.0');
const OPTS = { windowMs: 86_400_000, bucketCount: 96, ifWeight: 0.3, rfWeight: 0.7, batchMaxWaitMs: 5 };
const SENSORS = ['pressure', 'flow', 'temperature', 'vibration'];

/** 6 pieces of equipment × 4 sensors × 500 ticks; each piece has a step fault that ends again, at its own time. */
function plant(): SensorReading[] {
  const out: SensorReading[] = [];
  for (let t = 0; t < 500; t++) {
    for (let e = 0; e < 6; e++) {
      const faulty = t >= 150 + 30 * e && t < 210 + 30 * e;
      SENSORS.forEach((s, k) => {
        const base = 10 * (k + 1) + 0.1 * (k + 1) * Math.sin(t * (0.7 + 0.3 * k) + e);
        const step = faulty && k === e % SENSORS.length ? 3 * (k + 1) : 0;
        out.push(syntheticReading(`EQ_${e}`, s, k, base + step, t * 1000));
      });
    }
  }
  return out;
}

/** Feeds the readings in uneven calls, some concurrent (coalesced), as ingest does. */
async function scoreAll(d: Detector, readings: readonly SensorReading[]): Promise<ScoredReading[]> {
  const sizes = [1, 700, 13, 256, 2_000, 97, 5];
  const pending: Promise<ScoredReading[]>[] = [];
  for (let at = 0, k = 0; at < readings.length; k++) {
    const n = sizes[k % sizes.length] as number;
    pending.push(d.process(readings.slice(at, at + n)));
    at += n;
    if (k % 3 === 2) await Promise.all(pending); // sometimes wait, sometimes pile up
  }
  return (await Promise.all(pending)).flat();
}

test('pipelined detector (worker runner, 2, 4 and 7 runs per batch) equals the sequential one on 12,000 rows with alarms', async () => {
  const readings = plant();
  const inline = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'main' });
  const sequential = await scoreAll(
    new Detector(inline, { ...OPTS, batchSize: 256, pipelineChunks: 1 }),
    readings,
  );
  await inline.close();
  assert.equal(sequential.length, readings.length);
  let onsets = 0;
  let ends = 0;
  for (let e = 0; e < 6; e++) {
    const flags = sequential
      .filter((s) => s.reading.tag.equipmentId === `EQ_${e}` && s.reading.tag.sensorType === 'pressure')
      .map((s) => s.isAnomaly);
    onsets += flags.filter((f, i) => f && i > 0 && !flags[i - 1]).length;
    ends += flags.filter((f, i) => !f && i > 0 && flags[i - 1]).length;
  }
  assert.ok(
    onsets >= 6 && ends >= 6,
    `alarms must switch on and off to exercise the gate (${onsets} on, ${ends} off)`,
  );

  for (const pipelineChunks of [2, 4, 7]) {
    const worker = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'worker' });
    const pipelined = await scoreAll(
      new Detector(worker, { ...OPTS, batchSize: 256, pipelineChunks }),
      readings,
    );
    await worker.close();
    assert.equal(pipelined.length, sequential.length);
    pipelined.forEach((p, i) =>
      assert.deepEqual(p, sequential[i], `row ${i} differs with pipelineChunks ${pipelineChunks}`),
    );
  }
});

test('worker runner gives the same scores as the inline session; bad calls and a closed runner fail clearly', async () => {
  const engine = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const readings = plant().slice(0, 3_000);
  const x = new Float32Array(readings.length * FEATURE_COUNT);
  readings.forEach((r, i) => engine.update(r, x, i * FEATURE_COUNT));
  const inline = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'main' });
  const worker = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, {
    thread: 'worker',
    intraOpThreads: 1,
    interOpThreads: 1,
  });
  const a = await inline.run(x, readings.length);
  // Several runs in flight at once, answered in order, on views into one buffer.
  const parts = await Promise.all(
    [0, 1, 2].map((k) => worker.run(x.subarray(k * 1_000 * FEATURE_COUNT), 1_000)),
  );
  assert.deepEqual(Float32Array.from(parts.flatMap((p) => [...p.ifScore])), a.ifScore);
  assert.deepEqual(Float32Array.from(parts.flatMap((p) => [...p.rfScore])), a.rfScore);
  await assert.rejects(
    worker.run(x.subarray(0, 10), 1),
    (e: unknown) =>
      (e as { code?: string }).code === 'SC_ERR_MODEL_LOAD' && /16 features from 10 values/.test(String(e)),
  );
  await worker.close();
  await assert.rejects(
    worker.run(x, 1),
    (e: unknown) => (e as { code?: string }).code === 'SC_ERR_MODEL_LOAD' && /is closed/.test(String(e)),
  );
  await worker.close(); // closing twice is harmless
  await inline.close();
});

test('hot swap between worker runners mid-stream: each reading once, in order, the old model before the new one', async () => {
  const pair = await loadSwapPair(MODEL_DIR, 'next@2', { thread: 'worker' });
  const { old: a, next: renamed } = pair;
  const d = new Detector(a, { ...OPTS, batchSize: 256, pipelineChunks: 4 });
  const readings = plant().slice(0, 6_000);
  const pending: Promise<readonly ScoredReading[]>[] = [];
  let swapped: Promise<ModelRunner> | undefined;
  for (let i = 0; i < readings.length; i += 300) {
    pending.push(d.process(readings.slice(i, i + 300)));
    if (i === 3_000) swapped = d.swapModel(renamed);
  }
  const all = (await Promise.all(pending)).flat();
  assert.equal(await swapped, a, 'swapModel hands back the old runner');
  assert.deepEqual(
    all.map((s) => s.reading),
    readings,
  );
  const versions = all.map((s) => s.modelVersion);
  const firstNew = versions.indexOf('next@2');
  assert.ok(
    firstNew > 0 &&
      versions.slice(firstNew).every((v) => v === 'next@2') &&
      versions.slice(0, firstNew).every((v) => v === a.modelVersion),
  );
  await pair.close();
});

test('ModelFiles loads versions with the runner options it was given (a promoted model runs like the first one)', async () => {
  const files = new ModelFiles(
    resolve(MODEL_DIR, '..'),
    { ifWeight: 0.3, rfWeight: 0.7 },
    { thread: 'worker' },
  );
  const promoted = await files.load(MODEL_DIR);
  const inline = await new ModelFiles(resolve(MODEL_DIR, '..'), { ifWeight: 0.3, rfWeight: 0.7 }).load(
    MODEL_DIR,
  );
  const x = new Float32Array(64 * FEATURE_COUNT).map((_, i) => Math.sin(i) * 3);
  assert.deepEqual((await promoted.run(x, 64)).rfScore, (await inline.run(x, 64)).rfScore);
  await promoted.close();
  // Only the worker runner reports a closed thread; the inline one fails inside onnxruntime instead.
  await assert.rejects(promoted.run(x, 64), /its worker thread exited/);
  await inline.close();
});

test('a failing model run rejects the calls of its batch; the detector keeps serving afterwards', async () => {
  const real = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'worker' });
  let calls = 0;
  const flaky: ModelRunner = {
    modelVersion: real.modelVersion,
    inputNames: real.inputNames,
    anomalyThreshold: real.anomalyThreshold,
    run: (f, n) =>
      ++calls === 3
        ? Promise.reject(Object.assign(new Error('runtime failed'), { code: 'SC_ERR_MODEL_LOAD' }))
        : real.run(f, n),
    close: () => real.close(),
  };
  const d = new Detector(flaky, { ...OPTS, batchSize: 256, pipelineChunks: 4 });
  const readings = plant();
  await assert.rejects(d.process(readings.slice(0, 256)), /runtime failed/);
  const after = await d.process(readings.slice(256, 600));
  assert.equal(after.length, 344);
  assert.deepEqual(
    after.map((s) => s.reading),
    readings.slice(256, 600),
  );
  await real.close();
});

test('an idle worker runner nobody closes does not keep the process alive', () => {
  const script = `import { loadOnnxModelDir } from ${JSON.stringify(resolve(import.meta.dirname, '../../src/adapters/onnx-model-runner.ts'))};
const r = await loadOnnxModelDir(${JSON.stringify(MODEL_DIR)}, ${JSON.stringify(FEATURE_NAMES)}, { thread: 'worker' });
const out = await r.run(new Float32Array(${FEATURE_COUNT}), 1);
console.log('scored', out.ifScore.length);`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: resolve(import.meta.dirname, '../..'),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(res.signal, null, `the process had to be killed: ${res.stderr}`);
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /scored 1/);
});
