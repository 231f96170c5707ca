/**
 * Reads the forests back out of an ONNX model written by `encodeEnsembleOnnx`, so the backtest
 * can reuse the shipped Random Forest while it fits a fresh Isolation Forest per file.
 */
import onnxPkg from 'onnx-proto';
import { averagePathLength, type IsolationForestModel } from './isolation-forest.ts';
import type { RandomForestModel } from './random-forest.ts';
import type { FlatTree } from './tree.ts';

const { onnx } = onnxPkg;
type Node = onnxPkg.onnx.INodeProto;
type Attribute = onnxPkg.onnx.IAttributeProto;

function attr(node: Node, name: string): Attribute {
  const a = (node.attribute ?? []).find((x) => x.name === name);
  if (a === undefined) throw new Error(`node '${node.name}' has no attribute '${name}'`);
  return a;
}
const nums = (a: Attribute): number[] =>
  (a.ints ?? []).length > 0 ? (a.ints ?? []).map(Number) : (a.floats ?? []).map(Number);

/** Rebuilds FlatTrees (leaf values multiplied back by the tree count) from a TreeEnsembleRegressor node. */
function treesOf(node: Node): FlatTree[] {
  const treeIds = nums(attr(node, 'nodes_treeids'));
  const nodeIds = nums(attr(node, 'nodes_nodeids'));
  const feats = nums(attr(node, 'nodes_featureids'));
  const values = attr(node, 'nodes_values').floats ?? [];
  const modes = (attr(node, 'nodes_modes').strings ?? []).map((s) => new TextDecoder().decode(s));
  const tIds = nums(attr(node, 'nodes_truenodeids'));
  const fIds = nums(attr(node, 'nodes_falsenodeids'));
  const wTree = nums(attr(node, 'target_treeids'));
  const wNode = nums(attr(node, 'target_nodeids'));
  const weights = attr(node, 'target_weights').floats ?? [];
  const nTrees = Math.max(...treeIds) + 1;
  const sizes = new Array<number>(nTrees).fill(0);
  for (let i = 0; i < treeIds.length; i++)
    sizes[treeIds[i] as number] = Math.max(sizes[treeIds[i] as number] as number, (nodeIds[i] as number) + 1);
  const trees = sizes.map((n) => ({
    feature: new Int32Array(n),
    threshold: new Float32Array(n),
    left: new Int32Array(n),
    right: new Int32Array(n),
    value: new Float64Array(n),
  }));
  for (let i = 0; i < treeIds.length; i++) {
    const t = trees[treeIds[i] as number] as FlatTree;
    const k = nodeIds[i] as number;
    const leaf = modes[i] === 'LEAF';
    (t.feature as Int32Array)[k] = leaf ? -1 : (feats[i] as number);
    (t.threshold as Float32Array)[k] = values[i] as number;
    (t.left as Int32Array)[k] = leaf ? -1 : (tIds[i] as number);
    (t.right as Int32Array)[k] = leaf ? -1 : (fIds[i] as number);
  }
  for (let i = 0; i < wTree.length; i++)
    (trees[wTree[i] as number] as FlatTree).value[wNode[i] as number] = (weights[i] as number) * nTrees;
  return trees;
}

/** Decodes both forests; throws an Error naming what is missing when the graph is not ours. */
export function decodeEnsembleOnnx(bytes: Uint8Array): {
  isolationForest: IsolationForestModel;
  randomForest: RandomForestModel;
} {
  const model = onnx.ModelProto.decode(bytes);
  const nodes = model.graph?.node ?? [];
  const ifNode = nodes.find((n) => n.name === 'isolation_forest');
  const rfNode = nodes.find((n) => n.name === 'random_forest');
  const k = (model.graph?.initializer ?? []).find((t) => t.name === 'if_k')?.floatData?.[0];
  if (ifNode === undefined || rfNode === undefined || k === undefined)
    throw new Error('not an if_rf_ensemble model: missing isolation_forest, random_forest or if_k');
  const normaliser = -Math.LN2 / k;
  // Recover ψ from c(ψ) by search; only used for reporting.
  let psi = 2;
  while (psi < 1 << 20 && averagePathLength(psi) < normaliser - 1e-6) psi++;
  return {
    isolationForest: { kind: 'isolation-forest', trees: treesOf(ifNode), sampleSize: psi, normaliser },
    randomForest: { kind: 'random-forest', trees: treesOf(rfNode) },
  };
}
