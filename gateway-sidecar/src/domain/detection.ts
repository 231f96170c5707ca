/**
 * Shared types of the detection stage: what the scorer hands to the recommendation engine.
 * The feature engine and ensemble live in features.ts / scoring.ts; the recommendation engine
 * only depends on these types.
 */
import type { SensorReading } from './tag-event.ts';

/** Severity of a scored anomaly, from the ensemble score and the engineering thresholds. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** One feature's share in an anomaly: what operators see as the explanation. */
export interface Contribution {
  /** Feature name from FEATURE_NAMES, e.g. 'z_score'. */
  readonly feature: string;
  /** Sensor the feature belongs to (tag's sensorType), e.g. 'temperature'. */
  readonly sensorType: string;
  readonly tagPath: string;
  /** Feature value for this event. */
  readonly value: number;
  /** Relative contribution in [0, 1]; contributions of one event sum to at most 1. */
  readonly weight: number;
}

/** A reading after features and the ensemble. */
export interface ScoredReading {
  readonly reading: SensorReading;
  /** Stable id of the event (tag path + source timestamp), used for exactly-once storage. */
  readonly eventId: string;
  readonly features: Readonly<Record<string, number>>;
  /** Ensemble score in [0, 1] = ifWeight * ifScore + rfWeight * rfScore. */
  readonly score: number;
  readonly ifScore: number;
  readonly rfScore: number;
  readonly isAnomaly: boolean;
  readonly severity: Severity;
  readonly modelVersion: string;
  /** Top contributing features (empty when not an anomaly). */
  readonly explanation: readonly Contribution[];
}

/** Stable event id: the same tag value at the same source time is the same event on replay. */
export function eventIdOf(tagPath: string, sourceTimestampMs: number): string {
  return `${tagPath}@${sourceTimestampMs}`;
}
