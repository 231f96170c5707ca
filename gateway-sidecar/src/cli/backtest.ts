/**
 * `npm run backtest -- [--train-rows N] [--out preds.csv] [--plot FILE.html] [--summary FILE] [--model DIR] [--relearn-after TICKS] [--off-delay TICKS] [--on-delay TICKS] FILE...`
 *
 * For each CSV (SKAB `;` format or plain CSV with a timestamp column): fit on the first N rows
 * (default 400), score every later row, write `file,datetime,score,is_anomaly` per row, print
 * per-file and pooled F1 / FAR / MAR when labels exist, and alarm episodes per hour (flagged rows
 * re-raised within 5 minutes count as one episode). `--summary` writes the pooled figures as JSON
 * from the same numbers as the printed table.
 *
 * `--feedback [--rounds N] [--folds K]` runs the feedback backtest instead (src/cli/backtest-feedback.ts,
 * docs/feedback-backtest.md): a simulated operator answers the raised recommendations from the
 * labels, the product's retrain() runs between rounds, F1 / FAR / MAR and answers per round are
 * printed and written to the summary's `rounds`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOnnxModelDir } from '../adapters/onnx-model-runner.ts';
import { parseSensorCsv, type SensorTable } from '../domain/csv.ts';
import { FEATURE_NAMES } from '../domain/features.ts';
import { DEFAULT_ANOMALY_THRESHOLD } from '../ml/ensemble-training.ts';
import {
  addConfusion,
  addRow,
  countEpisodes,
  emptyConfusion,
  figuresOf,
  type Confusion,
} from '../ml/metrics.ts';
import { decodeEnsembleOnnx } from '../ml/onnx-import.ts';
import { parseConfig } from '../config.ts';
import { shippedModelDir } from '../main-detection.ts';
import { renderBacktestHtml } from './backtest-plot.ts';
import {
  feedbackSummary,
  feedbackTarget,
  printFeedback,
  printSeedSweep,
  printTarget,
} from './backtest-feedback-report.ts';
import { runFeedbackBacktest, type FeedbackResult } from './backtest-feedback.ts';
import { runFile, type FileResult } from './backtest-run.ts';

const DEDUP_MS = 5 * 60_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'train-rows': { type: 'string', default: '400' },
    out: { type: 'string' },
    plot: { type: 'string' },
    summary: { type: 'string' },
    // The model the sidecar serves by default: models/if-rf-ensemble/<highest version>.
    model: { type: 'string', default: shippedModelDir() },
    // Alarm-gate overrides (defaults: DEFAULT_GATE), for the leave-files-out checks in docs/detection.md.
    'relearn-after': { type: 'string' },
    'off-delay': { type: 'string' },
    'on-delay': { type: 'string' },
    // Feedback backtest (docs/feedback-backtest.md).
    feedback: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    folds: { type: 'string', default: '2' },
    'synthetic-equipments': { type: 'string' },
    'rf-trees': { type: 'string' },
    'rows-per-tree': { type: 'string' },
    'dedup-minutes': { type: 'string' },
    'decide-after': { type: 'string' },
    seed: { type: 'string' },
    seeds: { type: 'string' },
  },
});
// `npm run backtest` from the repository root runs this in gateway-sidecar/; npm's INIT_CWD is
// where the user typed the command, so relative paths mean what the user meant.
const userDir = process.env.INIT_CWD ?? process.cwd();
const userPath = (p: string): string => resolve(userDir, p);
const trainRows = Number(values['train-rows']);
if (!Number.isInteger(trainRows) || trainRows < 2) {
  process.stderr.write(`--train-rows must be an integer >= 2, got '${values['train-rows']}'\n`);
  process.exit(2);
}
if (positionals.length === 0) {
  process.stderr.write(
    'usage: npm run backtest -- [--train-rows N] [--out preds.csv] [--plot FILE.html] [--summary FILE] [--relearn-after TICKS] [--off-delay TICKS] [--on-delay TICKS] FILE...\n' +
      '       npm run backtest -- --feedback [--rounds N] [--folds K] [--synthetic-equipments N] [--rf-trees N] [--rows-per-tree N] [--dedup-minutes M] [--decide-after SECONDS] [--seed N | --seeds N,N,...] [--summary FILE] FILE...\n',
  );
  process.exit(2);
}

function gateFlag(
  name:
    | 'relearn-after'
    | 'off-delay'
    | 'on-delay'
    | 'rounds'
    | 'folds'
    | 'synthetic-equipments'
    | 'rf-trees'
    | 'rows-per-tree'
    | 'dedup-minutes'
    | 'decide-after'
    | 'seed',
  min = 1,
): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) {
    process.stderr.write(`--${name} must be an integer >= ${min}, got '${raw}'\n`);
    process.exit(2);
  }
  return v;
}
const relearnAfter = gateFlag('relearn-after');
const offDelay = gateFlag('off-delay');
const onDelay = gateFlag('on-delay');
const gate = {
  ...(onDelay !== undefined ? { onDelayTicks: onDelay } : {}),
  ...(relearnAfter !== undefined ? { relearnAfterTicks: relearnAfter } : {}),
  ...(offDelay !== undefined ? { offDelayTicks: offDelay } : {}),
};

const tables: { path: string; table: SensorTable }[] = [];
for (const p of positionals) {
  try {
    tables.push({ path: p, table: parseSensorCsv(readFileSync(userPath(p), 'utf8')) });
  } catch (e) {
    process.stderr.write(`${p}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

// Plain mode: a file no longer than --train-rows is all training and has nothing scored; say so
// (a silent F1 0.000 over 0 rows reads like a useless model), and stop if no file is left to score.
if (values.feedback !== true) {
  const unscored = tables.filter((t) => t.table.rows.length <= trainRows);
  for (const t of unscored) {
    process.stderr.write(
      `${t.path}: ${t.table.rows.length} rows, none left to score after --train-rows ${trainRows} (the first ${trainRows} rows only fit the model); use a smaller --train-rows or a longer file\n`,
    );
  }
  if (unscored.length === tables.length) {
    process.stderr.write(`nothing to score: no file has more than --train-rows ${trainRows} rows\n`);
    process.exit(2);
  }
}

const modelDir = userPath(values.model as string);
const shippedRunner = await loadOnnxModelDir(modelDir, FEATURE_NAMES);
const { randomForest } = decodeEnsembleOnnx(
  readFileSync(
    join(modelDir, JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')).file ?? 'model.onnx'),
  ),
);
const threshold = shippedRunner.anomalyThreshold ?? DEFAULT_ANOMALY_THRESHOLD;

const totalRows = tables.reduce((a, t) => a + t.table.rows.length, 0);
let done = 0;
let lastDraw = 0;
function progress(): void {
  done++;
  const now = Date.now();
  if (now - lastDraw < 100 && done < totalRows) return;
  lastDraw = now;
  const width = 30;
  const filled = Math.round((done / totalRows) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${totalRows} rows`);
}

if (values.feedback === true) await feedback();
else await plain();

async function feedback(): Promise<void> {
  const rounds = gateFlag('rounds') as number;
  const folds = gateFlag('folds', 1) as number;
  if (folds > tables.length) {
    process.stderr.write(`--folds ${folds} needs at least ${folds} files, got ${tables.length}\n`);
    process.exit(2);
  }
  const syntheticEquipments = gateFlag('synthetic-equipments');
  const rfTrees = gateFlag('rf-trees');
  const rowsPerTree = gateFlag('rows-per-tree');
  const dedupMinutes = gateFlag('dedup-minutes');
  const decideAfter = gateFlag('decide-after', 0);
  const seed = gateFlag('seed', 0);
  const seeds = seedList();
  if (seed !== undefined && seeds !== undefined) {
    process.stderr.write('--seed and --seeds exclude each other\n');
    process.exit(2);
  }
  // The product's defaults; --dedup-minutes overrides dedupWindowMinutes (what one recommendation spans).
  const config = parseConfig(dedupMinutes !== undefined ? { dedupWindowMinutes: dedupMinutes } : {});
  const runs = seeds ?? [seed];
  const roundsTotal = (rounds + 1) * runs.length;
  const protocol = (s: number | undefined) => ({
    folds,
    dedupWindowMinutes: config.dedupWindowMinutes,
    ...(decideAfter !== undefined ? { decideAfterMs: decideAfter * 1000 } : {}),
    ...(s !== undefined ? { seed: s } : {}),
  });
  const results: { seed: number | undefined; result: FeedbackResult }[] = [];
  try {
    for (const s of runs) {
      if (seeds !== undefined) process.stderr.write(`\nseed ${s}`);
      const result = await runFeedbackBacktest({
        tables,
        rounds,
        folds,
        base: {
          trainRows,
          windowMs: 86_400_000,
          bucketCount: 96,
          ifWeight: 0.3,
          rfWeight: 0.7,
          shippedRunner,
          gate,
        },
        randomForest,
        threshold,
        modelDir,
        learning: config.learning,
        dedupWindowMinutes: config.dedupWindowMinutes,
        ...(decideAfter !== undefined ? { decideAfterMs: decideAfter * 1000 } : {}),
        ...(s !== undefined ? { seed: s } : {}),
        ...(syntheticEquipments !== undefined ? { syntheticEquipments } : {}),
        ...(rfTrees !== undefined ? { rfTrees } : {}),
        ...(rowsPerTree !== undefined ? { rowsPerTree } : {}),
        onRow: () => {
          done++;
          const now = Date.now();
          if (now - lastDraw < 250 && done < totalRows * roundsTotal) return;
          lastDraw = now;
          process.stderr.write(`\r[scoring] ${done}/${totalRows * roundsTotal} rows`);
        },
        say: (line) => process.stderr.write(`\n${line}`),
      });
      results.push({ seed: s, result });
    }
  } catch (e) {
    process.stderr.write(`\n${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
  process.stderr.write('\n');
  await shippedRunner.close();
  const json = (x: unknown): string => `${JSON.stringify(x, null, 2)}\n`;
  if (seeds === undefined) {
    const only = results[0] as { seed: number | undefined; result: FeedbackResult };
    process.stdout.write(printFeedback(only.result) + printTarget(feedbackTarget(only.result)));
    if (values.summary !== undefined)
      writeFileSync(userPath(values.summary), json(feedbackSummary(only.result, protocol(seed))));
    return;
  }
  const sweep = results.map((x) => ({ seed: x.seed as number, result: x.result }));
  process.stdout.write(printSeedSweep(sweep));
  if (values.summary !== undefined)
    writeFileSync(
      userPath(values.summary),
      json({ seeds: sweep.map((x) => ({ seed: x.seed, ...feedbackSummary(x.result, protocol(x.seed)) })) }),
    );
}

/** `--seeds 1,2,3`: distinct integers >= 0, or undefined when not given. */
function seedList(): number[] | undefined {
  const raw = values.seeds;
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((x) => x.trim());
  const nums = list.map(Number);
  if (
    list.length === 0 ||
    nums.some((v, i) => list[i] === '' || !Number.isInteger(v) || v < 0) ||
    new Set(nums).size !== nums.length
  ) {
    process.stderr.write(`--seeds must be distinct integers >= 0 separated by commas, got '${raw}'\n`);
    process.exit(2);
  }
  return nums;
}

async function plain(): Promise<void> {
  const results: FileResult[] = [];
  for (const t of tables) {
    results.push(
      await runFile(
        t.path,
        t.table,
        {
          trainRows,
          threshold,
          windowMs: 86_400_000,
          bucketCount: 96,
          ifWeight: 0.3,
          rfWeight: 0.7,
          shippedRunner,
          randomForest,
          gate,
        },
        progress,
      ),
    );
  }
  process.stderr.write('\n');
  await shippedRunner.close();

  interface Line {
    readonly name: string;
    readonly rows: number;
    readonly c: Confusion;
    readonly labelled: boolean;
    readonly episodes: number;
    readonly hours: number;
  }
  const lines: Line[] = results.map((r) => {
    const c = emptyConfusion();
    const labels = r.table.labels;
    r.flagged.forEach((f, k) => addRow(c, labels?.[r.firstScored + k] ?? 0, f));
    const ts = r.table.timestampsMs.slice(r.firstScored);
    const hours = ts.length > 1 ? ((ts[ts.length - 1] as number) - (ts[0] as number)) / 3_600_000 : 0;
    return {
      name: basename(r.file),
      rows: r.flagged.length,
      c,
      labelled: labels !== undefined,
      episodes: countEpisodes(ts, r.flagged, DEDUP_MS),
      hours,
    };
  });
  const pooled = emptyConfusion();
  for (const l of lines) addConfusion(pooled, l.c);
  const pooledFig = figuresOf(pooled);
  const rowsScored = lines.reduce((a, l) => a + l.rows, 0);
  const episodes = lines.reduce((a, l) => a + l.episodes, 0);
  const hours = lines.reduce((a, l) => a + l.hours, 0);
  const episodesPerHour = hours > 0 ? episodes / hours : 0;
  const flaggedPerHour = hours > 0 ? (pooled.tp + pooled.fp) / hours : 0;
  const anyLabels = lines.some((l) => l.labelled);

  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const fmt = (l: { c: Confusion }): string => {
    const f = figuresOf(l.c);
    return `F1 ${f.f1.toFixed(3)}  FAR ${pct(f.far)}  MAR ${pct(f.mar)}`;
  };
  const table: string[] = [];
  const pad = Math.max(8, ...lines.map((l) => l.name.length));
  table.push(`${'file'.padEnd(pad)}  rows   F1     FAR     MAR     TP    FP    TN    FN   episodes/h`);
  for (const l of [
    ...lines,
    { name: 'POOLED', rows: rowsScored, c: pooled, labelled: anyLabels, episodes, hours },
  ]) {
    const f = figuresOf(l.c);
    const eph = l.hours > 0 ? l.episodes / l.hours : 0;
    table.push(
      `${l.name.padEnd(pad)} ${String(l.rows).padStart(5)}  ${l.labelled ? f.f1.toFixed(3) : '  -  '}  ${pct(f.far).padStart(6)}  ${l.labelled ? pct(f.mar).padStart(6) : '   -  '}  ${String(l.c.tp).padStart(4)}  ${String(l.c.fp).padStart(4)}  ${String(l.c.tn).padStart(4)}  ${String(l.c.fn).padStart(4)}   ${eph.toFixed(2)}`,
    );
  }
  process.stdout.write(`${table.join('\n')}\n`);
  process.stdout.write(
    `flagged rows per hour ${flaggedPerHour.toFixed(1)}; alarm episodes (5-minute dedup) ${episodes} in ${hours.toFixed(2)} h = ${episodesPerHour.toFixed(2)}/h\n`,
  );

  if (values.out !== undefined) {
    const out: string[] = ['file,datetime,score,is_anomaly'];
    for (const r of results) {
      r.flagged.forEach((f, k) => {
        const t = new Date(r.table.timestampsMs[r.firstScored + k] as number).toISOString();
        out.push(`${basename(r.file)},${t},${(r.scores[k] as number).toFixed(6)},${f ? 1 : 0}`);
      });
    }
    writeFileSync(userPath(values.out), `${out.join('\n')}\n`);
  }
  if (values.summary !== undefined) {
    const summary = {
      files: results.length,
      rows: rowsScored,
      f1: pooledFig.f1,
      far: pooledFig.far,
      mar: pooledFig.mar,
      episodes_per_hour: episodesPerHour,
    };
    writeFileSync(userPath(values.summary), `${JSON.stringify(summary, null, 2)}\n`);
  }
  if (values.plot !== undefined) {
    const pooledText = `POOLED ${rowsScored} rows  ${fmt({ c: pooled })}  episodes/h ${episodesPerHour.toFixed(2)}`;
    writeFileSync(
      userPath(values.plot),
      renderBacktestHtml(
        results,
        threshold,
        pooledText,
        lines.map(
          (l) =>
            `${l.rows} rows  ${fmt(l)}  episodes/h ${(l.hours > 0 ? l.episodes / l.hours : 0).toFixed(2)}`,
        ),
      ),
    );
  }
}
