/**
 * The learning loop around the running pipeline (docs/learning.md):
 *  - pattern confidence: a Beta posterior per equipment × issue type from the approval history,
 *    served synchronously to the recommendation engine (`confidence`) from a cache that
 *    `refreshPatterns` reloads (main.ts calls it after each decision);
 *  - outcome check: `checkOutcomes` classifies every executed write once its outcome window has
 *    passed (effective / not effective / worse), stores it on the recommendation and, when
 *    `autoRevertWorse` allows, reverts a write that made things worse through the audited revert;
 *  - drift (PSI per feature vs the training distribution) and the human metrics, by `tick`,
 *    which also merges them into `pipeline_metrics.extra.learning`.
 *
 * ```ts
 * const learning = new Learning({ store, clock, logger, config: config.learning, revert });
 * learning.onDriftAlert((a) => notifier.onDriftAlert(a));
 * await learning.refreshPatterns();
 * createRecommendations({ ..., confidence: (e, i, base) => learning.confidence(e, i, base) });
 * setInterval(() => void learning.tick(baseline, detector.modelVersion), config.learning.checkIntervalMs);
 * ```
 */
import {
  driftOf,
  newDriftAlerts,
  type DriftAlertNotice,
  type DriftBaseline,
  type DriftResult,
} from '../domain/learning/drift.ts';
import { humanMetrics, type HumanMetrics } from '../domain/learning/human.ts';
import { classifyOutcome, clearedAfterMs, type RecommendationOutcome } from '../domain/learning/labels.ts';
import type { Change } from '../domain/recommendation-view.ts';
import type { LearningSnapshot, LearningStore, OutcomeRecord } from '../domain/learning/ports.ts';
import {
  adjustedConfidence,
  NO_HISTORY,
  patternKey,
  type PatternCounts,
} from '../domain/learning/posterior.ts';
import type { LearningConfig } from '../config-learning.ts';
import { WARNINGS } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Clock } from '../ports.ts';

export interface LearningDeps {
  readonly store: LearningStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly config: LearningConfig;
  /** The recommendations service's audited revert (RecommendationService.revert with a system actor). */
  readonly revert?: (recommendationId: string, note: string) => Promise<unknown>;
}

export type { LearningSnapshot };

const DRIFT_ROWS = 5_000;
const HUMAN_WINDOW_MS = 7 * 86_400_000;

export class Learning {
  readonly #d: LearningDeps;
  #patterns = new Map<string, PatternCounts>();
  #outcomes: Record<RecommendationOutcome, number> = { effective: 0, not_effective: 0, worse: 0 };
  #drift: DriftResult = { psi: {}, alerts: [] };
  #driftAlerts = 0;
  /** Features alerting at the previous drift check (notifications go out on rising edges only). */
  #alerting = new Set<string>();
  #human: HumanMetrics | undefined;
  readonly #listeners = new Set<(change: Change) => void>();
  readonly #driftListeners = new Set<(alert: DriftAlertNotice) => unknown>();

  constructor(deps: LearningDeps) {
    this.#d = deps;
  }

  /**
   * Live recommendation changes this loop commits (an outcome recorded, a worse write marked
   * reverted); main-learning.ts forwards them to the recommendations service's SSE subscribers.
   * Returns the unsubscribe function.
   */
  onChange(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Drift alerts for the notification routing (main-learning.ts → Notifier.onDriftAlert): called
   * once per feature when it starts drifting, not at every check while it stays above the line.
   */
  onDriftAlert(listener: (alert: DriftAlertNotice) => unknown): () => void {
    this.#driftListeners.add(listener);
    return () => this.#driftListeners.delete(listener);
  }

  #publish(change: Change | undefined): void {
    if (change === undefined) return;
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch (err) {
        this.#d.logger.warn({ err }, 'learning change listener threw');
      }
    }
  }

  /** Reloads the approval history per pattern from the store. */
  async refreshPatterns(): Promise<void> {
    this.#patterns = await this.#d.store.patternCounts();
  }

  /** The playbook confidence `base` adjusted by the pattern's history (sync, from the cache). */
  confidence(equipmentId: string, issueType: string, base: number): number {
    const c = this.#patterns.get(patternKey(equipmentId, issueType)) ?? NO_HISTORY;
    return adjustedConfidence(base, { alpha: this.#d.config.priorAlpha, beta: this.#d.config.priorBeta }, c);
  }

  /** Classifies executed writes whose outcome window has passed; returns the outcomes recorded now. */
  async checkOutcomes(): Promise<OutcomeRecord[]> {
    const { store, clock, config, logger } = this.#d;
    const windowMs = config.outcomeWindowMinutes * 60_000;
    const now = clock.now();
    const done: OutcomeRecord[] = [];
    for (const w of await store.writesAwaitingOutcome(now - windowMs)) {
      const before = await store.activity(w.equipmentId, w.writtenAtMs - windowMs, w.writtenAtMs);
      const after = await store.activity(w.equipmentId, w.writtenAtMs, w.writtenAtMs + windowMs);
      const outcome = classifyOutcome(before, after);
      const rec: OutcomeRecord = {
        ...w,
        outcome,
        checkedAtMs: now,
        windowMinutes: config.outcomeWindowMinutes,
        before,
        after,
        clearedAfterMs: clearedAfterMs(outcome, w.writtenAtMs, after),
      };
      const change = await store.recordOutcome(rec);
      if (change === undefined) continue; // another instance recorded it first
      this.#publish(change);
      done.push(rec);
      this.#outcomes[rec.outcome]++;
      logger.info(
        { recommendationId: w.recommendationId, outcome: rec.outcome, before, after },
        'write outcome recorded',
      );
      if (rec.outcome === 'worse' && config.autoRevertWorse && this.#d.revert) {
        try {
          await this.#d.revert(
            w.recommendationId,
            `automatic revert: outcome 'worse' after ${config.outcomeWindowMinutes} min (mean score ${before.meanScore.toFixed(3)} → ${after.meanScore.toFixed(3)})`,
          );
          this.#publish(await store.markReverted(w.recommendationId, clock.now()));
        } catch (err) {
          logger.error(
            { err, recommendationId: w.recommendationId },
            'automatic revert of a worse write failed',
          );
        }
      }
    }
    if (done.length > 0) await this.refreshPatterns();
    return done;
  }

  /** PSI of recent scored events against `baseline`; alerts (log, metric, notification) at driftPsiAlert. */
  async checkDrift(
    baseline: DriftBaseline,
    modelVersion: string,
    windowMs = 86_400_000,
  ): Promise<DriftResult> {
    const { store, clock, config, logger } = this.#d;
    const now = clock.now();
    const rows = await store.featureRows(now - windowMs, now, DRIFT_ROWS, false);
    if (rows.length === 0) return this.#drift;
    const columns: Record<string, number[]> = {};
    for (const name of Object.keys(baseline.features))
      columns[name] = rows.map((r) => r[name]).filter((v): v is number => v !== undefined);
    const result = driftOf(baseline, columns, config.driftPsiAlert);
    this.#drift = result;
    await store.saveDrift(now, modelVersion, rows.length, result);
    const edges = newDriftAlerts(this.#alerting, result);
    this.#alerting = edges.alerting;
    if (result.alerts.length > 0) {
      this.#driftAlerts++;
      const list = result.alerts.map((a) => `${a.feature} ${a.psi.toFixed(3)}`).join(', ');
      logger.warn(
        { code: WARNINGS.FEATURE_DRIFT.code, alerts: result.alerts, modelVersion, rows: rows.length },
        `feature drift: PSI ≥ ${config.driftPsiAlert} for ${list}`,
      );
    }
    for (const a of edges.fresh) {
      const notice: DriftAlertNotice = {
        feature: a.feature,
        psi: a.psi,
        threshold: config.driftPsiAlert,
        modelVersion,
        rows: rows.length,
        at: new Date(now).toISOString(),
      };
      for (const l of this.#driftListeners) {
        try {
          l(notice);
        } catch (err) {
          logger.error({ err, feature: a.feature }, 'drift notification failed');
        }
      }
    }
    return result;
  }

  /** Approval latency, reject rate and rubber stamps over the last 7 days. */
  async computeHumanMetrics(): Promise<HumanMetrics> {
    const now = this.#d.clock.now();
    this.#human = humanMetrics(
      await this.#d.store.decisionTimings(now - HUMAN_WINDOW_MS, now + 1),
      this.#d.config.minReadingSeconds * 1000,
    );
    return this.#human;
  }

  /** One round: outcomes, drift (when a baseline is known), human metrics, then pipeline_metrics.extra. */
  async tick(baseline: DriftBaseline | undefined, modelVersion: string): Promise<LearningSnapshot> {
    await this.checkOutcomes();
    if (baseline !== undefined) await this.checkDrift(baseline, modelVersion);
    await this.computeHumanMetrics();
    await this.refreshPatterns();
    this.#outcomes = await this.#d.store.outcomeCounts();
    const snap = this.snapshot();
    await this.#d.store.mergeMetricsExtra(this.#d.clock.now(), { ...snap, modelVersion });
    return snap;
  }

  snapshot(): LearningSnapshot {
    const prior = { alpha: this.#d.config.priorAlpha, beta: this.#d.config.priorBeta };
    const patterns: Record<string, { approved: number; rejected: number; posteriorMean: number }> = {};
    for (const [k, c] of this.#patterns) {
      patterns[k] = {
        approved: c.approved,
        rejected: c.rejected,
        posteriorMean:
          (prior.alpha + c.approved + c.effective) /
          (prior.alpha + prior.beta + c.approved + c.effective + c.rejected + c.worse),
      };
    }
    return {
      outcomes: { ...this.#outcomes },
      drift: { ...this.#drift.psi },
      driftAlerts: this.#driftAlerts,
      human: this.#human,
      patterns,
    };
  }
}
