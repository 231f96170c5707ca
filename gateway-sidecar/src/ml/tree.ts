/**
 * The flat binary tree both forests use, in the exact form ONNX TreeEnsemble nodes take:
 * node i is a leaf when feature[i] < 0; otherwise `x[feature] <= threshold` goes to left[i]
 * (BRANCH_LEQ), else right[i]. Thresholds are float32 (Math.fround) and inputs are read from a
 * Float32Array, so the in-memory walk and onnxruntime make the same decision at every node.
 */
export interface FlatTree {
  readonly feature: Int32Array;
  readonly threshold: Float32Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Leaf output (path length for isolation trees, positive-class fraction for CART). */
  readonly value: Float64Array;
}

/** Growable builder for a FlatTree; `split` and `leaf` return the node id. */
export class TreeBuilder {
  readonly #feature: number[] = [];
  readonly #threshold: number[] = [];
  readonly #left: number[] = [];
  readonly #right: number[] = [];
  readonly #value: number[] = [];

  leaf(value: number): number {
    return this.#push(-1, 0, value);
  }

  /** Adds an internal node; children are attached with `attach` once built. */
  split(feature: number, threshold: number): number {
    return this.#push(feature, Math.fround(threshold), 0);
  }

  attach(node: number, left: number, right: number): void {
    this.#left[node] = left;
    this.#right[node] = right;
  }

  build(): FlatTree {
    return {
      feature: Int32Array.from(this.#feature),
      threshold: Float32Array.from(this.#threshold),
      left: Int32Array.from(this.#left),
      right: Int32Array.from(this.#right),
      value: Float64Array.from(this.#value),
    };
  }

  #push(feature: number, threshold: number, value: number): number {
    this.#feature.push(feature);
    this.#threshold.push(threshold);
    this.#left.push(-1);
    this.#right.push(-1);
    this.#value.push(value);
    return this.#feature.length - 1;
  }
}

/** Leaf value reached by row `offset` of `x` (row-major, stride = feature count). */
export function evalTree(tree: FlatTree, x: Float32Array, offset: number): number {
  let i = 0;
  for (;;) {
    const f = tree.feature[i] as number;
    if (f < 0) return tree.value[i] as number;
    i =
      (x[offset + f] as number) <= (tree.threshold[i] as number)
        ? (tree.left[i] as number)
        : (tree.right[i] as number);
  }
}
