/**
 * `npm run train -- [--out DIR] [--version V] [--seed N]`: trains the default ensemble on
 * synthetic equipment histories with injected faults and writes a model version folder:
 * model.onnx, model.json (inputs in order, thresholds, sha256) and an MLflow-style MLmodel.
 * Default output: models/if-rf-ensemble/<version>/ at the repository root.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES } from '../domain/features.ts';
import {
  DEFAULT_ANOMALY_THRESHOLD,
  DEFAULT_MODEL_VERSION,
  encodeEnsemble,
  IF_OPTIONS,
  MODEL_NAME,
  modelDescriptor,
  RF_OPTIONS,
  SCALE_FREE,
  trainDefaultEnsemble,
} from '../ml/ensemble-training.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    version: { type: 'string', default: DEFAULT_MODEL_VERSION },
    seed: { type: 'string', default: '42' },
  },
});
const version = values.version as string;
const seed = Number(values.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${values.seed}'`);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const out = values.out ?? join(repoRoot, 'models', MODEL_NAME, version);

const t0 = Date.now();
process.stderr.write('training on synthetic histories with injected faults...\n');
const m = trainDefaultEnsemble(seed);
const bytes = encodeEnsemble(m, `${MODEL_NAME}@${version}`);
const sha256 = createHash('sha256').update(bytes).digest('hex');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'model.onnx'), bytes);
const descriptor = modelDescriptor(
  version,
  sha256,
  DEFAULT_ANOMALY_THRESHOLD,
  { ifWeight: 0.3, rfWeight: 0.7 },
  {
    training: {
      seed,
      data: 'synthetic equipment histories (src/ml/fault-injection.ts) with drift, step, spike, variance and flatline faults',
      rows: m.trainingRows,
      faultRows: m.faultRows,
      splitFeatures: SCALE_FREE,
      isolationForest: { trees: IF_OPTIONS.trees, sampleSize: IF_OPTIONS.sampleSize },
      randomForest: { trees: RF_OPTIONS.trees, maxDepth: RF_OPTIONS.maxDepth, minLeaf: RF_OPTIONS.minLeaf },
    },
  },
);
writeFileSync(join(out, 'model.json'), `${JSON.stringify(descriptor, null, 2)}\n`);
const mlmodel = [
  `artifact_path: ${MODEL_NAME}`,
  'flavors:',
  '  onnx:',
  '    code: null',
  '    data: model.onnx',
  '    onnx_version: 1.14.0',
  '    providers: [CPUExecutionProvider]',
  `model_uuid: ${sha256.slice(0, 32)}`,
  'signature:',
  `  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, ${FEATURE_NAMES.length}]}, "name": "features"}]'`,
  `  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}, "name": "if_score"}, {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}, "name": "rf_score"}]'`,
  'metadata:',
  `  feature_names: [${FEATURE_NAMES.join(', ')}]`,
  `  anomaly_threshold: ${DEFAULT_ANOMALY_THRESHOLD}`,
  `  model_version: ${version}`,
  '',
].join('\n');
writeFileSync(join(out, 'MLmodel'), mlmodel);
process.stderr.write(
  `wrote ${out} (${bytes.length} bytes, sha256 ${sha256}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
);
