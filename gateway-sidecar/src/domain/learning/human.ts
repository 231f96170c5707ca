/**
 * Measuring the humans: per pattern and per operator role, how many decisions, the approval
 * latency (created → decided), the reject rate, and "rubber-stamp" approvals — approvals decided
 * faster than a minimum reading time, which say more about workload than about the plant.
 */

export interface DecisionTiming {
  readonly equipmentId: string;
  readonly issueType: string;
  /** Role of the deciding operator (the highest one when several). */
  readonly role: string;
  readonly status: 'approved' | 'rejected';
  readonly createdMs: number;
  readonly decidedMs: number;
}

export interface HumanFigures {
  readonly decisions: number;
  readonly approvals: number;
  readonly rejects: number;
  readonly rejectRate: number;
  readonly meanLatencySec: number;
  readonly medianLatencySec: number;
  readonly rubberStamps: number;
}

export interface HumanMetrics {
  readonly byPattern: Readonly<Record<string, HumanFigures>>;
  readonly byRole: Readonly<Record<string, HumanFigures>>;
  readonly overall: HumanFigures;
}

function figures(ds: readonly DecisionTiming[], minReadingMs: number): HumanFigures {
  const lat = ds.map((d) => Math.max(0, d.decidedMs - d.createdMs)).sort((a, b) => a - b);
  const approvals = ds.filter((d) => d.status === 'approved');
  const rejects = ds.length - approvals.length;
  const mid =
    lat.length === 0
      ? 0
      : lat.length % 2 === 1
        ? (lat[(lat.length - 1) / 2] as number)
        : ((lat[lat.length / 2 - 1] as number) + (lat[lat.length / 2] as number)) / 2;
  return {
    decisions: ds.length,
    approvals: approvals.length,
    rejects,
    rejectRate: ds.length === 0 ? 0 : rejects / ds.length,
    meanLatencySec: lat.length === 0 ? 0 : lat.reduce((s, v) => s + v, 0) / lat.length / 1000,
    medianLatencySec: mid / 1000,
    rubberStamps: approvals.filter((d) => d.decidedMs - d.createdMs < minReadingMs).length,
  };
}

function groupBy(
  ds: readonly DecisionTiming[],
  key: (d: DecisionTiming) => string,
): Map<string, DecisionTiming[]> {
  const m = new Map<string, DecisionTiming[]>();
  for (const d of ds) {
    const k = key(d);
    const l = m.get(k);
    if (l === undefined) m.set(k, [d]);
    else l.push(d);
  }
  return m;
}

export function humanMetrics(ds: readonly DecisionTiming[], minReadingMs: number): HumanMetrics {
  const byPattern: Record<string, HumanFigures> = {};
  for (const [k, l] of groupBy(ds, (d) => `${d.equipmentId}|${d.issueType}`))
    byPattern[k] = figures(l, minReadingMs);
  const byRole: Record<string, HumanFigures> = {};
  for (const [k, l] of groupBy(ds, (d) => d.role)) byRole[k] = figures(l, minReadingMs);
  return { byPattern, byRole, overall: figures(ds, minReadingMs) };
}
