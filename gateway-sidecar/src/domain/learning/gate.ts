/**
 * The promotion gate. Candidate and current model score the same held-back labelled rows (rows
 * from operator decisions not used for training); the candidate is promoted only if it is not
 * worse: F1 at least current F1 − f1Tolerance AND false-alarm rate at most current FAR +
 * farTolerance, on at least minRows rows with both classes present. The numbers are recorded.
 */

export interface Counts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface GateFigures {
  readonly rows: number;
  readonly positives: number;
  readonly f1: number;
  readonly far: number;
  readonly mar: number;
}

export function figuresFrom(labels: ArrayLike<number>, flagged: ArrayLike<boolean>): GateFigures {
  const c: Counts = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const pos = (labels[i] as number) > 0;
    if (flagged[i]) {
      if (pos) c.tp++;
      else c.fp++;
    } else if (pos) c.fn++;
    else c.tn++;
  }
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    rows: labels.length,
    positives: c.tp + c.fn,
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    far: ratio(c.fp, c.fp + c.tn),
    mar: ratio(c.fn, c.fn + c.tp),
  };
}

export interface GateOptions {
  readonly f1Tolerance: number;
  readonly farTolerance: number;
  readonly minRows: number;
}

export interface GateResult {
  readonly passed: boolean;
  readonly reason: string;
  readonly current: GateFigures;
  readonly candidate: GateFigures;
  readonly options: GateOptions;
}

export function promotionGate(current: GateFigures, candidate: GateFigures, o: GateOptions): GateResult {
  const base = { current, candidate, options: o };
  const negatives = candidate.rows - candidate.positives;
  if (candidate.rows < o.minRows || candidate.positives === 0 || negatives === 0) {
    return {
      ...base,
      passed: false,
      reason: `held-back set too small: ${candidate.rows} rows (${candidate.positives} positive, ${negatives} negative), need ${o.minRows} with both classes`,
    };
  }
  const f1Ok = candidate.f1 >= current.f1 - o.f1Tolerance;
  const farOk = candidate.far <= current.far + o.farTolerance;
  const fmt = (v: number): string => v.toFixed(3);
  const detail = `F1 ${fmt(candidate.f1)} vs ${fmt(current.f1)} (tolerance ${o.f1Tolerance}), FAR ${fmt(candidate.far)} vs ${fmt(current.far)} (tolerance ${o.farTolerance})`;
  if (f1Ok && farOk) return { ...base, passed: true, reason: `not worse: ${detail}` };
  return { ...base, passed: false, reason: `worse ${f1Ok ? 'FAR' : farOk ? 'F1' : 'F1 and FAR'}: ${detail}` };
}
