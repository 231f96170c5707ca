/**
 * Encodes the two forests as one ONNX model (bytes), with `onnx-proto`:
 *
 *   features[N, F] ─► TreeEnsembleRegressor(IF leaves = path length / trees, SUM) ─► Mul(-ln2 / c) ─► Exp ─► if_score[N, 1]
 *                  └► TreeEnsembleRegressor(RF leaves = fault fraction / trees, SUM) ─────────────────────► rf_score[N, 1]
 *
 * Opsets: '' 17 and 'ai.onnx.ml' 3, irVersion 8 (what onnxruntime-node 1.23 loads). Branch mode
 * BRANCH_LEQ with float32 thresholds matches `evalTree`. The ensemble weights are not baked in:
 * they come from config at scoring time (domain/scoring.ts), so changing them needs no re-export.
 */
import onnxPkg from 'onnx-proto';
import type { IsolationForestModel } from './isolation-forest.ts';
import type { RandomForestModel } from './random-forest.ts';
import type { FlatTree } from './tree.ts';

const { onnx } = onnxPkg;
type Attr = InstanceType<typeof onnx.AttributeProto>;
const AT = onnx.AttributeProto.AttributeType;

export const ONNX_INPUT = 'features';
export const ONNX_OUTPUTS = ['if_score', 'rf_score'] as const;

export interface OnnxExportInput {
  readonly featureNames: readonly string[];
  readonly isolationForest: IsolationForestModel;
  readonly randomForest: RandomForestModel;
  readonly modelVersion: string;
}

function ints(name: string, v: readonly number[]): Attr {
  return onnx.AttributeProto.create({ name, type: AT.INTS, ints: [...v] });
}
function floats(name: string, v: readonly number[]): Attr {
  return onnx.AttributeProto.create({ name, type: AT.FLOATS, floats: [...v] });
}
function strings(name: string, v: readonly string[]): Attr {
  return onnx.AttributeProto.create({
    name,
    type: AT.STRINGS,
    strings: v.map((s) => new TextEncoder().encode(s)),
  });
}
function str(name: string, v: string): Attr {
  return onnx.AttributeProto.create({ name, type: AT.STRING, s: new TextEncoder().encode(v) });
}
function int(name: string, v: number): Attr {
  return onnx.AttributeProto.create({ name, type: AT.INT, i: v });
}

/** One TreeEnsembleRegressor node whose output is Σ_trees leafValue × leafScale. */
function treeEnsembleNode(
  trees: readonly FlatTree[],
  leafScale: number,
  output: string,
  name: string,
): InstanceType<typeof onnx.NodeProto> {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const values: number[] = [];
  const modes: string[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const tTree: number[] = [];
  const tNode: number[] = [];
  const tWeight: number[] = [];
  trees.forEach((t, ti) => {
    for (let i = 0; i < t.feature.length; i++) {
      const leaf = (t.feature[i] as number) < 0;
      treeIds.push(ti);
      nodeIds.push(i);
      featureIds.push(leaf ? 0 : (t.feature[i] as number));
      values.push(leaf ? 0 : (t.threshold[i] as number));
      modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      trueIds.push(leaf ? 0 : (t.left[i] as number));
      falseIds.push(leaf ? 0 : (t.right[i] as number));
      if (leaf) {
        tTree.push(ti);
        tNode.push(i);
        tWeight.push((t.value[i] as number) * leafScale);
      }
    }
  });
  return onnx.NodeProto.create({
    name,
    opType: 'TreeEnsembleRegressor',
    domain: 'ai.onnx.ml',
    input: [ONNX_INPUT],
    output: [output],
    attribute: [
      int('n_targets', 1),
      str('aggregate_function', 'SUM'),
      str('post_transform', 'NONE'),
      ints('nodes_treeids', treeIds),
      ints('nodes_nodeids', nodeIds),
      ints('nodes_featureids', featureIds),
      floats('nodes_values', values),
      strings('nodes_modes', modes),
      ints('nodes_truenodeids', trueIds),
      ints('nodes_falsenodeids', falseIds),
      ints('target_treeids', tTree),
      ints('target_nodeids', tNode),
      ints(
        'target_ids',
        tTree.map(() => 0),
      ),
      floats('target_weights', tWeight),
    ],
  });
}

function floatTensorInfo(name: string, width: number): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] },
      },
    },
  });
}

/** Serialises both forests into one ONNX ModelProto. */
export function encodeEnsembleOnnx(m: OnnxExportInput): Uint8Array {
  const ifTrees = m.isolationForest.trees;
  const scale = -Math.LN2 / m.isolationForest.normaliser;
  const graph = onnx.GraphProto.create({
    name: 'if_rf_ensemble',
    node: [
      treeEnsembleNode(ifTrees, 1 / ifTrees.length, 'if_path', 'isolation_forest'),
      onnx.NodeProto.create({
        name: 'if_scale',
        opType: 'Mul',
        input: ['if_path', 'if_k'],
        output: ['if_log'],
      }),
      onnx.NodeProto.create({ name: 'if_exp', opType: 'Exp', input: ['if_log'], output: ['if_score'] }),
      treeEnsembleNode(m.randomForest.trees, 1 / m.randomForest.trees.length, 'rf_score', 'random_forest'),
    ],
    initializer: [
      onnx.TensorProto.create({
        name: 'if_k',
        dataType: onnx.TensorProto.DataType.FLOAT,
        dims: [1],
        floatData: [scale],
      }),
    ],
    input: [floatTensorInfo(ONNX_INPUT, m.featureNames.length)],
    output: [floatTensorInfo('if_score', 1), floatTensorInfo('rf_score', 1)],
    docString: `inputs in order: ${m.featureNames.join(', ')}`,
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'ignition-ai-monitor',
    producerVersion: m.modelVersion,
    modelVersion: 1,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    graph,
    metadataProps: [
      { key: 'feature_names', value: m.featureNames.join(',') },
      { key: 'model_version', value: m.modelVersion },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}
