/**
 * The simulated operator of the feedback backtest (docs/feedback-backtest.md), pure.
 *
 * What the operator sees is what the live system would show: recommendations. The backtest has no
 * equipment playbooks, so one recommendation is what the engine's dedup gives for one equipment
 * and one issue: the anomalous events of one dedup window (`dedupKey`, default 5 minutes), with
 * the same stable id the store would use. A later anomaly in the same window lands on the same
 * recommendation (the store appends its events); it is not asked again.
 *
 * The operator answers from the ground truth of the rows the recommendation shows, and only those:
 * it approves (confirmed anomaly) when any of its rows is labelled anomalous, i.e. the episode
 * overlaps a labelled fault, and rejects it (false alarm) otherwise. Labels of rows that raised
 * nothing are never read.
 *
 * When it answers: with `decideAfterMs` the operator answers that long after the recommendation
 * was raised (its first event), from the events it shows by then, as a person at the console
 * would; events that join the recommendation later were never judged. Without it the operator
 * answers in hindsight, after every event of the round's window (it may then see a fault that
 * began minutes after the recommendation was raised).
 */
import { dedupKey, recommendationIdFor } from '../dedup.ts';

/** Issue type of backtest recommendations (no playbook chooses one without an equipment model). */
export const FEEDBACK_ISSUE_TYPE = 'anomaly';

export interface RaisedEvent {
  readonly eventId: string;
  readonly tsMs: number;
  /** Ground truth of the row this event belongs to (what the operator finds on inspection). */
  readonly truth: 0 | 1;
  readonly features: Readonly<Record<string, number>>;
}

export interface SimRecommendation {
  readonly id: string;
  readonly dedupKey: string;
  readonly equipmentId: string;
  /** Events by id, in arrival order (the store's anomaly_event_ids). */
  readonly events: Map<string, RaisedEvent>;
}

export type OperatorAnswer = 'approved' | 'rejected';

/** An answered recommendation: the answer and the events the operator had seen when answering. */
export interface AnsweredRecommendation {
  readonly rec: SimRecommendation;
  readonly answer: OperatorAnswer;
  readonly round: number;
  /** The recommendation's events when it was answered (later events may join `rec`). */
  readonly seen: readonly RaisedEvent[];
  /** When it was raised (its first event) and answered (epoch ms, the store's decided_at). */
  readonly raisedAtMs: number;
  readonly decidedAtMs: number;
}

/** Groups anomalous events of one equipment into recommendations by dedup window. */
export function groupIntoRecommendations(
  equipmentId: string,
  events: readonly RaisedEvent[],
  windowMinutes: number,
): SimRecommendation[] {
  const byKey = new Map<string, SimRecommendation>();
  for (const e of events) {
    const key = dedupKey(equipmentId, FEEDBACK_ISSUE_TYPE, e.tsMs, windowMinutes);
    let rec = byKey.get(key);
    if (rec === undefined) {
      rec = { id: recommendationIdFor(key), dedupKey: key, equipmentId, events: new Map() };
      byKey.set(key, rec);
    }
    if (!rec.events.has(e.eventId)) rec.events.set(e.eventId, e);
  }
  return [...byKey.values()];
}

/** The truthful operator: approve when the events it judged overlap a labelled fault. */
export function answerOf(seen: Iterable<RaisedEvent>): OperatorAnswer {
  for (const e of seen) if (e.truth === 1) return 'approved';
  return 'rejected';
}

/**
 * What the operator has seen when it answers: the events up to `decideAfterMs` after the first
 * one (all of them when undefined: the hindsight operator), and when it answers.
 */
export function judgedEvents(
  rec: SimRecommendation,
  decideAfterMs: number | undefined,
): { seen: RaisedEvent[]; raisedAtMs: number; decidedAtMs: number } {
  const all = [...rec.events.values()];
  if (all.length === 0) throw new RangeError(`recommendation ${rec.id} has no events to judge`);
  const raisedAtMs = Math.min(...all.map((e) => e.tsMs));
  if (decideAfterMs === undefined)
    return { seen: all, raisedAtMs, decidedAtMs: Math.max(...all.map((e) => e.tsMs)) };
  if (!(Number.isFinite(decideAfterMs) && decideAfterMs >= 0))
    throw new RangeError(`decideAfterMs must be a finite number >= 0, got ${decideAfterMs}`);
  const decidedAtMs = raisedAtMs + decideAfterMs;
  return { seen: all.filter((e) => e.tsMs <= decidedAtMs), raisedAtMs, decidedAtMs };
}

/**
 * Fold of the i-th of n files: `folds` contiguous blocks in the given order. One fold means no
 * cross-fitting (every file in fold 0; the in-sample check, which leaks).
 */
export function foldOf(i: number, n: number, folds: number): number {
  if (!(Number.isInteger(folds) && folds >= 1 && folds <= n))
    throw new RangeError(`folds must be an integer in [1, ${n}] (the number of files), got ${folds}`);
  return Math.min(folds - 1, Math.floor((i * folds) / n));
}

/**
 * Answers of one round: every recommendation raised in the round that was not answered before
 * gets one answer; one answered before keeps its answer and takes the new events (as the store
 * appends them to the decided row). Returns how many were raised and answered in this round.
 */
export function answerRound(
  raised: readonly SimRecommendation[],
  answered: Map<string, AnsweredRecommendation>,
  round: number,
  decideAfterMs?: number,
): { raised: number; answers: number; approved: number; rejected: number } {
  let answers = 0;
  let approved = 0;
  for (const rec of raised) {
    const known = answered.get(rec.id);
    if (known !== undefined) {
      for (const [id, e] of rec.events) if (!known.rec.events.has(id)) known.rec.events.set(id, e);
      continue;
    }
    const judged = judgedEvents(rec, decideAfterMs);
    const answer = answerOf(judged.seen);
    answered.set(rec.id, { rec, answer, round, ...judged });
    answers++;
    if (answer === 'approved') approved++;
  }
  return { raised: raised.length, answers, approved, rejected: answers - approved };
}
