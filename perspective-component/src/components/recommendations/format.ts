/** Display helpers shared by the views (pure). */
import type {
  Contribution,
  OutcomeActivity,
  OutcomeView,
  PatternHistory,
  RecommendationStatus,
  Severity,
  WriteOutcome,
} from '../../api/types.ts';

export const SEVERITY_LABEL: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

export const STATUS_LABEL: Record<RecommendationStatus, string> = {
  pending: 'Pending',
  approved: 'Approved',
  deferred: 'Deferred',
  rejected: 'Rejected',
  executed: 'Executed',
  failed: 'Write failed',
  expired: 'Expired',
};

/** Statuses an operator can still decide on. */
export function isDecidable(status: RecommendationStatus): boolean {
  return status === 'pending' || status === 'deferred';
}

/**
 * Engineering value and unit. Up to 3 decimals, trailing zeros dropped, never rounded coarser:
 * the operator must see the exact setpoint that will be written (63.75, not 63.8).
 */
export function formatValue(value: number | null, unit: string): string {
  if (value === null || !Number.isFinite(value)) return '—';
  const text = String(Number(value.toFixed(3)));
  return unit ? `${text} ${unit}` : text;
}

/** 'cooling_degradation' -> 'Cooling degradation'. */
export function humanize(id: string): string {
  const words = id.replace(/[_-]+/g, ' ').trim();
  return words ? words.charAt(0).toUpperCase() + words.slice(1) : id;
}

export function formatPercent(fraction: number): string {
  return `${Math.round(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

export function describeContribution(c: Contribution): string {
  return `${humanize(c.sensorType)}: ${humanize(c.feature)} ${formatValue(c.value, '')} (${formatPercent(c.weight)})`;
}

export function formatMinutes(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  if (minutes % (24 * 60) === 0) return `${minutes / (24 * 60)} d`;
  if (minutes % 60 === 0) return `${minutes / 60} h`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export const OUTCOME_LABEL: Record<WriteOutcome, string> = {
  effective: 'Effective',
  not_effective: 'Not effective',
  worse: 'Worse',
};

function share(a: OutcomeActivity): string {
  return a.events === 0 ? 'no readings' : formatPercent(a.anomalies / a.events);
}

/** Minutes with one decimal at most: 4 -> '4', 0.5 -> '0.5'. */
function minutes(m: number): string {
  return String(Number(m.toFixed(1)));
}

/** What happened after the write, in one line (the label is shown separately). */
export function describeOutcome(o: OutcomeView): string {
  let text: string;
  if (o.outcome === 'effective') {
    text =
      o.clearedAfterMinutes === null
        ? `anomaly share ${share(o.before)} before the write, ${share(o.after)} after`
        : o.clearedAfterMinutes === 0
          ? 'no anomaly after the write'
          : `anomaly cleared ${minutes(o.clearedAfterMinutes)} min after the write`;
  } else if (o.outcome === 'worse') {
    text = `mean anomaly score ${o.before.meanScore.toFixed(2)} before the write, ${o.after.meanScore.toFixed(2)} after`;
  } else {
    text =
      o.after.events === 0
        ? `no readings in the ${o.windowMinutes} min after the write`
        : `anomaly share ${share(o.before)} before the write, ${share(o.after)} after`;
  }
  return o.reverted ? `${text}; reverted automatically` : text;
}

/** Longest earlier rejection note shown on a card, in characters (the API has it whole). */
export const HISTORY_NOTE_MAX = 120;

/** `text` cut to at most `max` characters, at a word boundary when there is one, with '…'. */
export function clipText(text: string, max: number): string {
  const t = text.trim().replace(/\s+/g, ' ');
  if (t.length <= max) return t;
  const cut = t.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space >= max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** 'Earlier on this pattern: 5 approved, 2 rejected', or that there were none. */
export function describePatternHistory(h: PatternHistory): string {
  return h.approved + h.rejected === 0
    ? 'No earlier decisions on this pattern'
    : `Earlier on this pattern: ${h.approved} approved, ${h.rejected} rejected`;
}
