/**
 * Worker-thread side of the retrain fit (learning-fit.ts `fitInWorker` starts it): runs
 * `fitCandidate` on `workerData` and posts progress, then the fitted models (structured clone) or
 * the error, once. The thread is terminated by the parent after the last message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { fitCandidate, type FitInput, type FromFitWorker } from './learning-fit.ts';

const port = parentPort;
if (port === null) throw new Error('learning-fit-worker.ts runs only as a worker thread');
try {
  const output = fitCandidate(workerData as FitInput, (stage, done) =>
    port.postMessage({ type: 'progress', stage, done } satisfies FromFitWorker),
  );
  port.postMessage({ type: 'done', output } satisfies FromFitWorker);
} catch (err) {
  port.postMessage({
    type: 'error',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  } satisfies FromFitWorker);
}
