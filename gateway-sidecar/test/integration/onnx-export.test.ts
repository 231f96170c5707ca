// The exported ONNX ensemble scores exactly like the in-memory forests (onnxruntime-node, real
// runtime), survives a decode round trip, and the loader enforces hash and input contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as ort from 'onnxruntime-node';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/domain/features.ts';
import { fitIsolationForest, scoreIsolationForest } from '../../src/ml/isolation-forest.ts';
import { fitRandomForest, scoreRandomForest } from '../../src/ml/random-forest.ts';
import { encodeEnsembleOnnx } from '../../src/ml/onnx-export.ts';
import { decodeEnsembleOnnx } from '../../src/ml/onnx-import.ts';
import { createRng, gaussian } from '../../src/ml/random.ts';
import { loadOnnxModelBytes } from '../../src/adapters/onnx-model-runner.ts';
import { SidecarError } from '../../src/errors.ts';

const N = 4000;
function data(): { x: Float32Array; y: Uint8Array } {
  const rng = createRng(3);
  const x = new Float32Array(N * FEATURE_COUNT);
  const y = new Uint8Array(N);
  for (let i = 0; i < x.length; i++) x[i] = gaussian(rng) * (1 + (i % FEATURE_COUNT));
  for (let i = 0; i < N; i++)
    y[i] = (x[i * FEATURE_COUNT + 3] as number) + 0.5 * (x[i * FEATURE_COUNT + 7] as number) > 3 ? 1 : 0;
  return { x, y };
}

const { x, y } = data();
const ifm = fitIsolationForest(x, FEATURE_COUNT, { trees: 60, seed: 11 });
const rf = fitRandomForest(x, y, FEATURE_COUNT, { trees: 25, seed: 5 });
const bytes = encodeEnsembleOnnx({
  featureNames: FEATURE_NAMES,
  isolationForest: ifm,
  randomForest: rf,
  modelVersion: 'test',
});

test('onnxruntime scores equal the in-memory forests to 1e-5 on 4,000 rows', async () => {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ features: new ort.Tensor('float32', x, [N, FEATURE_COUNT]) });
  const ifOut = out.if_score?.data as Float32Array;
  const rfOut = out.rf_score?.data as Float32Array;
  assert.equal(ifOut.length, N);
  let maxIf = 0;
  let maxRf = 0;
  let positives = 0;
  for (let i = 0; i < N; i++) {
    maxIf = Math.max(maxIf, Math.abs((ifOut[i] as number) - scoreIsolationForest(ifm, x, i * FEATURE_COUNT)));
    const r = scoreRandomForest(rf, x, i * FEATURE_COUNT);
    maxRf = Math.max(maxRf, Math.abs((rfOut[i] as number) - r));
    if (r > 0.5) positives++;
  }
  assert.ok(maxIf < 1e-5, `IF max abs diff ${maxIf}`);
  assert.ok(maxRf < 1e-5, `RF max abs diff ${maxRf}`);
  assert.ok(
    positives > 50 && positives < N - 50,
    'the forest separates the classes, so the comparison covers both',
  );
  await s.release();
});

test('decode round trip gives the same scores', () => {
  const d = decodeEnsembleOnnx(bytes);
  for (let i = 0; i < 500; i++) {
    assert.ok(
      Math.abs(
        scoreIsolationForest(d.isolationForest, x, i * FEATURE_COUNT) -
          scoreIsolationForest(ifm, x, i * FEATURE_COUNT),
      ) < 1e-6,
    );
    assert.ok(
      Math.abs(
        scoreRandomForest(d.randomForest, x, i * FEATURE_COUNT) - scoreRandomForest(rf, x, i * FEATURE_COUNT),
      ) < 1e-6,
    );
  }
});

test('loader checks sha256 and the input contract', async () => {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const good = { name: 't', version: '1', sha256, inputs: [...FEATURE_NAMES], thresholds: { anomaly: 0.6 } };
  const runner = await loadOnnxModelBytes(bytes, good, FEATURE_NAMES);
  const out = await runner.run(x.subarray(0, 10 * FEATURE_COUNT), 10);
  assert.equal(out.ifScore.length, 10);
  assert.equal(runner.modelVersion, 't@1');
  await runner.close();
  await assert.rejects(
    loadOnnxModelBytes(bytes, { ...good, sha256: '0'.repeat(64) }, FEATURE_NAMES),
    (e: unknown) => e instanceof SidecarError && e.code === 'SC_ERR_MODEL_LOAD',
  );
  const swapped: string[] = [...FEATURE_NAMES];
  [swapped[0], swapped[1]] = [swapped[1] as string, swapped[0] as string];
  await assert.rejects(
    loadOnnxModelBytes(bytes, { ...good, inputs: swapped }, FEATURE_NAMES),
    (e: unknown) =>
      e instanceof SidecarError && e.code === 'SC_ERR_MODEL_CONTRACT' && /input 0/.test(e.message),
  );
  await assert.rejects(
    loadOnnxModelBytes(bytes, { ...good, inputs: FEATURE_NAMES.slice(1) }, FEATURE_NAMES),
    (e: unknown) => e instanceof SidecarError && e.code === 'SC_ERR_MODEL_CONTRACT',
  );
});
