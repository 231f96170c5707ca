/**
 * Detection speed and memory: raw ONNX ensemble rows/s (batched), features + scoring events/s in
 * one process through the real Detector, and feature-state bytes per sensor at 100,000 sensors
 * with 24 h windows. Each figure: warm-up first, then the median of RUNS runs (the pipeline:
 * PIPELINE_ROUNDS shorter rounds, so the two variants alternate often and share the same load).
 *
 * The Detector is measured at the default settings (ONNX session in a worker thread, 2 runs per
 * micro-batch of 256) and, run for run back to back, with the session on the event-loop thread
 * and one run per batch (the sequential path, `onnxThread: main`, `pipelineChunks: 1`), so the
 * gain of the pipeline shows even on a loaded machine: `pipeline_speedup_vs_main_thread` is the
 * median of the per-run ratios (docs/performance.md).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Detector } from '../src/app/detector.ts';
import {
  loadOnnxModelDir,
  onnxRunnerOptionsOf,
  type OnnxRunnerOptions,
} from '../src/adapters/onnx-model-runner.ts';
import { parseConfig } from '../src/config.ts';
import { shippedModelDir } from '../src/main-detection.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FeatureEngine } from '../src/domain/features.ts';
import type { SensorReading } from '../src/domain/tag-event.ts';
import { syntheticReading } from '../src/ml/training-set.ts';

// The model the sidecar ships and loads by default (the newest models/if-rf-ensemble/<version>).
const MODEL_DIR = shippedModelDir();
const RUNS = 5;
const PIPELINE_ROUNDS = 20;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function readings(sensors: number, ticks: number): SensorReading[] {
  const tags = Array.from(
    { length: sensors },
    (_, s) => syntheticReading(`EQ${Math.floor(s / 8)}`, `s${s % 8}`, s, 0, 0).tag,
  );
  const out: SensorReading[] = [];
  for (let t = 0; t < ticks; t++) {
    for (let s = 0; s < sensors; s++) {
      const tag = tags[s] as SensorReading['tag'];
      out.push({
        kind: 'sensor',
        tag,
        value: 50 + 5 * Math.sin(t / 30 + s) + ((t * 7919 + s * 104729) % 97) / 97,
        quality: 'good',
        sourceTimestampMs: t * 1000,
        receivedTimestampMs: t * 1000,
      });
    }
  }
  return out;
}

async function onnxRowsPerS(batch: number): Promise<{ rate: number; batch: number }> {
  // The runtime alone: the session on this thread, one run awaited after the other.
  const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, { thread: 'main' });
  const engine = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  const rs = readings(256, Math.max(40, (batch / 256) * 20));
  const x = new Float32Array(rs.length * FEATURE_COUNT);
  rs.forEach((r, i) => engine.update(r, x, i * FEATURE_COUNT));
  const chunks = Math.floor(rs.length / batch);
  for (let w = 0; w < 20; w++) await runner.run(x.subarray(0, batch * FEATURE_COUNT), batch);
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let c = 0; c < chunks; c++)
      await runner.run(x.subarray(c * batch * FEATURE_COUNT, (c + 1) * batch * FEATURE_COUNT), batch);
    rates.push((chunks * batch) / ((performance.now() - t0) / 1000));
  }
  await runner.close();
  return { rate: median(rates), batch };
}

interface Variant {
  readonly runner: OnnxRunnerOptions;
  readonly pipelineChunks: number;
}
/** The sidecar's defaults (config `ensemble`). */
const ENSEMBLE = parseConfig({}).ensemble;
const DEFAULTS: Variant = { runner: onnxRunnerOptionsOf(ENSEMBLE), pipelineChunks: ENSEMBLE.pipelineChunks };
const SEQUENTIAL: Variant = { runner: { thread: 'main' }, pipelineChunks: 1 };

/**
 * CPU time per thread of this process so far, in ms (Linux /proc; empty elsewhere). Unlike wall
 * time it barely depends on what else the machine runs, so it shows where the work is done even
 * on a loaded host: a pipeline whose busiest thread needs c µs per event can reach 1/c events/s
 * once it has the cores to itself.
 */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  if (!existsSync('/proc/self/task')) return out;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(f[11]) + Number(f[12])) * 10); // utime + stime, USER_HZ = 100
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

interface CpuShare {
  /** CPU µs per event on the event-loop thread. */
  main: number;
  /** CPU µs per event on the busiest other thread (the ONNX worker when there is one). */
  busiest: number;
  /** CPU µs per event on all other threads together (GC helpers, the worker, ...). */
  others: number;
}

/** events/s of each variant, measured run for run back to back on the same slices of readings. */
async function pipelineEventsPerS(
  batchSize: number,
  variants: readonly Variant[],
): Promise<{ rates: number[][]; events: number; cpu: CpuShare[] }> {
  const detectors = await Promise.all(
    variants.map(async (v) => {
      const runner = await loadOnnxModelDir(MODEL_DIR, FEATURE_NAMES, v.runner);
      return {
        runner,
        d: new Detector(runner, {
          windowMs: 86_400_000,
          bucketCount: 96,
          ifWeight: 0.3,
          rfWeight: 0.7,
          batchSize,
          batchMaxWaitMs: 5,
          pipelineChunks: v.pipelineChunks,
        }),
      };
    }),
  );
  const sensors = 1_000;
  const all = readings(sensors, 220);
  const warm = all.slice(0, 20_000);
  for (const { d } of detectors) await d.process(warm);
  const rest = all.slice(20_000);
  const per = Math.floor(rest.length / PIPELINE_ROUNDS);
  const rates: number[][] = variants.map(() => []);
  const cpuByThread: Map<string, number>[] = variants.map(() => new Map());
  for (let r = 0; r < PIPELINE_ROUNDS; r++) {
    const part = rest.slice(r * per, (r + 1) * per);
    for (let j = 0; j < detectors.length; j++) {
      const k = r % 2 === 0 ? j : detectors.length - 1 - j; // neither variant always goes first
      const d = (detectors[k] as (typeof detectors)[number]).d;
      const cpu0 = threadCpuMs();
      const t0 = performance.now();
      for (let i = 0; i < part.length; i += 4_096) await d.process(part.slice(i, i + 4_096));
      (rates[k] as number[]).push(part.length / ((performance.now() - t0) / 1000));
      const acc = cpuByThread[k] as Map<string, number>;
      for (const [tid, ms] of threadCpuMs()) acc.set(tid, (acc.get(tid) ?? 0) + ms - (cpu0.get(tid) ?? 0));
    }
  }
  for (const { runner } of detectors) await runner.close();
  const events = per * PIPELINE_ROUNDS;
  const cpu = cpuByThread.map((acc) => {
    const main = acc.get(String(process.pid)) ?? 0;
    const other = [...acc].filter(([tid]) => tid !== String(process.pid)).map(([, ms]) => ms);
    const us = (ms: number): number => Math.round(((ms * 1000) / events) * 100) / 100;
    return {
      main: us(main),
      busiest: us(Math.max(0, ...other)),
      others: us(other.reduce((a, b) => a + b, 0)),
    };
  });
  return { rates, events: per, cpu };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function bytesPerSensor(): { bytes: number; stateBytes: number } {
  const n = 100_000;
  const tags = Array.from({ length: n }, (_, s) =>
    syntheticReading(`EQ${Math.floor(s / 8)}`, `s${s % 8}`, s, 1, 0),
  );
  const out = new Float32Array(FEATURE_COUNT);
  gc();
  const before = process.memoryUsage();
  const engine = new FeatureEngine({ windowMs: 86_400_000, bucketCount: 96 });
  for (let t = 0; t < 3; t++)
    for (const r of tags) engine.update({ ...r, value: t, sourceTimestampMs: t * 900_000 }, out, 0);
  gc();
  const after = process.memoryUsage();
  const delta = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  return { bytes: delta / engine.sensorCount, stateBytes: engine.stateBytes / engine.sensorCount };
}

export async function run(): Promise<Record<string, number | string>> {
  const onnx = await onnxRowsPerS(256);
  const onnxBig = await onnxRowsPerS(4096);
  const pipe = await pipelineEventsPerS(ENSEMBLE.batchSize, [DEFAULTS, SEQUENTIAL]);
  const [fast, slow] = pipe.rates as [number[], number[]];
  // Same pipeline with micro-batches of 4,096 rows (config `ensemble.batchSize`; default 256).
  const pipeBig = await pipelineEventsPerS(4_096, [DEFAULTS]);
  const mem = bytesPerSensor();
  return {
    onnx_rows_per_s: Math.round(onnx.rate),
    onnx_batch_rows: onnx.batch,
    onnx_rows_per_s_batch_4096: Math.round(onnxBig.rate),
    pipeline_events_per_s: Math.round(median(fast)),
    pipeline_events_per_s_main_thread: Math.round(median(slow)),
    pipeline_speedup_vs_main_thread:
      Math.round(median(fast.map((f, i) => f / (slow[i] as number))) * 100) / 100,
    pipeline_events_per_s_batch_4096: Math.round(median(pipeBig.rates[0] as number[])),
    // Where the CPU goes (µs per event; Linux only, 0 elsewhere): defaults vs the sequential path.
    pipeline_cpu_us_per_event_main_thread: pipe.cpu[0]?.main ?? 0,
    pipeline_cpu_us_per_event_busiest_other_thread: pipe.cpu[0]?.busiest ?? 0,
    pipeline_cpu_us_per_event_other_threads: pipe.cpu[0]?.others ?? 0,
    sequential_cpu_us_per_event_main_thread: pipe.cpu[1]?.main ?? 0,
    sequential_cpu_us_per_event_other_threads: pipe.cpu[1]?.others ?? 0,
    pipeline_chunks: ENSEMBLE.pipelineChunks,
    pipeline_batch_rows: ENSEMBLE.batchSize,
    pipeline_events_per_run: pipe.events,
    pipeline_sensors: 1_000,
    bytes_per_sensor: Math.round(mem.bytes),
    bytes_per_sensor_typed_state: Math.round(mem.stateBytes),
    bytes_per_sensor_sensors: 100_000,
    detection_runs: RUNS,
    pipeline_rounds: PIPELINE_ROUNDS,
    detection_window_ms: 86_400_000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await run(), null, 2));
}
