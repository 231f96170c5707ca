/**
 * Worker-thread side of the ONNX model runner (onnx-model-runner.ts starts it). onnxruntime-node's
 * `session.run` is not asynchronous: it runs the whole graph on the calling JS thread (deferred by
 * one setImmediate). Owning the session here lets the main thread compute features for the next
 * rows while this thread scores the previous ones.
 *
 * Protocol (structured clone, scores transferred back):
 *   workerData: { bytes: Uint8Array, options: SessionOptions }
 *   → { type: 'ready', inputNames, outputNames } | { type: 'failed', message }
 *   ← { type: 'run', id, data: Float32Array, rows, width } → { type: 'result', id, ifScore, rfScore } | { type: 'error', id, message }
 *   ← { type: 'close' } → session released, port closed (the thread exits)
 *   ← { type: 'crash', how } → diagnostic: the thread dies on the next 'run' it receives, with that
 *     run unanswered — 'throw' an uncaught error, 'exit' process.exit(70) inside the thread. It
 *     exists so the runner's restart (onnx-model-runner.ts, docs/performance.md) can be exercised
 *     on a real thread; the runner sends it only through `crashModelWorker`, nothing else does.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

export interface WorkerInit {
  readonly bytes: Uint8Array;
  readonly options: ort.InferenceSession.SessionOptions;
}
export type ToWorker =
  | {
      readonly type: 'run';
      readonly id: number;
      readonly data: Float32Array;
      readonly rows: number;
      readonly width: number;
    }
  | { readonly type: 'close' }
  | { readonly type: 'crash'; readonly how: 'throw' | 'exit' };
export type FromWorker =
  | {
      readonly type: 'ready';
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
    }
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly ifScore: Float32Array;
      readonly rfScore: Float32Array;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

/** A copy in a buffer of its own, so it can be transferred (output tensors may be views or external memory). */
function own(x: unknown): Float32Array<ArrayBuffer> {
  return x instanceof Float32Array ? new Float32Array(x) : new Float32Array(0);
}

async function serve(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('onnx-worker.ts runs only as a worker thread');
  const init = workerData as WorkerInit;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(init.bytes, init.options);
  } catch (cause) {
    port.postMessage({ type: 'failed', message: String(cause) } satisfies FromWorker);
    port.close();
    return;
  }
  port.postMessage({
    type: 'ready',
    inputNames: session.inputNames,
    outputNames: session.outputNames,
  } satisfies FromWorker);
  let crash: 'throw' | 'exit' | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'close') {
      void session.release().finally(() => port.close());
      return;
    }
    if (m.type === 'crash') {
      crash = m.how;
      return;
    }
    if (crash === 'exit') process.exit(70);
    if (crash === 'throw') throw new Error(`diagnostic crash requested, run ${m.id} left unanswered`);
    session.run({ features: new ort.Tensor('float32', m.data, [m.rows, m.width]) }).then(
      (out) => {
        const ifScore = own(out.if_score?.data);
        const rfScore = own(out.rf_score?.data);
        port.postMessage({ type: 'result', id: m.id, ifScore, rfScore } satisfies FromWorker, [
          ifScore.buffer,
          rfScore.buffer,
        ]);
      },
      (cause: unknown) =>
        port.postMessage({ type: 'error', id: m.id, message: String(cause) } satisfies FromWorker),
    );
  });
}

await serve();
