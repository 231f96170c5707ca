/**
 * Incremental checkpoints (docs/scale-out.md, "Sizing"): bytes per sensor per checkpoint interval,
 * full snapshot vs delta, and the CPU time per checkpoint, on one partition of the 1M-sensor sizing
 * (1,950 sensors, 975 equipment; default feature options: 24 h window, 96 buckets of 15 min;
 * 0.1 readings/s per sensor). The windows are first filled (24 h, one reading per sensor per
 * bucket, features only), then each interval's readings are scored by the real Detector (shipped
 * ONNX ensemble, main thread) and the real partition snapshot is taken, diffed against the
 * previous one, and written through PgPartitionCheckpoints (base vs delta) into a scratch database.
 *
 * `npx tsx bench/checkpoint.bench.ts` prints a table and merges its `checkpoint_*` keys into
 * bench/results.json and the root mirror (only those keys). `npm run bench -- checkpoint` also works.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RESULTS_FILES } from './results-file.ts';
import { LabPartition, labRunner, plantIndex } from '../test/fixtures/checkpoint-lab.ts';
import { createTestDatabase, testPool } from '../test/fixtures/pg.ts';
import { runMigrations } from '../src/adapters/pg-migrations.ts';
import { PgPartitionCheckpoints } from '../src/adapters/pg-checkpoint-store.ts';
import {
  applyDeltaToImage,
  diffPartitionState,
  encodePartitionImage,
  toPartitionImage,
} from '../src/app/partition-delta.ts';
import { DEFAULT_CHAIN } from '../src/app/checkpoint-chain.ts';
import type { TagEvent } from '../src/domain/tag-event.ts';
import type { SensorReading } from '../src/domain/tag-event.ts';

const EQUIPMENT = 975;
const SENSORS = 2 * EQUIPMENT;
const RATE_HZ = 0.1;
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 5);

function tick(ts: number, k: number): TagEvent[] {
  const out: TagEvent[] = [];
  for (let e = 0; e < EQUIPMENT; e++) {
    const id = `EQ_${String(e).padStart(4, '0')}`;
    const v = Math.sin(k / 7 + e);
    out.push({
      tagPath: `[default]Lab/${id}/Temperature`,
      value: Number((60 + (e % 5) + v).toFixed(3)),
      quality: 'good',
      sourceTimestampMs: ts,
      receivedTimestampMs: ts,
    });
    out.push({
      tagPath: `[default]Lab/${id}/Vibration`,
      value: Number((2 + 0.1 * v).toFixed(3)),
      quality: 'good',
      sourceTimestampMs: ts,
      receivedTimestampMs: ts,
    });
  }
  return out;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1_000;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

interface IntervalFigures {
  readonly fullBytes: number;
  readonly deltaBytes: number;
  readonly fullCpuMs: number;
  readonly diffCpuMs: number;
  readonly baseWriteMs: number;
  readonly deltaWriteMs: number;
  readonly chainRestoreCpuMs: number;
}

async function measure(
  part: LabPartition,
  store: PgPartitionCheckpoints,
  partition: number,
  intervalS: number,
  checkpoints: number,
  t0: number,
): Promise<{ f: IntervalFigures; t: number }> {
  let t = t0;
  const tickMs = 1_000 / RATE_HZ;
  let prev = await part.state();
  let prevSeq = 1;
  await store.save(partition, { seq: prevSeq, state: prev });
  const full: number[] = [];
  const delta: number[] = [];
  const fullCpu: number[] = [];
  const diffCpu: number[] = [];
  const baseWrite: number[] = [];
  const deltaWrite: number[] = [];
  const chain: Uint8Array[] = [];
  const base = prev;
  for (let c = 0; c < checkpoints; c++) {
    for (let s = 0; s < (intervalS * 1_000) / tickMs; s++, t += tickMs)
      await part.process([tick(t, t / tickMs)]);
    const c0 = cpuMs();
    const state = await part.state();
    const c1 = cpuMs();
    const d = diffPartitionState(prev, prevSeq, state, prevSeq + 1);
    const c2 = cpuMs();
    full.push(state.length);
    delta.push(d.length);
    fullCpu.push(c1 - c0);
    diffCpu.push(c2 - c1);
    chain.push(d);
    const w0 = performance.now();
    if (!(await store.saveDelta(partition, { baseSeq: 1, prevSeq, seq: prevSeq + 1, delta: d })))
      throw new Error('delta refused');
    deltaWrite.push(performance.now() - w0);
    prev = state;
    prevSeq++;
  }
  // A full base of the same state, written as the chain's compaction would.
  for (let k = 0; k < 3; k++) {
    const w0 = performance.now();
    await store.save(partition, { seq: prevSeq + 1 + k, state: prev });
    baseWrite.push(performance.now() - w0);
  }
  // A takeover's work on the chain (as PartitionCheckpointer.load): parse the base, apply every delta, encode once.
  const r0 = cpuMs();
  let img = toPartitionImage(base);
  chain.forEach((d, i) => (img = applyDeltaToImage(img, 1 + i, d).img));
  const s = encodePartitionImage(img);
  const chainRestoreCpuMs = cpuMs() - r0;
  if (s.length !== prev.length) throw new Error('chain did not rebuild the state');
  const f = {
    fullBytes: median(full),
    deltaBytes: median(delta),
    fullCpuMs: median(fullCpu),
    diffCpuMs: median(diffCpu),
    baseWriteMs: median(baseWrite),
    deltaWriteMs: median(deltaWrite),
    chainRestoreCpuMs,
  };
  return { f, t };
}

/** Average bytes written per checkpoint under the chain policy (a base, then deltas until fullEvery or the ratio). */
function averageWritten(full: number, delta: number): { perCheckpoint: number; chainLength: number } {
  const n = Math.min(DEFAULT_CHAIN.fullEvery, 1 + Math.floor((DEFAULT_CHAIN.maxChainRatio * full) / delta));
  return { perCheckpoint: (full + (n - 1) * delta) / n, chainLength: n };
}

export async function run(): Promise<Record<string, unknown>> {
  const runner = await labRunner();
  const db = await createTestDatabase('sc_ckbench');
  const pool = testPool(db.url, 2);
  try {
    await runMigrations(pool);
    const store = new PgPartitionCheckpoints(pool, 'BENCH', 'bench');
    const part = new LabPartition(plantIndex(EQUIPMENT), runner, { windowMs: DAY_MS, bucketCount: 96 });
    // Fill the 24 h window: one reading per sensor per 15-minute bucket (features only).
    let t = START;
    for (let k = 0; k < 96; k++, t += 900_000) {
      const readings: SensorReading[] = [];
      for (const e of tick(t, k)) {
        const v = part.validator.validate(e);
        if (v.ok && v.event.kind === 'sensor') readings.push(v.event);
      }
      await part.detector.warm(readings);
    }
    const a = await measure(part, store, 0, 60, 10, t);
    const b = await measure(part, store, 1, 600, 6, a.t);
    const per = (x: number): number => Math.round((x / SENSORS) * 10) / 10;
    const row = (intervalS: number, f: IntervalFigures): Record<string, number> => {
      const avg = averageWritten(f.fullBytes, f.deltaBytes);
      return {
        interval_s: intervalS,
        full_bytes_per_sensor: per(f.fullBytes),
        delta_bytes_per_sensor: per(f.deltaBytes),
        chain_checkpoints_per_base: avg.chainLength,
        written_bytes_per_sensor_avg: per(avg.perCheckpoint),
        full_mb_per_s_at_1m_sensors: Math.round(((f.fullBytes / SENSORS) * 1e6) / intervalS / 1e4) / 100,
        written_mb_per_s_at_1m_sensors:
          Math.round(((avg.perCheckpoint / SENSORS) * 1e6) / intervalS / 1e4) / 100,
        full_snapshot_cpu_ms: Math.round(f.fullCpuMs * 10) / 10,
        delta_diff_cpu_ms: Math.round(f.diffCpuMs * 10) / 10,
        full_snapshot_cpu_us_per_sensor: Math.round(((f.fullCpuMs * 1_000) / SENSORS) * 100) / 100,
        delta_extra_cpu_us_per_sensor: Math.round(((f.diffCpuMs * 1_000) / SENSORS) * 100) / 100,
        base_write_ms: Math.round(f.baseWriteMs * 10) / 10,
        delta_write_ms: Math.round(f.deltaWriteMs * 10) / 10,
      };
    };
    return {
      checkpoint_delta_60s: row(60, a.f),
      checkpoint_delta_600s: row(600, b.f),
      checkpoint_chain_restore_cpu_ms: {
        deltas_60s_x10: Math.round(a.f.chainRestoreCpuMs),
        deltas_600s_x6: Math.round(b.f.chainRestoreCpuMs),
      },
      checkpoint_conditions: {
        sensors: SENSORS,
        equipment: EQUIPMENT,
        tag_chars: '[default]Lab/EQ_0000/Temperature'.length,
        readings_per_s_per_sensor: RATE_HZ,
        window_ms: DAY_MS,
        bucket_count: 96,
        chain_policy: DEFAULT_CHAIN,
        at: new Date().toISOString(),
        load_average_1m: Math.round(((await import('node:os')).loadavg()[0] as number) * 100) / 100,
        note: 'one partition of the 1M-sensor sizing; CPU = process.cpuUsage around snapshot+encode and around the diff; writes into the local Postgres',
      },
    };
  } finally {
    await pool.end();
    await db.drop();
    await runner.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await run();
  for (const [k, v] of Object.entries(r)) {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      for (const [kk, vv] of Object.entries(v))
        process.stdout.write(`${`${k}.${kk}`.padEnd(64)} ${JSON.stringify(vv)}\n`);
    } else process.stdout.write(`${k.padEnd(64)} ${JSON.stringify(v)}\n`);
  }
  // Read-modify-write of these keys only, in each file (the root file mirrors the sidecar's).
  for (const f of RESULTS_FILES) {
    const previous = existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(f, `${JSON.stringify({ ...previous, ...r }, null, 2)}\n`);
  }
}
