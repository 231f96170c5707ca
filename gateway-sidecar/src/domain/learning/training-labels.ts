/**
 * Which events of a decided recommendation become training labels, and how much each weighs
 * (docs/learning.md "Labels" and "Weighting"). Pure.
 *
 * What a decision says about the events:
 * - An approval is an existential claim: "the condition that raised this is real". It confirms the
 *   events that RAISED the recommendation (its triggering events: those at or before the
 *   recommendation's anomaly time, i.e. the readings of the first upsert's earliest timestamp),
 *   not every event appended to it later under the same dedup key: an alarm holds on after a fault
 *   ends (off-delay, freeze), and the operator confirmed the fault, not its tail.
 * - A rejection is a universal claim: "nothing here is a fault". It labels every event the
 *   operator had seen when deciding (at or before the decision time) as a false alarm; events
 *   appended after the decision were never judged.
 *
 * Weighting: each decision contributes the same total weight (repetitions in the Random Forest's
 * training set; retrain sizes it from the synthetic part), split evenly over its labelled events, so a long recommendation
 * does not outweigh a short one; and the two classes are balanced (each class together weighs half
 * of all decisions' weight), so approvals, which are usually the majority, do not swamp the
 * rejections. Repetitions are integers (largest remainder, deterministic): a decision with more
 * events than its weight keeps an evenly spaced subset.
 */
import { labelOf, type RecommendationOutcome } from './labels.ts';

/** One event of a decided recommendation, with the times that decide whether it is labelled. */
export interface DecisionEvent {
  readonly recommendationId: string;
  readonly status: string;
  readonly note: string | null;
  readonly outcome: RecommendationOutcome | null;
  /** Source timestamp of the event. */
  readonly tsMs: number;
  /** The recommendation's anomaly time: earliest source timestamp of the events that raised it. */
  readonly raisedAtMs: number;
  /** When the operator decided (null: unknown, every event counts as seen). */
  readonly decidedAtMs: number | null;
  readonly features: Readonly<Record<string, number>>;
}

export interface TrainingLabel {
  readonly recommendationId: string;
  readonly features: Readonly<Record<string, number>>;
  readonly label: 0 | 1;
  /** Repetitions in the training set (0: left out by the even subsampling of a long decision). */
  readonly reps: number;
}

export interface TrainingLabels {
  readonly rows: readonly TrainingLabel[];
  /** Decisions (recommendations) per class that gave at least one labelled event. */
  readonly approvedDecisions: number;
  readonly rejectedDecisions: number;
}

/** The events a decision labels, by the rule above (never empty when the decision has events). */
export function labelledSubset<T extends DecisionEvent>(events: readonly T[], label: 0 | 1): T[] {
  if (events.length === 0) return [];
  const first = events[0] as T;
  const limit = label === 1 ? first.raisedAtMs : (first.decidedAtMs ?? Number.POSITIVE_INFINITY);
  const inside = events.filter((e) => e.tsMs <= limit);
  if (inside.length > 0) return inside;
  // Clock skew between the source and the gateway can put every event after the limit: fall back
  // to the events at the earliest timestamp (the ones that raised the recommendation).
  const earliest = Math.min(...events.map((e) => e.tsMs));
  return events.filter((e) => e.tsMs === earliest);
}

/** Splits `total` repetitions over `n` items as evenly as integers allow, spreading the remainder. */
export function spread(total: number, n: number): number[] {
  const out = new Array<number>(n).fill(Math.floor(total / n));
  const rest = total - (out[0] ?? 0) * n;
  // Evenly spaced items get the one extra repetition (so a subsample covers the whole decision).
  for (let k = 0; k < rest; k++) {
    const i = Math.floor(((k + 0.5) * n) / rest);
    out[i] = (out[i] as number) + 1;
  }
  return out;
}

export interface LabelledDecision {
  readonly recommendationId: string;
  readonly label: 0 | 1;
  /** Relative weight (an average decision weighs 1; classes balanced). */
  readonly weight: number;
  /** The labelled events' feature rows, in time order. */
  readonly events: readonly Readonly<Record<string, number>>[];
}

export interface LabelledDecisions {
  readonly decisions: readonly LabelledDecision[];
  /** Decisions (recommendations) per class that gave at least one labelled event. */
  readonly approvedDecisions: number;
  readonly rejectedDecisions: number;
}

/** Decided recommendations (approved / rejected) with their events in time order; deferred ones are left out. */
function decidedRecommendations(
  events: readonly DecisionEvent[],
): { id: string; label: 0 | 1; events: DecisionEvent[] }[] {
  const byRec = new Map<string, DecisionEvent[]>();
  for (const e of events) {
    const list = byRec.get(e.recommendationId);
    if (list === undefined) byRec.set(e.recommendationId, [e]);
    else list.push(e);
  }
  const out: { id: string; label: 0 | 1; events: DecisionEvent[] }[] = [];
  for (const [id, list] of byRec) {
    const first = list[0] as DecisionEvent;
    const l = labelOf({
      recommendationId: id,
      status: first.status,
      operatorNote: first.note,
      outcome: first.outcome,
    });
    if (l !== undefined) out.push({ id, label: l.label, events: [...list].sort((a, b) => a.tsMs - b.tsMs) });
  }
  return out;
}

/**
 * What the promotion gate judges a decision by: every event the operator had seen when deciding
 * (at or before the decision time), for either answer. An approval's evidence is the alarm the
 * operator confirmed, not only the tick that raised it (docs/learning.md, "The gate").
 */
export function seenDecisions(events: readonly DecisionEvent[]): {
  recommendationId: string;
  label: 0 | 1;
  events: Readonly<Record<string, number>>[];
  /** Source timestamp of each event (the equipment's tick), same order as `events`. */
  ticks: number[];
}[] {
  return decidedRecommendations(events).map((d) => {
    const seen = labelledSubset(d.events, 0);
    return {
      recommendationId: d.id,
      label: d.label,
      events: seen.map((e) => e.features),
      ticks: seen.map((e) => e.tsMs),
    };
  });
}

/**
 * The decided recommendations with their labelled events (rule above) and relative weights: every
 * decision weighs the same within its class, and with both classes present each class together
 * weighs half (so the weights sum to the number of decisions).
 */
export function labelledDecisions(events: readonly DecisionEvent[]): LabelledDecisions {
  const found: { id: string; label: 0 | 1; events: DecisionEvent[] }[] = [];
  for (const d of decidedRecommendations(events)) {
    const subset = labelledSubset(d.events, d.label);
    if (subset.length > 0) found.push({ ...d, events: subset });
  }
  const approved = found.filter((d) => d.label === 1).length;
  const rejected = found.length - approved;
  const weightOf = (label: 0 | 1): number =>
    approved > 0 && rejected > 0 ? found.length / 2 / (label === 1 ? approved : rejected) : 1;
  return {
    decisions: found.map((d) => ({
      recommendationId: d.id,
      label: d.label,
      weight: weightOf(d.label),
      events: d.events.map((e) => e.features),
    })),
    approvedDecisions: approved,
    rejectedDecisions: rejected,
  };
}

/** Integer repetitions of one decision's events: `weight × perDecision` in all (at least 1), spread evenly. */
export function decisionRepetitions(weight: number, events: number, perDecision: number): number[] {
  return spread(Math.max(1, Math.round(weight * perDecision)), events);
}

/**
 * Training labels as rows with their repetitions (`perDecision` repetitions for an average
 * decision): what the Random Forest's training set gets.
 */
export function trainingLabels(events: readonly DecisionEvent[], perDecision: number): TrainingLabels {
  if (!(perDecision > 0)) throw new RangeError(`perDecision must be > 0, got ${perDecision}`);
  const d = labelledDecisions(events);
  const rows: TrainingLabel[] = [];
  for (const x of d.decisions) {
    const reps = decisionRepetitions(x.weight, x.events.length, perDecision);
    x.events.forEach((features, i) =>
      rows.push({ recommendationId: x.recommendationId, features, label: x.label, reps: reps[i] as number }),
    );
  }
  return { rows, approvedDecisions: d.approvedDecisions, rejectedDecisions: d.rejectedDecisions };
}
