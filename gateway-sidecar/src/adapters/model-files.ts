/**
 * ModelArtifacts on the file system: a retrained version becomes a folder `<root>/<version>/`
 * with model.onnx and model.json (same layout as `npm run train`, so main.ts and
 * loadOnnxModelDir load it like the shipped model).
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FEATURE_NAMES } from '../domain/features.ts';
import { encodeEnsemble, MODEL_NAME, modelDescriptor } from '../ml/ensemble-training.ts';
import type { IsolationForestModel } from '../ml/isolation-forest.ts';
import type { RandomForestModel } from '../ml/random-forest.ts';
import type { ModelArtifacts } from '../domain/learning/ports.ts';
import type { ModelRunner } from '../ports.ts';
import { loadOnnxModelDir, type OnnxRunnerOptions } from './onnx-model-runner.ts';

export class ModelFiles implements ModelArtifacts {
  readonly #root: string;
  readonly #weights: { ifWeight: number; rfWeight: number };
  readonly #runner: OnnxRunnerOptions;
  /** `runner`: where loaded versions run (the sidecar passes config `ensemble`, so a promoted model runs like the first one). */
  constructor(root: string, weights: { ifWeight: number; rfWeight: number }, runner: OnnxRunnerOptions = {}) {
    this.#root = root;
    this.#weights = weights;
    this.#runner = runner;
  }

  async save(
    version: string,
    m: { isolationForest: IsolationForestModel; randomForest: RandomForestModel },
    extra: Readonly<Record<string, unknown>>,
    anomalyThreshold: number,
  ): Promise<{ path: string; sha256: string }> {
    const bytes = encodeEnsemble(m, `${MODEL_NAME}@${version}`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dir = join(this.#root, version);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.onnx'), bytes);
    const descriptor = modelDescriptor(version, sha256, anomalyThreshold, this.#weights, extra);
    await writeFile(join(dir, 'model.json'), `${JSON.stringify(descriptor, null, 2)}\n`);
    return { path: dir, sha256 };
  }

  load(path: string): Promise<ModelRunner> {
    return loadOnnxModelDir(path, FEATURE_NAMES, this.#runner);
  }
}
