/**
 * Isolation Forest (Liu, Ting & Zhou 2008), written for this project. Each tree isolates a random
 * subsample by random splits; anomalies end in short paths. The leaf stores the full path length
 * (depth + c(leaf size)), so the forest output is the mean leaf value and the score is
 * 2^(-mean / c(sampleSize)): exactly what the ONNX graph computes (TreeEnsembleRegressor with
 * leaves pre-divided by the tree count, aggregate SUM, then Mul and Exp).
 */
import { createRng, sampleIndices, type Rng } from './random.ts';
import { evalTree, TreeBuilder, type FlatTree } from './tree.ts';

export interface IsolationForestOptions {
  readonly trees?: number;
  readonly sampleSize?: number;
  /** Feature columns the trees may split on (default: all). */
  readonly features?: readonly number[];
  readonly seed?: number;
}

export interface IsolationForestModel {
  readonly kind: 'isolation-forest';
  readonly trees: readonly FlatTree[];
  readonly sampleSize: number;
  /** c(sampleSize): average unsuccessful-search path length, the score's normaliser. */
  readonly normaliser: number;
}

/** Average path length of an unsuccessful BST search among n points. */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + 0.5772156649) - (2 * (n - 1)) / n;
}

/** Fits on `rows` × `nFeatures` (row-major Float32Array). */
export function fitIsolationForest(
  x: Float32Array,
  nFeatures: number,
  opts: IsolationForestOptions = {},
): IsolationForestModel {
  const rows = Math.floor(x.length / nFeatures);
  if (rows < 2) throw new RangeError(`isolation forest needs at least 2 rows, got ${rows}`);
  const rng = createRng(opts.seed ?? 1);
  const nTrees = opts.trees ?? 100;
  const psi = Math.min(opts.sampleSize ?? 256, rows);
  const features = opts.features ?? Array.from({ length: nFeatures }, (_, i) => i);
  const maxDepth = Math.ceil(Math.log2(Math.max(psi, 2)));
  const trees: FlatTree[] = [];
  for (let t = 0; t < nTrees; t++) {
    const b = new TreeBuilder();
    grow(b, x, nFeatures, Array.from(sampleIndices(rng, rows, psi)), 0, maxDepth, features, rng);
    trees.push(b.build());
  }
  return { kind: 'isolation-forest', trees, sampleSize: psi, normaliser: averagePathLength(psi) };
}

function grow(
  b: TreeBuilder,
  x: Float32Array,
  nf: number,
  idx: number[],
  depth: number,
  maxDepth: number,
  features: readonly number[],
  rng: Rng,
): number {
  if (idx.length <= 1 || depth >= maxDepth) return b.leaf(depth + averagePathLength(idx.length));
  // Try a few random features for one that is not constant on this node.
  for (let attempt = 0; attempt < features.length; attempt++) {
    const f = features[Math.floor(rng() * features.length)] as number;
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of idx) {
      const v = x[i * nf + f] as number;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) continue;
    let thr = Math.fround(lo + rng() * (hi - lo));
    if (thr >= hi) thr = lo; // keep both sides non-empty after float32 rounding
    const left = idx.filter((i) => (x[i * nf + f] as number) <= thr);
    const right = idx.filter((i) => (x[i * nf + f] as number) > thr);
    if (left.length === 0 || right.length === 0) continue;
    const node = b.split(f, thr);
    const l = grow(b, x, nf, left, depth + 1, maxDepth, features, rng);
    const r = grow(b, x, nf, right, depth + 1, maxDepth, features, rng);
    b.attach(node, l, r);
    return node;
  }
  return b.leaf(depth + averagePathLength(idx.length));
}

/** Mean path length of one row over the forest. */
export function meanPathLength(model: IsolationForestModel, x: Float32Array, offset: number): number {
  let s = 0;
  for (const t of model.trees) s += evalTree(t, x, offset);
  return s / model.trees.length;
}

/** Anomaly score in (0, 1]: about 0.5 for ordinary points, towards 1 for isolated ones. */
export function scoreIsolationForest(model: IsolationForestModel, x: Float32Array, offset: number): number {
  return Math.pow(2, -meanPathLength(model, x, offset) / model.normaliser);
}
