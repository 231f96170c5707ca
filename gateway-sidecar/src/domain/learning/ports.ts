/**
 * Persistence ports of the learning loop (implemented by adapters/pg-learning-store.ts and
 * adapters/pg-model-registry.ts). Types only.
 */
import type { DecisionTiming, HumanMetrics } from './human.ts';
import type { RecommendationOutcome, WindowActivity } from './labels.ts';
import type { PatternCounts } from './posterior.ts';
import type { DriftResult } from './drift.ts';
import type { GateResult } from './gate.ts';
import type { IsolationForestModel } from '../../ml/isolation-forest.ts';
import type { RandomForestModel } from '../../ml/random-forest.ts';
import type { ModelRunner } from '../../ports.ts';
import type { Change } from '../recommendation-view.ts';

/** One anomaly event of a decided recommendation, with its stored feature row. */
export interface LabelledEvent {
  readonly recommendationId: string;
  readonly equipmentId: string;
  readonly issueType: string;
  readonly status: string;
  readonly note: string | null;
  readonly outcome: RecommendationOutcome | null;
  readonly eventId: string;
  /** Source timestamp of the event. */
  readonly tsMs: number;
  /** The recommendation's anomaly time (earliest source timestamp of the events that raised it). */
  readonly raisedAtMs: number;
  /** When the operator decided (null when unknown). */
  readonly decidedAtMs: number | null;
  readonly features: Readonly<Record<string, number>>;
}

export interface ExecutedWrite {
  readonly recommendationId: string;
  readonly equipmentId: string;
  readonly issueType: string;
  readonly writtenAtMs: number;
}

export interface OutcomeRecord extends ExecutedWrite {
  readonly outcome: RecommendationOutcome;
  readonly checkedAtMs: number;
  readonly windowMinutes: number;
  readonly before: WindowActivity;
  readonly after: WindowActivity;
  /** Effective only: ms from the write to the last anomalous event after it (0: none); else null. */
  readonly clearedAfterMs: number | null;
}

export interface LearningStore {
  /** Events of recommendations decided approved/executed/failed/rejected, created in [from, to), joined by their own anomaly_event_ids. */
  labelledEvents(fromMs: number, toMs: number): Promise<LabelledEvent[]>;
  /**
   * Feature rows of scored events in [from, to) (non-anomalous only when `normalOnly`), evenly
   * sampled to at most `limit`. `nearConfirmedMs` > 0 leaves out an equipment's events within that
   * margin of a confirmed (approved/executed/failed) recommendation of the same equipment: its
   * anomaly time minus the margin to its last event plus the margin (readings that close to a
   * confirmed fault, e.g. the alarm's on-delay ticks, are not trustworthy "normal").
   */
  featureRows(
    fromMs: number,
    toMs: number,
    limit: number,
    normalOnly: boolean,
    nearConfirmedMs?: number,
  ): Promise<Record<string, number>[]>;
  /** Approval history per pattern key (`equipment|issue`). */
  patternCounts(): Promise<Map<string, PatternCounts>>;
  /** Approve/reject decisions made in [from, to). */
  decisionTimings(fromMs: number, toMs: number): Promise<DecisionTiming[]>;
  /** Successful apply writes finished before `beforeMs` whose outcome is not recorded yet. */
  writesAwaitingOutcome(beforeMs: number): Promise<ExecutedWrite[]>;
  /** Scored-event activity of one equipment in [from, to). */
  activity(equipmentId: string, fromMs: number, toMs: number): Promise<WindowActivity>;
  /**
   * Stores the outcome (table + the recommendation's `outcome` column, an audit row and a change-log
   * row in one transaction); returns the change for live subscribers, or undefined when already recorded.
   */
  recordOutcome(o: OutcomeRecord): Promise<Change | undefined>;
  /** Marks the outcome reverted (table + column + change log); the change, or undefined without an outcome. */
  markReverted(recommendationId: string, atMs: number): Promise<Change | undefined>;
  outcomeCounts(): Promise<Record<RecommendationOutcome, number>>;
  saveDrift(atMs: number, modelVersion: string, rows: number, result: DriftResult): Promise<void>;
  /** Merges `{ learning: extra }` into the pipeline_metrics row of the minute of `atMs`. */
  mergeMetricsExtra(atMs: number, extra: Readonly<Record<string, unknown>>): Promise<void>;
}

export type ModelStatus = 'candidate' | 'active' | 'retired' | 'rejected';

export interface ModelEntry {
  readonly version: string;
  readonly name: string;
  readonly createdAtMs: number;
  readonly trainingFromMs: number | null;
  readonly trainingToMs: number | null;
  readonly metrics: Readonly<Record<string, unknown>>;
  readonly gate: GateResult | null;
  readonly status: ModelStatus;
  readonly path: string;
  readonly sha256: string;
}

export interface ModelRegistryStore {
  register(
    e: Omit<ModelEntry, 'status'> & { status: 'candidate' | 'active' | 'rejected' },
    nowMs: number,
  ): Promise<void>;
  list(): Promise<ModelEntry[]>;
  get(version: string): Promise<ModelEntry | undefined>;
  active(): Promise<ModelEntry | undefined>;
  /** Makes `version` active and retires the previous active one, atomically. Throws if unknown. */
  promote(version: string, nowMs: number): Promise<ModelEntry>;
  /** Reactivates `version` (default: the most recently retired) and retires the active one. */
  rollback(version: string | undefined, nowMs: number): Promise<ModelEntry>;
}

/** Writes and loads model version folders (adapters/model-files.ts). */
export interface ModelArtifacts {
  save(
    version: string,
    m: { isolationForest: IsolationForestModel; randomForest: RandomForestModel },
    descriptorExtra: Readonly<Record<string, unknown>>,
    anomalyThreshold: number,
  ): Promise<{ path: string; sha256: string }>;
  load(path: string): Promise<ModelRunner>;
}

/** What /metrics and pipeline_metrics show of the learning loop. */
export interface LearningSnapshot {
  readonly outcomes: Readonly<Record<RecommendationOutcome, number>>;
  readonly drift: Readonly<Record<string, number>>;
  readonly driftAlerts: number;
  readonly human: HumanMetrics | undefined;
  readonly patterns: Readonly<
    Record<string, { readonly approved: number; readonly rejected: number; readonly posteriorMean: number }>
  >;
}
