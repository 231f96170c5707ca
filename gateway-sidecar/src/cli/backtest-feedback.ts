/**
 * `npm run backtest -- --feedback [--rounds N] [--folds K] ...` (docs/feedback-backtest.md):
 * a simulated operator answers the recommendations the system raised, and the product's own
 * `retrain()` (synthetic faults + recent normal rows + operator labels → Random Forest, adapted
 * anomaly line, promotion gate on held-back answers) runs between rounds.
 *
 * Leak-free protocol (cross-fitting by files): the files are split into K contiguous folds. Round 0
 * scores every file with the default model. Before round r ≥ 1, one model per fold is retrained
 * from the answers given in rounds 0 … r−1 on the files of the OTHER folds (and their recent
 * non-anomalous rows), starting from that fold's model of round r−1; the fold's files are then
 * scored by it. No file is ever scored by a model that learnt from answers on that file. After each
 * round the operator answers each newly raised recommendation once (a recommendation raised again
 * in a later round keeps its first answer), so answers ≤ recommendations raised, per round.
 * `folds: 1` turns cross-fitting off (every model learns from every file: an in-sample check that
 * leaks, reported as such).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ModelFiles } from '../adapters/model-files.ts';
import { loadOnnxModelDir } from '../adapters/onnx-model-runner.ts';
import { featureRecord } from '../app/detector.ts';
import { retrain, type RetrainResult } from '../app/learning-retrain.ts';
import type { LearningConfig } from '../config-learning.ts';
import type { SensorTable } from '../domain/csv.ts';
import { dedupKey, recommendationIdFor } from '../domain/dedup.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from '../domain/features.ts';
import {
  answerRound,
  type AnsweredRecommendation,
  FEEDBACK_ISSUE_TYPE,
  foldOf,
  groupIntoRecommendations,
  type RaisedEvent,
  type SimRecommendation,
} from '../domain/learning/feedback-operator.ts';
import type { LabelledEvent } from '../domain/learning/ports.ts';
import { createLogger } from '../log.ts';
import {
  addConfusion,
  addRow,
  countEpisodes,
  emptyConfusion,
  figuresOf,
  type Confusion,
} from '../ml/metrics.ts';
import { decodeEnsembleOnnx } from '../ml/onnx-import.ts';
import type { RandomForestModel } from '../ml/random-forest.ts';
import { runFile, type RunSettings } from './backtest-run.ts';
import { FeedbackLearningStore, MemoryModelRegistry, type ScoredRow } from './backtest-feedback-stores.ts';

const EPISODE_DEDUP_MS = 5 * 60_000;
const REJECT_NOTE = 'simulated operator: no labelled fault in the rows of this recommendation';

export interface FeedbackSettings {
  readonly tables: readonly { readonly path: string; readonly table: SensorTable }[];
  /** Feedback rounds after round 0 (each: retrain per fold, then score and answer). */
  readonly rounds: number;
  readonly folds: number;
  /** What a plain backtest run uses (round 0 = the plain backtest). */
  readonly base: Omit<RunSettings, 'onScored' | 'randomForest' | 'threshold'>;
  readonly randomForest: RandomForestModel;
  readonly threshold: number;
  /** Folder of the model serving at round 0 (the "current" model of the first gate). */
  readonly modelDir: string;
  readonly learning: LearningConfig;
  readonly dedupWindowMinutes: number;
  /** The operator answers this long after a recommendation is raised (undefined: in hindsight). */
  readonly decideAfterMs?: number;
  /** Size of the synthetic part of each retrain (defaults: the product's, see retrain()). */
  readonly syntheticEquipments?: number;
  readonly rfTrees?: number;
  readonly rowsPerTree?: number;
  readonly seed?: number;
  readonly onRow: () => void;
  readonly say: (line: string) => void;
}

export interface FoldRetrain {
  readonly fold: number;
  readonly version: string;
  readonly promoted: boolean;
  readonly gate: string;
  /** Anomaly line serving the fold in this round (adapted by retraining when promoted). */
  readonly threshold: number;
  /** Answered recommendations (of other folds' files) the retrain learnt from. */
  readonly answers_used: number;
  readonly labelled_rows: number;
  readonly holdout_rows: number;
  readonly normal_rows: number;
}

export interface FileFigures {
  readonly file: string;
  readonly fold: number;
  readonly rows: number;
  readonly c: Confusion;
  readonly episodes: number;
  readonly hours: number;
}

export interface RoundFigures {
  readonly round: number;
  readonly files: number;
  readonly rows: number;
  readonly f1: number;
  readonly far: number;
  readonly mar: number;
  readonly episodes_per_hour: number;
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  /** Recommendations the system raised in this round (distinct dedup keys with anomalous events). */
  readonly raised: number;
  /** Answers the simulated operator gave in this round (new recommendations only; ≤ raised). */
  readonly answers: number;
  readonly approved: number;
  readonly rejected: number;
  /**
   * False-alarm rows (flagged, labelled normal) of this round by the answer their recommendation
   * has: only rows in rejected recommendations can ever become "false alarm" labels.
   */
  readonly fp_in_approved: number;
  readonly fp_in_rejected: number;
  /** Retraining before this round, per fold (empty for round 0). */
  readonly retrains: readonly FoldRetrain[];
}

export interface FeedbackResult {
  readonly rounds: readonly RoundFigures[];
  /** Per round, per file (in the given order). */
  readonly perFile: readonly (readonly FileFigures[])[];
}

interface FoldModel {
  randomForest: RandomForestModel;
  threshold: number;
  dir: string;
}

type Answered = AnsweredRecommendation;

/** Whether a fold's model may learn from a file: only other folds' files (one fold: every file, in-sample). */
function learnsFrom(
  fileFold: ReadonlyMap<string, number>,
  folds: number,
  file: string,
  fold: number,
): boolean {
  return folds === 1 || fileFold.get(file) !== fold;
}

function labelledEvents(
  answered: Iterable<Answered>,
  fileFold: ReadonlyMap<string, number>,
  folds: number,
  fold: number,
): { events: LabelledEvent[]; recs: number } {
  const events: LabelledEvent[] = [];
  let recs = 0;
  for (const a of answered) {
    if (!learnsFrom(fileFold, folds, a.rec.equipmentId, fold)) continue;
    recs++;
    // The store's view of a decided recommendation: raised at its earliest event, decided when the
    // simulated operator answered (judgedEvents); events that joined it later were never judged.
    const { raisedAtMs, decidedAtMs } = a;
    for (const e of a.seen) {
      events.push({
        recommendationId: a.rec.id,
        equipmentId: a.rec.equipmentId,
        issueType: FEEDBACK_ISSUE_TYPE,
        status: a.answer,
        note: a.answer === 'rejected' ? REJECT_NOTE : null,
        outcome: null,
        eventId: e.eventId,
        tsMs: e.tsMs,
        raisedAtMs,
        decidedAtMs,
        features: e.features,
      });
    }
  }
  return { events, recs };
}

export async function runFeedbackBacktest(s: FeedbackSettings): Promise<FeedbackResult> {
  const n = s.tables.length;
  if (!Number.isInteger(s.rounds) || s.rounds < 1)
    throw new RangeError(`--rounds must be an integer >= 1, got ${s.rounds}`);
  for (const t of s.tables)
    if (t.table.labels === undefined)
      throw new Error(
        `${t.path}: --feedback needs an 'anomaly' label column (the simulated operator answers from it)`,
      );
  const fileFold = new Map<string, number>();
  s.tables.forEach((t, i) => fileFold.set(t.path, foldOf(i, n, s.folds)));

  const work = mkdtempSync(join(tmpdir(), 'backtest-feedback-'));
  const logger = createLogger({ level: 'silent', name: 'backtest-feedback' });
  const weights = { ifWeight: s.base.ifWeight, rfWeight: s.base.rfWeight };
  const models: FoldModel[] = Array.from({ length: s.folds }, () => ({
    randomForest: s.randomForest,
    threshold: s.threshold,
    dir: s.modelDir,
  }));
  const registries = models.map(() => new MemoryModelRegistry());
  const answered = new Map<string, Answered>();
  /** Non-anomalous feature rows of the latest round, per file (the "recent normal data"). */
  let normalByFile = new Map<string, ScoredRow[]>();
  const rounds: RoundFigures[] = [];
  const perFile: FileFigures[][] = [];
  const t0 = Date.UTC(2026, 0, 4);
  try {
    for (let round = 0; round <= s.rounds; round++) {
      const retrains: FoldRetrain[] = [];
      if (round > 0) {
        for (let fold = 0; fold < s.folds; fold++) {
          const { events, recs } = labelledEvents(answered.values(), fileFold, s.folds, fold);
          const normal: ScoredRow[] = [];
          for (const [file, rows] of normalByFile)
            if (learnsFrom(fileFold, s.folds, file, fold)) normal.push(...rows);
          const current = models[fold] as FoldModel;
          const now = t0 + round * 7 * 86_400_000 + fold * 3_600_000;
          const result: RetrainResult = await retrain(
            {
              store: new FeedbackLearningStore(events, normal),
              registry: registries[fold] as MemoryModelRegistry,
              artifacts: new ModelFiles(join(work, `fold${fold}`), weights),
              clock: { now: () => now },
              logger,
              currentModel: () => loadOnnxModelDir(current.dir, FEATURE_NAMES),
              progress: (stage, done, total) =>
                s.say(`round ${round} fold ${fold}: retrain ${done}/${total} ${stage}`),
            },
            {
              learning: s.learning,
              ...weights,
              promote: true,
              nearConfirmedMs: s.dedupWindowMinutes * 60_000,
              ...(s.base.gate?.onDelayTicks !== undefined ? { onDelayTicks: s.base.gate.onDelayTicks } : {}),
              ...(s.seed !== undefined ? { seed: s.seed } : {}),
              ...(s.syntheticEquipments !== undefined ? { syntheticEquipments: s.syntheticEquipments } : {}),
              ...(s.rfTrees !== undefined ? { rfTrees: s.rfTrees } : {}),
              ...(s.rowsPerTree !== undefined ? { rowsPerTree: s.rowsPerTree } : {}),
            },
          );
          if (result.promoted) {
            const { randomForest } = decodeEnsembleOnnx(readFileSync(join(result.path, 'model.onnx')));
            models[fold] = { randomForest, threshold: result.anomalyThreshold, dir: result.path };
          }
          const serving = models[fold] as FoldModel;
          retrains.push({
            fold,
            version: result.version,
            promoted: result.promoted,
            gate: result.gate.reason,
            threshold: serving.threshold,
            answers_used: recs,
            labelled_rows: result.labelledRows,
            holdout_rows: result.holdoutRows,
            normal_rows: result.normalRows + result.holdoutNormalRows,
          });
          s.say(
            `round ${round} fold ${fold}: ${result.promoted ? 'promoted' : 'not promoted'} ${result.version} (line ${serving.threshold.toFixed(3)}); gate: ${result.gate.reason}`,
          );
        }
      }

      const files: FileFigures[] = [];
      const raised: SimRecommendation[] = [];
      const nextNormal = new Map<string, ScoredRow[]>();
      const falseAlarms: { path: string; tsMs: number }[] = [];
      for (const t of s.tables) {
        const fold = fileFold.get(t.path) as number;
        const model = models[fold] as FoldModel;
        const labels = t.table.labels as readonly number[];
        const events: RaisedEvent[] = [];
        const normal: ScoredRow[] = [];
        const r = await runFile(
          t.path,
          t.table,
          {
            ...s.base,
            randomForest: model.randomForest,
            threshold: model.threshold,
            // The fit window is the equipment's recent normal operation too (what the product's
            // silver table holds from before the incident); without it, a file whose fault was
            // confirmed has no normal rows left outside the margin around the confirmed alarm.
            onFitRow: (row, f) => {
              const tsMs = t.table.timestampsMs[row] as number;
              for (let k = 0; k + FEATURE_COUNT <= f.length; k += FEATURE_COUNT)
                normal.push({ equipmentId: t.path, tsMs, features: featureRecord(f, k) });
            },
            onScored: (row, scored) => {
              const truth = (labels[row] ?? 0) > 0 ? 1 : 0;
              for (const x of scored) {
                if (x.isAnomaly)
                  events.push({
                    eventId: x.eventId,
                    tsMs: x.reading.sourceTimestampMs,
                    truth,
                    features: x.features,
                  });
                else
                  normal.push({
                    equipmentId: t.path,
                    tsMs: x.reading.sourceTimestampMs,
                    features: x.features,
                  });
              }
            },
          },
          s.onRow,
        );
        nextNormal.set(t.path, normal);
        raised.push(...groupIntoRecommendations(t.path, events, s.dedupWindowMinutes));
        const c = emptyConfusion();
        r.flagged.forEach((f, k) => {
          const label = labels[r.firstScored + k] ?? 0;
          addRow(c, label, f);
          if (f && label === 0)
            falseAlarms.push({ path: t.path, tsMs: t.table.timestampsMs[r.firstScored + k] as number });
        });
        const ts = t.table.timestampsMs.slice(r.firstScored);
        const hours = ts.length > 1 ? ((ts[ts.length - 1] as number) - (ts[0] as number)) / 3_600_000 : 0;
        files.push({
          file: basename(t.path),
          fold,
          rows: r.flagged.length,
          c,
          episodes: countEpisodes(ts, r.flagged, EPISODE_DEDUP_MS),
          hours,
        });
      }
      normalByFile = nextNormal;
      const counts = answerRound(raised, answered, round, s.decideAfterMs);
      let fpInRejected = 0;
      for (const x of falseAlarms) {
        const id = recommendationIdFor(dedupKey(x.path, FEEDBACK_ISSUE_TYPE, x.tsMs, s.dedupWindowMinutes));
        if (answered.get(id)?.answer === 'rejected') fpInRejected++;
      }
      const pooled = emptyConfusion();
      for (const f of files) addConfusion(pooled, f.c);
      const fig = figuresOf(pooled);
      const hours = files.reduce((a, f) => a + f.hours, 0);
      const episodes = files.reduce((a, f) => a + f.episodes, 0);
      rounds.push({
        round,
        files: files.length,
        rows: files.reduce((a, f) => a + f.rows, 0),
        f1: fig.f1,
        far: fig.far,
        mar: fig.mar,
        episodes_per_hour: hours > 0 ? episodes / hours : 0,
        ...pooled,
        ...counts,
        fp_in_approved: falseAlarms.length - fpInRejected,
        fp_in_rejected: fpInRejected,
        retrains,
      });
      perFile.push(files);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { rounds, perFile };
}
