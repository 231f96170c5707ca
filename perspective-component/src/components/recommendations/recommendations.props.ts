/**
 * The props a designer sets (props.json is the schema) and the reader that turns Perspective's
 * PropertyTree, or any plain object, into a checked RecommendationsProps. Bad values fall back to
 * the documented default instead of breaking the view.
 */
import {
  DECISIONS,
  SEVERITIES,
  STATUSES,
  type Decision,
  type RecommendationStatus,
  type Severity,
} from '../../api/types.ts';

export type TransportKind = 'delegate' | 'http';

export interface RecommendationsProps {
  [key: string]: unknown;
  readonly title: string;
  readonly transport: TransportKind;
  readonly apiBaseUrl: string;
  readonly filters: {
    readonly equipmentId: string;
    readonly severity: Severity[];
    readonly status: RecommendationStatus[];
  };
  readonly pageSize: number;
  readonly enabledActions: Decision[];
  readonly requireNotes: boolean;
  readonly deferOptions: number[];
  readonly showFilters: boolean;
  /** Designer-bound data; when an array, the panel shows it instead of calling the API. */
  readonly recommendations: unknown[] | null;
  readonly selectedId: string | null;
  /** Perspective style object; `classes` is a space-separated list of style classes. */
  readonly style: { readonly classes: string; readonly [css: string]: unknown };
}

export const DEFAULT_PROPS: RecommendationsProps = {
  title: 'AI Recommendations',
  transport: 'delegate',
  apiBaseUrl: '/data/aimonitor/api',
  filters: {
    equipmentId: '',
    severity: [],
    status: ['pending', 'deferred', 'approved', 'executed', 'failed'],
  },
  pageSize: 25,
  enabledActions: ['approve', 'defer', 'reject'],
  requireNotes: false,
  deferOptions: [15, 60, 240, 480],
  showFilters: true,
  recommendations: null,
  selectedId: null,
  style: { classes: '' },
};

function pick<T>(allowed: readonly T[], value: unknown, fallback: T[]): T[] {
  if (!Array.isArray(value)) return fallback;
  return allowed.filter((a) => value.includes(a));
}

function readStyle(value: unknown): RecommendationsProps['style'] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { classes: '' };
  const v = value as Record<string, unknown>;
  return { ...v, classes: typeof v.classes === 'string' ? v.classes : '' };
}

/** Reads a plain props object (PropertyTree.toPlainObject() or the preview's props). */
export function readProps(raw: Record<string, unknown>): RecommendationsProps {
  const d = DEFAULT_PROPS;
  const filters = (typeof raw.filters === 'object' && raw.filters !== null ? raw.filters : {}) as Record<
    string,
    unknown
  >;
  const pageSize =
    typeof raw.pageSize === 'number' && Number.isFinite(raw.pageSize) ? Math.round(raw.pageSize) : d.pageSize;
  const deferOptions = Array.isArray(raw.deferOptions)
    ? raw.deferOptions.filter(
        (m): m is number => typeof m === 'number' && Number.isInteger(m) && m > 0 && m <= 7 * 24 * 60,
      )
    : d.deferOptions;
  return {
    title: typeof raw.title === 'string' ? raw.title : d.title,
    transport: raw.transport === 'http' || raw.transport === 'delegate' ? raw.transport : d.transport,
    apiBaseUrl:
      typeof raw.apiBaseUrl === 'string' && raw.apiBaseUrl.trim() ? raw.apiBaseUrl.trim() : d.apiBaseUrl,
    filters: {
      equipmentId: typeof filters.equipmentId === 'string' ? filters.equipmentId : d.filters.equipmentId,
      severity: pick(SEVERITIES, filters.severity, d.filters.severity),
      status: pick(STATUSES, filters.status, d.filters.status),
    },
    pageSize: Math.min(500, Math.max(1, pageSize)),
    enabledActions: pick(DECISIONS, raw.enabledActions, d.enabledActions),
    requireNotes: typeof raw.requireNotes === 'boolean' ? raw.requireNotes : d.requireNotes,
    deferOptions: deferOptions.length ? deferOptions : d.deferOptions,
    showFilters: typeof raw.showFilters === 'boolean' ? raw.showFilters : d.showFilters,
    recommendations: Array.isArray(raw.recommendations) ? raw.recommendations : null,
    selectedId: typeof raw.selectedId === 'string' ? raw.selectedId : null,
    style: readStyle(raw.style),
  };
}
