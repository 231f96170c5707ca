/**
 * `npm run retrain -- [--config FILE] [--no-promote] | --list | --promote VERSION | --rollback [VERSION]`
 * (docs/learning.md).
 *
 *   (no subcommand)  retrain now: refit IF + RF, gate against the active version on held-back
 *                    labelled data, register, promote when the gate passes (unless --no-promote).
 *                    A progress bar goes to stderr, the result (gate numbers) as JSON to stdout.
 *   --list           the model registry, newest first.
 *   --promote V      make registered version V active (the running sidecar hot-swaps it in
 *                    within learning.checkIntervalMs).
 *   --rollback [V]   reactivate V, or the most recently retired version.
 *
 * Exit codes: 0 done, 1 failed (error code and message on stderr), 2 bad usage, 3 retrained but
 * the gate refused the candidate.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../adapters/db.ts';
import { PgModelRegistry } from '../adapters/pg-model-registry.ts';
import { createLogger } from '../log.ts';
import { exitWith } from './exit-with.ts';
import { retrainDeps, runRetrain } from '../main-learning.ts';

const USAGE =
  'usage: retrain [--config FILE] [--no-promote] | --list | --promote VERSION | --rollback [VERSION]';

/** `[#####.....] 3/7 fitting random forest` on stderr, redrawn in place on a terminal. */
function progressBar(stage: string, done: number, total: number): void {
  const width = 24;
  const full = Math.round((done / total) * width);
  const line = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${stage}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line.padEnd(70)}${done === total ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        config: { type: 'string' },
        list: { type: 'boolean', default: false },
        promote: { type: 'string' },
        rollback: { type: 'boolean', default: false },
        'no-promote': { type: 'boolean', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const v = args.values;
  const modes = [v.list, v.promote !== undefined, v.rollback].filter(Boolean).length;
  if (modes > 1 || (args.positionals.length > 0 && !v.rollback) || args.positionals.length > 1) {
    process.stderr.write(`choose one of --list, --promote VERSION, --rollback [VERSION]\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env, v.config);
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    name: 'retrain',
  });
  const db = await openDatabase(config, logger, { applicationName: 'ignition-ai-retrain' });
  try {
    const registry = new PgModelRegistry(db.pool);
    const out = (x: unknown): void => void process.stdout.write(`${JSON.stringify(x, null, 2)}\n`);
    if (v.list) {
      out(
        (await registry.list()).map((e) => ({ ...e, metrics: { ...e.metrics, driftBaseline: undefined } })),
      );
      return 0;
    }
    if (v.promote !== undefined) {
      out(await registry.promote(v.promote, Date.now()));
      return 0;
    }
    if (v.rollback) {
      out(await registry.rollback(args.positionals[0], Date.now()));
      return 0;
    }
    const r = await runRetrain(
      config,
      retrainDeps(config, db.pool, logger, { progress: progressBar }),
      !v['no-promote'],
    );
    out({
      version: r.version,
      path: r.path,
      promoted: r.promoted,
      anomalyThreshold: r.anomalyThreshold,
      trainingRows: r.trainingRows,
      labelledRows: r.labelledRows,
      holdoutRows: r.holdoutRows,
      gate: r.gate,
    });
    return r.gate.passed ? 0 : 3;
  } finally {
    await db.close();
  }
}

exitWith(main);
