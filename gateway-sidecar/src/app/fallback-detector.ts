/**
 * The detector used when no ONNX model version can be loaded (SC_WRN_003 MODEL_FALLBACK): per-tag
 * exponentially weighted mean and variance (a rolling z-score) plus the configured warning /
 * critical / emergency levels. It keeps the pipeline, the recommendations and the demo working
 * while the model is missing, and says so: every scored reading carries modelVersion
 * 'fallback-zscore', and /health reports the model as degraded.
 *
 * Deterministic in the event sequence (no clock, no randomness), so a replay after a restart
 * reproduces the same scores - the exactly-once restart relies on that.
 */
import { eventIdOf, type Contribution, type ScoredReading, type Severity } from '../domain/detection.ts';
import type { SensorReading } from '../domain/tag-event.ts';
import type { BatchDetector } from './ingest.ts';

export const FALLBACK_MODEL_VERSION = 'fallback-zscore';

interface TagStats {
  n: number;
  mean: number;
  variance: number;
}

export interface FallbackDetectorOptions {
  /** EWMA weight of a new sample (default 0.02: about 50 samples of memory). */
  readonly alpha?: number;
  /** Samples a tag needs before it may be flagged (default 60). */
  readonly warmup?: number;
  /** |z| at which the statistical part alone reaches the anomaly line (default 6). */
  readonly zLine?: number;
}

function levelScore(r: SensorReading): { score: number; severity: Severity } {
  const t = r.tag.thresholds;
  if (t === undefined) return { score: 0, severity: 'low' };
  const beyond = (level: number): boolean => (t.direction === 'high' ? r.value >= level : r.value <= level);
  if (beyond(t.emergency)) return { score: 0.97, severity: 'critical' };
  if (beyond(t.critical)) return { score: 0.9, severity: 'high' };
  if (beyond(t.warning)) return { score: 0.8, severity: 'medium' };
  return { score: 0, severity: 'low' };
}

export class FallbackDetector implements BatchDetector {
  readonly #stats = new Map<string, TagStats>();
  readonly #alpha: number;
  readonly #warmup: number;
  readonly #zLine: number;

  constructor(options: FallbackDetectorOptions = {}) {
    this.#alpha = options.alpha ?? 0.02;
    this.#warmup = options.warmup ?? 60;
    this.#zLine = options.zLine ?? 6;
  }

  async score(readings: readonly SensorReading[]): Promise<readonly ScoredReading[]> {
    return readings.map((r) => this.#one(r));
  }

  #one(r: SensorReading): ScoredReading {
    const key = r.tag.tagPath;
    let s = this.#stats.get(key);
    if (s === undefined) {
      s = { n: 0, mean: r.value, variance: 0 };
      this.#stats.set(key, s);
    }
    // z against the statistics before this sample, so a step shows up at full size.
    const floor = 1e-3 * (r.tag.engHigh - r.tag.engLow);
    const std = Math.max(Math.sqrt(s.variance), floor);
    const z = s.n === 0 ? 0 : (r.value - s.mean) / std;
    const diff = r.value - s.mean;
    s.mean += this.#alpha * diff;
    s.variance = (1 - this.#alpha) * (s.variance + this.#alpha * diff * diff);
    s.n++;

    const warm = s.n > this.#warmup;
    const statistical = warm ? Math.min(0.95, 0.7 * (Math.abs(z) / this.#zLine)) : 0;
    const level = levelScore(r);
    const score = Math.max(statistical, level.score);
    const isAnomaly = score >= 0.7;
    const severity: Severity =
      level.score > 0 ? level.severity : score >= 0.85 ? 'high' : score >= 0.7 ? 'medium' : 'low';
    const explanation: Contribution[] = isAnomaly
      ? [{ feature: 'z_score', sensorType: r.tag.sensorType, tagPath: key, value: z, weight: 1 }]
      : [];
    return {
      reading: r,
      eventId: eventIdOf(key, r.sourceTimestampMs),
      features: { value: r.value, z_score: z, rolling_mean: s.mean, rolling_std: Math.sqrt(s.variance) },
      score,
      ifScore: statistical,
      rfScore: level.score,
      isAnomaly,
      severity,
      modelVersion: FALLBACK_MODEL_VERSION,
      explanation,
    };
  }
}
