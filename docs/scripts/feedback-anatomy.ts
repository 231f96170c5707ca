/**
 * Where the false alarms of the feedback backtest sit, and what an operator's answers could teach
 * about them (docs/feedback-backtest.md, "Session 4"). Analysis only: nothing here runs in the
 * product. Run from the repository root (about 10 s):
 *
 *   npx tsx docs/scripts/feedback-anatomy.ts ../shared/data/skab/valve1/*.csv
 *
 * 1. Round 0 (the plain backtest, `runFile`) on every file; each false-alarm row is placed by
 *    where it is (before the file's labelled fault, after it, or between two labelled parts) and by
 *    the recommendation it belongs to (5-minute dedup windows, as the engine groups them) and that
 *    recommendation's answer from the simulated operator (hindsight, or 60 s after it was raised).
 * 2. A case memory, the kind of learner the session-3 note proposed ("knows the sensor and the
 *    context"): every answered recommendation becomes a case in an equipment-level signature space
 *    (per sensor: z-score, EWMA gap, level shift, clipped to ±10); an approval is a confirmed case
 *    (the tick that raised it), a rejection a false-alarm case (every event the operator saw). A
 *    later flagged tick whose nearest case is a false-alarm case within `radius` is not flagged.
 *    Two leak-free protocols: causal (files in time order, a case acts only on ticks after its
 *    decision, the memory shared by all files: one rig) and 2-fold (the backtest's folds, the
 *    other fold's round-0 answers). Flags are filtered after the alarm gate, so the figures are
 *    an optimistic bound for this learner (the windows and the gate are not re-run).
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadOnnxModelDir } from '../../gateway-sidecar/src/adapters/onnx-model-runner.ts';
import { runFile } from '../../gateway-sidecar/src/cli/backtest-run.ts';
import { parseSensorCsv } from '../../gateway-sidecar/src/domain/csv.ts';
import { windowStartMs } from '../../gateway-sidecar/src/domain/dedup.ts';
import { FEATURE_NAMES } from '../../gateway-sidecar/src/domain/features.ts';
import { shippedModelDir } from '../../gateway-sidecar/src/main-detection.ts';
import { DEFAULT_ANOMALY_THRESHOLD } from '../../gateway-sidecar/src/ml/ensemble-training.ts';
import { decodeEnsembleOnnx } from '../../gateway-sidecar/src/ml/onnx-import.ts';

const SIGNATURE = ['z_score', 'ewma_gap', 'level_shift'] as const;
const DEDUP_MINUTES = 5;

interface FileRows {
  readonly name: string;
  readonly ts: number[];
  readonly label: number[];
  readonly flag: boolean[];
  readonly sig: Float64Array[];
}

interface Rec {
  readonly rows: number[];
  readonly approved: boolean;
  /** Rows the operator saw when answering. */
  readonly seen: number[];
  readonly decidedAt: number;
}

const paths = process.argv.slice(2);
if (paths.length === 0) {
  process.stderr.write('usage: npx tsx docs/scripts/feedback-anatomy.ts FILE.csv...\n');
  process.exit(2);
}
const modelDir = shippedModelDir();
const runner = await loadOnnxModelDir(modelDir, FEATURE_NAMES);
const manifest = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as { file?: string };
const { randomForest } = decodeEnsembleOnnx(readFileSync(join(modelDir, manifest.file ?? 'model.onnx')));

const files: FileRows[] = [];
for (const p of paths) {
  const table = parseSensorCsv(readFileSync(p, 'utf8'));
  const width = table.columns.length * SIGNATURE.length;
  const sig: Float64Array[] = [];
  const r = await runFile(
    p,
    table,
    {
      trainRows: 400,
      threshold: runner.anomalyThreshold ?? DEFAULT_ANOMALY_THRESHOLD,
      windowMs: 86_400_000,
      bucketCount: 96,
      ifWeight: 0.3,
      rfWeight: 0.7,
      shippedRunner: runner,
      randomForest,
      onScored: (_row, scored) => {
        const v = new Float64Array(width);
        for (const s of scored)
          SIGNATURE.forEach((f, j) => {
            const x = s.features[f] ?? 0;
            v[s.reading.tag.sensorIndex * SIGNATURE.length + j] = Math.max(-10, Math.min(10, x));
          });
        sig.push(v);
      },
    },
    () => {},
  );
  files.push({
    name: basename(p),
    ts: table.timestampsMs.slice(r.firstScored),
    label: (table.labels ?? []).slice(r.firstScored),
    flag: r.flagged,
    sig,
  });
}
await runner.close();

/** Recommendations of one file from its flags: 5-minute windows, answered by the operator. */
function recommendations(f: FileRows, flag: readonly boolean[], decideAfterMs: number | undefined): Rec[] {
  const byWindow = new Map<number, number[]>();
  flag.forEach((on, i) => {
    if (!on) return;
    const w = windowStartMs(f.ts[i] as number, DEDUP_MINUTES);
    const list = byWindow.get(w);
    if (list === undefined) byWindow.set(w, [i]);
    else list.push(i);
  });
  return [...byWindow.entries()].map(([w, rows]) => {
    const first = f.ts[rows[0] as number] as number;
    const decidedAt = decideAfterMs === undefined ? w + DEDUP_MINUTES * 60_000 : first + decideAfterMs;
    const seen = rows.filter((i) => (f.ts[i] as number) <= decidedAt);
    return { rows, seen, decidedAt, approved: seen.some((i) => f.label[i] === 1) };
  });
}

function figures(flags: readonly (readonly boolean[])[]): {
  f1: number;
  far: number;
  fp: number;
  perFile: string;
} {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  const per: string[] = [];
  files.forEach((f, k) => {
    let ftp = 0;
    let ffp = 0;
    (flags[k] as readonly boolean[]).forEach((on, i) => {
      const y = f.label[i] === 1;
      if (on && y) ftp++;
      else if (on) ffp++;
      else if (y) fn++;
      else tn++;
    });
    tp += ftp;
    fp += ffp;
    if (ffp > 0 || ftp !== f.flag.filter((on, i) => on && f.label[i] === 1).length)
      per.push(`${f.name} ${ftp}/${ffp}`);
  });
  return { f1: (2 * tp) / (2 * tp + fp + fn), far: fp / (fp + tn), fp, perFile: per.join(', ') };
}

// 1. Anatomy of round 0's false alarms.
const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;
const base = figures(files.map((f) => f.flag));
process.stdout.write(
  `round 0: F1 ${base.f1.toFixed(3)}  FAR ${pct(base.far)}  false-alarm rows ${base.fp}  (half: ${Math.floor(base.fp / 2)})\n\n`,
);
for (const [name, after] of [
  ['hindsight', undefined],
  ['answers after 60 s', 60_000],
] as const) {
  const cells = new Map<string, number>();
  files.forEach((f) => {
    const first = f.label.indexOf(1);
    const last = f.label.lastIndexOf(1);
    for (const rec of recommendations(f, f.flag, after))
      for (const i of rec.rows) {
        if (f.label[i] === 1) continue;
        const where =
          first < 0
            ? 'file without fault'
            : i < first
              ? 'before the fault'
              : i > last
                ? 'after the fault'
                : 'inside';
        const key = `${where} | ${rec.approved ? 'approved' : 'rejected'}`;
        cells.set(key, (cells.get(key) ?? 0) + 1);
      }
  });
  process.stdout.write(`false-alarm rows by place | answer of their recommendation (${name}):\n`);
  for (const [k, v] of [...cells.entries()].sort()) process.stdout.write(`  ${k.padEnd(32)} ${v}\n`);
  process.stdout.write('\n');
}

// 2. The case memory.
interface Case {
  readonly approved: boolean;
  readonly sig: readonly Float64Array[];
}
function distance(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += ((a[j] as number) - (b[j] as number)) ** 2;
  return Math.sqrt(s);
}
function suppressed(x: Float64Array, cases: readonly Case[], radius: number): boolean {
  let near0 = Infinity;
  let near1 = Infinity;
  for (const c of cases)
    for (const y of c.sig) {
      const d = distance(x, y);
      if (c.approved) near1 = Math.min(near1, d);
      else near0 = Math.min(near0, d);
    }
  return near0 < near1 && near0 < radius;
}
function caseOf(f: FileRows, rec: Rec): Case {
  return {
    approved: rec.approved,
    sig: (rec.approved ? rec.seen.slice(0, 1) : rec.seen).map((i) => f.sig[i] as Float64Array),
  };
}

/** Causal: files in time order, one memory; a case acts on ticks after its decision only. */
function causal(after: number | undefined, radius: number): boolean[][] {
  const cases: Case[] = [];
  const order = files
    .map((_, k) => k)
    .sort((a, b) => (files[a]?.ts[0] as number) - (files[b]?.ts[0] as number));
  const out: boolean[][] = files.map(() => []);
  for (const k of order) {
    const f = files[k] as FileRows;
    const flag: boolean[] = [];
    const open = new Map<number, { rows: number[]; first: number; decided: boolean }>();
    const decide = (w: number, o: { rows: number[]; first: number; decided: boolean }): void => {
      o.decided = true;
      const approved = o.rows.some((i) => f.label[i] === 1);
      cases.push(caseOf(f, { rows: o.rows, seen: o.rows, approved, decidedAt: w }));
    };
    for (let i = 0; i < f.ts.length; i++) {
      const t = f.ts[i] as number;
      for (const [w, o] of open) {
        const due = after === undefined ? w + DEDUP_MINUTES * 60_000 : o.first + after;
        if (!o.decided && t > due) decide(w, o);
      }
      const on = f.flag[i] === true && !suppressed(f.sig[i] as Float64Array, cases, radius);
      flag.push(on);
      if (!on) continue;
      const w = windowStartMs(t, DEDUP_MINUTES);
      const o = open.get(w);
      if (o === undefined) open.set(w, { rows: [i], first: t, decided: false });
      else if (!o.decided) o.rows.push(i);
    }
    for (const [w, o] of open) if (!o.decided) decide(w, o);
    out[k] = flag;
  }
  return out;
}

/** 2-fold: the backtest's contiguous folds in the order given; each learns the other's round-0 answers. */
function twoFold(after: number | undefined, radius: number): boolean[][] {
  const half = Math.ceil(files.length / 2);
  const foldOf = (k: number): number => (k < half ? 0 : 1);
  const casesFrom = (fold: number): Case[] =>
    files.flatMap((f, k) =>
      foldOf(k) === fold ? recommendations(f, f.flag, after).map((r) => caseOf(f, r)) : [],
    );
  const learnt = [casesFrom(1), casesFrom(0)];
  return files.map((f, k) =>
    f.flag.map((on, i) => on && !suppressed(f.sig[i] as Float64Array, learnt[foldOf(k)] as Case[], radius)),
  );
}

process.stdout.write(
  'case memory (radius in the clipped z units of the signature; ∞ = nearest case decides):\n',
);
process.stdout.write('protocol  operator   radius   F1     FAR      FP rows  per file TP/FP where changed\n');
for (const [pname, run] of [
  ['causal', causal],
  ['2-fold', twoFold],
] as const)
  for (const [oname, after] of [
    ['hindsight', undefined],
    ['60 s', 60_000],
  ] as const)
    for (const radius of [3, 4, 6, Infinity]) {
      const r = figures(run(after, radius));
      process.stdout.write(
        `${pname.padEnd(9)} ${oname.padEnd(10)} ${String(radius === Infinity ? '∞' : radius).padStart(6)}   ${r.f1.toFixed(3)}  ${pct(r.far).padStart(6)}  ${String(r.fp).padStart(7)}  ${r.perFile}\n`,
      );
    }
process.exit(0);
