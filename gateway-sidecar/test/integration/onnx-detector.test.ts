// The shipped model in models/ and the Detector on the real onnxruntime: hash and contract,
// scoring a fault, explanations, micro-batch coalescing, and hot swap without loss or repeats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Detector } from '../../src/app/detector.ts';
import { shippedModelDir } from '../../src/main-detection.ts';
import { DEFAULT_MODEL_VERSION, IF_OPTIONS, RF_OPTIONS } from '../../src/ml/ensemble-training.ts';
import { loadOnnxModelDir } from '../../src/adapters/onnx-model-runner.ts';
import { FEATURE_NAMES } from '../../src/domain/features.ts';
import type { SensorReading } from '../../src/domain/tag-event.ts';
import { syntheticReading } from '../../src/ml/training-set.ts';
import type { ModelRunner } from '../../src/ports.ts';
import { loadSwapPair } from '../fixtures/swap-models.ts';

const MODEL_DIR = resolve(import.meta.dirname, `../../../models/if-rf-ensemble/${DEFAULT_MODEL_VERSION}`);
const OPTS = {
  windowMs: 86_400_000,
  bucketCount: 96,
  ifWeight: 0.3,
  rfWeight: 0.7,
  batchSize: 64,
  batchMaxWaitMs: 5,
};

function plant(from: number, to: number, faultFrom = Infinity): SensorReading[] {
  const out: SensorReading[] = [];
  for (let t = from; t < to; t++) {
    const f = t >= faultFrom ? 8 : 0; // a clear step on the pressure sensor
    out.push(syntheticReading('PUMP_02', 'pressure', 0, 5 + 0.05 * Math.sin(t * 1.7) + 0.05 * f, t * 1000));
    out.push(syntheticReading('PUMP_02', 'flow', 1, 40 + 0.3 * Math.cos(t * 0.9), t * 1000));
  }
  return out;
}

test('models/: model.json hash matches the ONNX file and inputs equal FEATURE_NAMES', () => {
  const d = JSON.parse(readFileSync(resolve(MODEL_DIR, 'model.json'), 'utf8')) as {
    sha256: string;
    inputs: string[];
    file: string;
  };
  assert.equal(
    createHash('sha256')
      .update(readFileSync(resolve(MODEL_DIR, d.file)))
      .digest('hex'),
    d.sha256,
  );
  assert.deepEqual(d.inputs, [...FEATURE_NAMES]);
  assert.match(readFileSync(resolve(MODEL_DIR, 'MLmodel'), 'utf8'), /flavors:\n {2}onnx:/);
});

test('the sidecar serves the newest shipped version, trained with the documented tree counts', () => {
  assert.equal(shippedModelDir(), MODEL_DIR);
  const d = JSON.parse(readFileSync(resolve(MODEL_DIR, 'model.json'), 'utf8')) as {
    version: string;
    training: { isolationForest: { trees: number }; randomForest: { trees: number } };
  };
  assert.equal(d.version, DEFAULT_MODEL_VERSION);
  assert.equal(d.training.isolationForest.trees, IF_OPTIONS.trees);
  assert.equal(
    d.training.isolationForest.trees,
    50,
    'fewer IF trees: the ONNX run is the throughput ceiling (docs/detection.md)',
  );
  assert.equal(d.training.randomForest.trees, RF_OPTIONS.trees);
  assert.match(
    readFileSync(resolve(MODEL_DIR, 'MLmodel'), 'utf8'),
    new RegExp(`model_version: ${DEFAULT_MODEL_VERSION.replaceAll('.', '\\.')}`),
  );
});

test('detector scores a step fault above normal and explains it', async () => {
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES);
  const d = new Detector(runner, OPTS);
  const normal = await d.process(plant(0, 300));
  assert.equal(normal.length, 600);
  assert.equal(normal[0]?.modelVersion, `if-rf-ensemble@${DEFAULT_MODEL_VERSION}`);
  assert.deepEqual(
    Object.keys(normal[0]?.features ?? {}),
    [...FEATURE_NAMES],
    'features record follows the contract order',
  );
  assert.equal(
    normal[10]?.eventId,
    `${normal[10]?.reading.tag.tagPath}@${normal[10]?.reading.sourceTimestampMs}`,
  );
  const late = normal.slice(200);
  assert.equal(late.filter((s) => s.isAnomaly).length, 0, 'steady normal operation raises no alarm');
  const fault = await d.process(plant(300, 340, 300));
  const pressure = fault.filter((s) => s.reading.tag.sensorType === 'pressure');
  const meanScore = (xs: readonly { score: number }[]): number =>
    xs.reduce((a, s) => a + s.score, 0) / xs.length;
  assert.ok(
    meanScore(pressure.slice(5)) > meanScore(late) + 0.2,
    `${meanScore(pressure.slice(5))} vs ${meanScore(late)}`,
  );
  const flagged = fault.filter((s) => s.isAnomaly);
  assert.ok(flagged.length > 10);
  assert.ok(
    flagged.every(
      (s) =>
        s.explanation.length > 0 &&
        s.explanation.every((c) => FEATURE_NAMES.includes(c.feature as (typeof FEATURE_NAMES)[number])),
    ),
  );
  assert.ok(flagged.some((s) => s.explanation[0]?.tagPath === 'PUMP_02/pressure'));
  await runner.close();
});

test('concurrent calls are coalesced, results keep input order', async () => {
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES);
  const d = new Detector(runner, OPTS);
  const readings = plant(0, 50);
  const parts = [readings.slice(0, 7), readings.slice(7, 30), readings.slice(30)];
  const results = await Promise.all(parts.map((p) => d.process(p)));
  results.forEach((r, i) =>
    assert.deepEqual(
      r.map((s) => s.reading),
      parts[i],
    ),
  );
  await runner.close();
});

test('hot swap: every reading scored exactly once, by the old or the new model; bad contract refused', async () => {
  const pair = await loadSwapPair(MODEL_DIR, 'other@2');
  const { old: a, next: renamed } = pair;
  const d = new Detector(a, OPTS);
  const readings = plant(0, 400);
  const pending: Promise<readonly { eventId: string; modelVersion: string }[]>[] = [];
  for (let i = 0; i < readings.length; i += 40) {
    pending.push(d.process(readings.slice(i, i + 40)));
    if (i === 400) pending.push(d.swapModel(renamed).then(() => []));
  }
  const all = (await Promise.all(pending)).flat();
  assert.equal(all.length, readings.length);
  assert.equal(new Set(all.map((s) => s.eventId)).size, readings.length, 'no reading scored twice');
  const versions = all.map((s) => s.modelVersion);
  const firstNew = versions.indexOf('other@2');
  assert.ok(firstNew > 0, 'the swap happened mid-stream');
  assert.ok(
    versions.slice(firstNew).every((v) => v === 'other@2') &&
      versions.slice(0, firstNew).every((v) => v === `if-rf-ensemble@${DEFAULT_MODEL_VERSION}`),
  );
  assert.equal(d.modelVersion, 'other@2');
  const bad: ModelRunner = { ...renamed, inputNames: ['value'] };
  await assert.rejects(
    d.swapModel(bad),
    (e: unknown) => (e as { code?: string }).code === 'SC_ERR_MODEL_CONTRACT',
  );
  assert.equal(d.modelVersion, 'other@2', 'the old model stays in service');
  await pair.close();
});
