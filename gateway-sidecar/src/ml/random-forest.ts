/**
 * Random Forest classifier from CART trees (Gini impurity, bootstrap rows, √p candidate features
 * per split), written for this project. Leaves store the positive-class fraction, the forest
 * output is their mean: the probability that a row is a fault. The ONNX export puts leaf/trees in
 * a TreeEnsembleRegressor with aggregate SUM, which reproduces the mean exactly.
 */
import { createRng, type Rng } from './random.ts';
import { evalTree, TreeBuilder, type FlatTree } from './tree.ts';

export interface RandomForestOptions {
  readonly trees?: number;
  readonly maxDepth?: number;
  readonly minLeaf?: number;
  /** Feature columns the trees may split on (default: all). */
  readonly features?: readonly number[];
  /** Candidate features per split (default √|features|). */
  readonly featuresPerSplit?: number;
  /** Bootstrap rows per tree (default: all rows; smaller keeps training fast on big synthetic sets). */
  readonly rowsPerTree?: number;
  /** Candidate thresholds per feature per split (quantiles of a small sample). */
  readonly thresholdsPerFeature?: number;
  readonly seed?: number;
}

export interface RandomForestModel {
  readonly kind: 'random-forest';
  readonly trees: readonly FlatTree[];
}

interface Ctx {
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly nf: number;
  readonly features: readonly number[];
  readonly mtry: number;
  readonly maxDepth: number;
  readonly minLeaf: number;
  readonly nThr: number;
  readonly rng: Rng;
}

/** Fits on row-major `x` with 0/1 labels `y`. */
export function fitRandomForest(
  x: Float32Array,
  y: Uint8Array,
  nFeatures: number,
  opts: RandomForestOptions = {},
): RandomForestModel {
  const rows = y.length;
  if (rows * nFeatures !== x.length)
    throw new RangeError(`x has ${x.length} values, expected ${rows} × ${nFeatures}`);
  const features = opts.features ?? Array.from({ length: nFeatures }, (_, i) => i);
  const ctx: Ctx = {
    x,
    y,
    nf: nFeatures,
    features,
    mtry: opts.featuresPerSplit ?? Math.max(1, Math.round(Math.sqrt(features.length))),
    maxDepth: opts.maxDepth ?? 10,
    minLeaf: opts.minLeaf ?? 5,
    nThr: opts.thresholdsPerFeature ?? 24,
    rng: createRng(opts.seed ?? 7),
  };
  const trees: FlatTree[] = [];
  for (let t = 0; t < (opts.trees ?? 40); t++) {
    const m = Math.min(rows, opts.rowsPerTree ?? rows);
    const idx: number[] = new Array<number>(m);
    for (let i = 0; i < m; i++) idx[i] = Math.floor(ctx.rng() * rows);
    const b = new TreeBuilder();
    grow(b, ctx, idx, 0);
    trees.push(b.build());
  }
  return { kind: 'random-forest', trees };
}

function positives(ctx: Ctx, idx: readonly number[]): number {
  let p = 0;
  for (const i of idx) p += ctx.y[i] as number;
  return p;
}

function grow(b: TreeBuilder, ctx: Ctx, idx: number[], depth: number): number {
  const n = idx.length;
  const pos = positives(ctx, idx);
  if (depth >= ctx.maxDepth || n < 2 * ctx.minLeaf || pos === 0 || pos === n) return b.leaf(pos / n);
  const best = bestSplit(ctx, idx, pos);
  if (best === undefined) return b.leaf(pos / n);
  const left: number[] = [];
  const right: number[] = [];
  for (const i of idx) ((ctx.x[i * ctx.nf + best.f] as number) <= best.thr ? left : right).push(i);
  const node = b.split(best.f, best.thr);
  const l = grow(b, ctx, left, depth + 1);
  const r = grow(b, ctx, right, depth + 1);
  b.attach(node, l, r);
  return node;
}

/** Best (feature, float32 threshold) by Gini gain among mtry random features. */
function bestSplit(ctx: Ctx, idx: readonly number[], pos: number): { f: number; thr: number } | undefined {
  const n = idx.length;
  const parent = 1 - (pos / n) ** 2 - (1 - pos / n) ** 2;
  let bestGain = 1e-9;
  let best: { f: number; thr: number } | undefined;
  for (let m = 0; m < ctx.mtry; m++) {
    const f = ctx.features[Math.floor(ctx.rng() * ctx.features.length)] as number;
    const sample: number[] = [];
    for (let k = 0; k < Math.min(64, n); k++)
      sample.push(ctx.x[(idx[Math.floor(ctx.rng() * n)] as number) * ctx.nf + f] as number);
    sample.sort((a, b) => a - b);
    for (let q = 1; q < ctx.nThr; q++) {
      const thr = Math.fround(sample[Math.floor((q / ctx.nThr) * sample.length)] as number);
      let nl = 0;
      let pl = 0;
      for (const i of idx) {
        if ((ctx.x[i * ctx.nf + f] as number) <= thr) {
          nl++;
          pl += ctx.y[i] as number;
        }
      }
      const nr = n - nl;
      if (nl < ctx.minLeaf || nr < ctx.minLeaf) continue;
      const pr = pos - pl;
      const gl = 1 - (pl / nl) ** 2 - (1 - pl / nl) ** 2;
      const gr = 1 - (pr / nr) ** 2 - (1 - pr / nr) ** 2;
      const gain = parent - (nl / n) * gl - (nr / n) * gr;
      if (gain > bestGain) {
        bestGain = gain;
        best = { f, thr };
      }
    }
  }
  return best;
}

/** Fault probability of one row: the mean of the trees' leaf fractions. */
export function scoreRandomForest(model: RandomForestModel, x: Float32Array, offset: number): number {
  let s = 0;
  for (const t of model.trees) s += evalTree(t, x, offset);
  return s / model.trees.length;
}
