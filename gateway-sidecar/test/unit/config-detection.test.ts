// Config keys of the detection pipeline (ensemble.pipelineChunks, ensemble.onnx*): defaults, bad
// values named in the error, and the mapping onto the ONNX runner options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config.ts';
import { onnxRunnerOptionsOf } from '../../src/adapters/onnx-model-runner.ts';
import { DEFAULT_PIPELINE_CHUNKS } from '../../src/app/detector.ts';
import { SidecarError } from '../../src/errors.ts';

test('detection pipeline defaults: model in a worker thread, one intra/inter-op thread, 2 runs per micro-batch', () => {
  const e = parseConfig({}).ensemble;
  assert.equal(e.batchSize, 256);
  assert.equal(e.pipelineChunks, 2);
  assert.equal(
    e.pipelineChunks,
    DEFAULT_PIPELINE_CHUNKS,
    'the Detector default and the config default agree',
  );
  assert.deepEqual(onnxRunnerOptionsOf(e), { thread: 'worker', intraOpThreads: 1, interOpThreads: 1 });
  const custom = parseConfig({
    ensemble: { onnxThread: 'main', onnxIntraOpThreads: 2, onnxInterOpThreads: 2, pipelineChunks: 1 },
  }).ensemble;
  assert.deepEqual(onnxRunnerOptionsOf(custom), { thread: 'main', intraOpThreads: 2, interOpThreads: 2 });
  assert.equal(custom.pipelineChunks, 1);
});

test('bad detection pipeline values are refused, naming the key', () => {
  for (const [bad, key] of [
    [{ onnxThread: 'gpu' }, 'onnxThread'],
    [{ pipelineChunks: 0 }, 'pipelineChunks'],
    [{ pipelineChunks: 1.5 }, 'pipelineChunks'],
    [{ onnxIntraOpThreads: 0 }, 'onnxIntraOpThreads'],
    [{ onnxInterOpThreads: -1 }, 'onnxInterOpThreads'],
  ] as const) {
    assert.throws(
      () => parseConfig({ ensemble: bad }),
      (e: unknown) =>
        e instanceof SidecarError &&
        e.code === 'SC_ERR_CONFIG_INVALID' &&
        e.message.includes(`ensemble.${key}`),
      JSON.stringify(bad),
    );
  }
});
