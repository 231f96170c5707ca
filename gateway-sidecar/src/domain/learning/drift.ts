/**
 * Population stability index per feature: bins are the training data's deciles (quantiles), so
 * each bin holds ~10 % of the training rows; PSI = Σ (cur − ref) · ln(cur / ref) over bins, with
 * empty bins floored at a small share so one empty bin does not make it infinite. Rule of thumb:
 * < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant shift.
 */

const FLOOR = 1e-4;

/** Inner bin edges from quantiles of `values` (bins − 1 edges, ascending, duplicates removed). */
export function quantileEdges(values: readonly number[], bins = 10): number[] {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return [];
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const e = finite[Math.min(finite.length - 1, Math.floor((k * finite.length) / bins))] as number;
    if (edges.length === 0 || e > (edges[edges.length - 1] as number)) edges.push(e);
  }
  return edges;
}

/** Share of values per bin (edges.length + 1 bins; a value equal to an edge goes right). */
export function binShares(values: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let n = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v < (edges[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    counts[lo] = (counts[lo] as number) + 1;
    n++;
  }
  return counts.map((c) => (n === 0 ? 0 : c / n));
}

export function psi(reference: readonly number[], current: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(FLOOR, reference[i] as number);
    const c = Math.max(FLOOR, current[i] as number);
    s += (c - r) * Math.log(c / r);
  }
  return s;
}

/** The training-side summary kept with a model version: per feature, bin edges and shares. */
export interface DriftBaseline {
  readonly features: Readonly<
    Record<string, { readonly edges: readonly number[]; readonly shares: readonly number[] }>
  >;
}

export function driftBaseline(
  columns: Readonly<Record<string, readonly number[]>>,
  bins = 10,
): DriftBaseline {
  const features: Record<string, { edges: number[]; shares: number[] }> = {};
  for (const [name, values] of Object.entries(columns)) {
    const edges = quantileEdges(values, bins);
    features[name] = { edges, shares: binShares(values, edges) };
  }
  return { features };
}

export interface DriftResult {
  readonly psi: Readonly<Record<string, number>>;
  /** Features whose PSI is at or above the alert line, highest first. */
  readonly alerts: readonly { readonly feature: string; readonly psi: number }[];
}

/** PSI of each baseline feature over the current columns (features missing from `current` are skipped). */
export function driftOf(
  baseline: DriftBaseline,
  current: Readonly<Record<string, readonly number[]>>,
  alertAt: number,
): DriftResult {
  const out: Record<string, number> = {};
  const alerts: { feature: string; psi: number }[] = [];
  for (const [name, b] of Object.entries(baseline.features)) {
    const values = current[name];
    if (values === undefined || values.length === 0) continue;
    const v = psi(b.shares, binShares(values, b.edges));
    out[name] = v;
    if (v >= alertAt) alerts.push({ feature: name, psi: v });
  }
  alerts.sort((a, b) => b.psi - a.psi);
  return { psi: out, alerts };
}

/** One feature's drift alert as the notifier gets it (`at` is ISO 8601). */
export interface DriftAlertNotice {
  readonly feature: string;
  readonly psi: number;
  /** learning.driftPsiAlert at the time. */
  readonly threshold: number;
  /** The model version whose training data is the reference. */
  readonly modelVersion: string;
  /** Scored events the PSI was computed on. */
  readonly rows: number;
  readonly at: string;
}

/**
 * Rising edges: the alerts of `result` whose feature was not alerting in the previous check, so a
 * feature that keeps drifting is notified once, not at every check. Returns them and the new set.
 */
export function newDriftAlerts(
  alerting: ReadonlySet<string>,
  result: DriftResult,
): { fresh: DriftResult['alerts']; alerting: Set<string> } {
  return {
    fresh: result.alerts.filter((a) => !alerting.has(a.feature)),
    alerting: new Set(result.alerts.map((a) => a.feature)),
  };
}
