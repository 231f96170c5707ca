/**
 * MobX state of the recommendations panel: list, filters, optimistic decisions, live updates and
 * the connection state. Written against the API subset MobX 5 and MobX 6 share, because
 * Perspective 8.1 ships MobX 5 as the page global: `observable({...})` objects whose getters
 * become computed values, `observable.map`, `action`, `runInAction`, `reaction`, `toJS`. No
 * decorators, no makeObservable/makeAutoObservable. Every mutation runs inside an action.
 */
import { action, observable, runInAction, toJS } from 'mobx';
import { toTransportError, type ConnectionInfo, type Transport } from '../../api/transport.ts';
import type {
  Change,
  CriticalAlert,
  Decision,
  Recommendation,
  RecommendationStatus,
  Severity,
} from '../../api/types.ts';
import { compareRecommendations, matchesFilter, type FilterState } from './ordering.ts';

export type { FilterState } from './ordering.ts';

export interface Notice {
  readonly kind: 'error' | 'info';
  readonly text: string;
  readonly code: string | null;
  readonly recommendationId: string | null;
}

export interface DecisionOutcome {
  readonly id: string;
  readonly decision: Decision;
  readonly ok: boolean;
  readonly status: RecommendationStatus;
  readonly note: string | null;
  readonly deferUntil: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export interface StoreOptions {
  readonly transport: Transport;
  readonly pageSize: number;
  readonly filter?: Partial<FilterState>;
  /** Clock in ms; injected so ages and defer times are testable. */
  readonly now?: () => number;
  readonly onDecided?: (outcome: DecisionOutcome) => void;
}

export interface DecisionInput {
  readonly note?: string;
  readonly deferMinutes?: number;
}

const OPTIMISTIC: Record<Decision, RecommendationStatus> = {
  approve: 'approved',
  defer: 'deferred',
  reject: 'rejected',
};
const MAX_ALERTS = 3;
/** Critical alerts older than this are not loaded into the banner (the seed's critical-alerts query: the last hour). */
export const ALERT_LOOKBACK_MS = 60 * 60_000;

function createState(filter: FilterState, nowMs: number) {
  return observable({
    items: [] as Recommendation[],
    total: 0,
    loading: false,
    loaded: false,
    loadError: null as Notice | null,
    notice: null as Notice | null,
    connection: { state: 'connecting', attempts: 0, detail: null } as ConnectionInfo,
    filter,
    selectedId: null as string | null,
    /** id -> decision in flight (optimistic). */
    pending: observable.map<string, Decision>(),
    /** False once the API said our role may not decide (403). */
    canDecide: true,
    user: null as string | null,
    alerts: [] as CriticalAlert[],
    nowMs,
    /** What the user sees: filtered, sorted by severity then age. */
    get visible(): Recommendation[] {
      return this.items
        .filter((r: Recommendation) => matchesFilter(r, this.filter))
        .sort(compareRecommendations);
    },
    get equipmentIds(): string[] {
      return [...new Set(this.items.map((r: Recommendation) => r.equipmentId))].sort();
    },
    get hasMore(): boolean {
      return this.items.length < this.total;
    },
  });
}

export type StoreState = ReturnType<typeof createState>;

export class RecommendationsStore {
  readonly state: StoreState;
  readonly #opts: StoreOptions;
  readonly #now: () => number;
  #unsubscribe: (() => void) | null = null;
  #loadGeneration = 0;

  constructor(options: StoreOptions) {
    this.#opts = options;
    this.#now = options.now ?? (() => Date.now());
    const filter: FilterState = {
      equipmentId: options.filter?.equipmentId ?? '',
      severity: [...(options.filter?.severity ?? [])],
      status: [...(options.filter?.status ?? [])],
    };
    this.state = createState(filter, this.#now());
  }

  get transport(): Transport {
    return this.#opts.transport;
  }

  /** Subscribes to live updates and loads the first page. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#opts.transport.subscribe({
      onChange: (change) => this.applyChange(change),
      onConnection: action((info: ConnectionInfo) => {
        this.state.connection = info;
      }),
      onResumed: () => void this.load(),
    });
    void this.load();
    void this.#checkRole();
  }

  /** Disables decisions up front for a read-only role; the 403 path still covers channels that cannot tell. */
  async #checkRole(): Promise<void> {
    const me = this.#opts.transport.me;
    if (!me) return;
    try {
      const who = await me.call(this.#opts.transport);
      runInAction(() => {
        this.state.user = who.user;
        this.state.canDecide = who.roles.includes('operator') || who.roles.includes('engineer');
      });
    } catch {
      // Unknown identity is not a reason to block: the API still refuses what the role may not do.
    }
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  readonly tick = action(() => {
    this.state.nowMs = this.#now();
  });

  find(id: string): Recommendation | undefined {
    return this.state.items.find((r) => r.id === id);
  }

  /** Reloads the first page with the current filter; stale answers are dropped. */
  async load(): Promise<void> {
    const generation = ++this.#loadGeneration;
    void this.#loadAlerts();
    runInAction(() => {
      this.state.loading = true;
    });
    const f = this.state.filter;
    try {
      const result = await this.#opts.transport.list({
        status: f.status.length ? [...f.status] : undefined,
        severity: f.severity.length ? [...f.severity] : undefined,
        equipmentId: f.equipmentId || undefined,
        limit: this.#opts.pageSize,
        offset: 0,
      });
      if (generation !== this.#loadGeneration) return;
      runInAction(() => {
        this.state.items = result.items.map((r) => this.#keepOptimistic(r));
        this.state.total = result.total;
        this.state.loadError = null;
        this.state.loading = false;
        this.state.loaded = true;
      });
    } catch (e) {
      if (generation !== this.#loadGeneration) return;
      const err = toTransportError(e);
      runInAction(() => {
        this.state.loadError = { kind: 'error', text: err.message, code: err.code, recommendationId: null };
        this.state.loading = false;
      });
    }
  }

  /**
   * The latest critical alerts of the last hour, merged with those pushed live (newest first, the
   * last MAX_ALERTS): a panel opened or reloaded during an emergency shows it. Every load (first
   * load, filter change, resume after a drop) repeats it, so an alert missed while offline appears.
   */
  async #loadAlerts(): Promise<void> {
    const t = this.#opts.transport;
    if (!t.criticalAlerts) return;
    try {
      const recent = await t.criticalAlerts(MAX_ALERTS);
      const since = this.#now() - ALERT_LOOKBACK_MS;
      runInAction(() => {
        const byId = new Map<string, CriticalAlert>();
        for (const a of [...this.state.alerts, ...recent.filter((a) => Date.parse(a.at) >= since)])
          if (!byId.has(a.id)) byId.set(a.id, a);
        this.state.alerts = [...byId.values()]
          .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
          .slice(0, MAX_ALERTS);
      });
    } catch (e) {
      const err = toTransportError(e);
      this.#notify('error', `Recent critical alerts could not be loaded: ${err.message}`, err.code, null);
    }
  }

  async loadMore(): Promise<void> {
    const f = this.state.filter;
    try {
      const result = await this.#opts.transport.list({
        status: f.status.length ? [...f.status] : undefined,
        severity: f.severity.length ? [...f.severity] : undefined,
        equipmentId: f.equipmentId || undefined,
        limit: this.#opts.pageSize,
        offset: this.state.items.length,
      });
      runInAction(() => {
        for (const r of result.items) this.#upsert(r);
        this.state.total = result.total;
      });
    } catch (e) {
      this.#notify('error', toTransportError(e).message, toTransportError(e).code, null);
    }
  }

  /** A decision in flight keeps its optimistic status when a reload returns the old row. */
  #keepOptimistic(r: Recommendation): Recommendation {
    const decision = this.state.pending.get(r.id);
    return decision ? { ...r, status: OPTIMISTIC[decision] } : r;
  }

  readonly setFilter = action((patch: Partial<FilterState>) => {
    Object.assign(this.state.filter, patch);
    void this.load();
  });

  readonly select = action((id: string | null) => {
    this.state.selectedId = id;
  });

  readonly dismissNotice = action(() => {
    this.state.notice = null;
  });

  readonly applyChange = action((change: Change) => {
    if (change.type === 'recommendation' && change.recommendation) this.#upsert(change.recommendation);
    if (change.type === 'critical_alert' && change.alert) {
      this.state.alerts = [change.alert, ...this.state.alerts.filter((a) => a.id !== change.alert?.id)].slice(
        0,
        MAX_ALERTS,
      );
    }
  });

  /** Inserts or replaces by id; an older version never overwrites a newer one. */
  #upsert(rec: Recommendation): void {
    const items = this.state.items;
    const i = items.findIndex((r) => r.id === rec.id);
    if (i === -1) {
      items.push(rec);
      this.state.total += 1;
    } else if ((items[i] as Recommendation).version <= rec.version) {
      items[i] =
        this.state.pending.has(rec.id) && (items[i] as Recommendation).version === rec.version
          ? this.#keepOptimistic(rec)
          : rec;
    }
  }

  #notify(kind: Notice['kind'], text: string, code: string | null, id: string | null): void {
    runInAction(() => {
      this.state.notice = { kind, text, code, recommendationId: id };
    });
  }

  /**
   * Applies a decision optimistically, sends it, and rolls back on error. 409 reloads (someone
   * else changed it), 403 turns the panel read-only. Resolves true when the API accepted it.
   */
  async decide(id: string, decision: Decision, input: DecisionInput = {}): Promise<boolean> {
    const item = this.find(id);
    if (!item || this.state.pending.has(id)) return false;
    const before = toJS(item) as Recommendation;
    const note = input.note?.trim() ? input.note.trim() : undefined;
    const deferUntil =
      decision === 'defer'
        ? new Date(this.#now() + (input.deferMinutes ?? 60) * 60_000).toISOString()
        : undefined;
    runInAction(() => {
      this.state.pending.set(id, decision);
      this.state.notice = null;
      this.#replace({ ...before, status: OPTIMISTIC[decision] });
    });
    const outcome = { id, decision, note: note ?? null, deferUntil: deferUntil ?? null };
    try {
      const result = await this.#opts.transport.decide(id, {
        decision,
        expectedVersion: before.version,
        ...(note !== undefined ? { note } : {}),
        ...(deferUntil !== undefined ? { deferUntil } : {}),
      });
      runInAction(() => {
        this.state.pending.delete(id);
        this.#upsert(result);
      });
      if (decision === 'approve' && result.status === 'pending') {
        this.#notify('info', 'Approval recorded. This change needs a second approver.', null, id);
      }
      this.#opts.onDecided?.({
        ...outcome,
        ok: true,
        status: result.status,
        errorCode: null,
        errorMessage: null,
      });
      return true;
    } catch (e) {
      const err = toTransportError(e);
      runInAction(() => {
        this.state.pending.delete(id);
        const current = this.find(id);
        // Roll back unless a live update already brought a newer version.
        if (current && current.version <= before.version) this.#replace(before);
        if (err.isForbidden) this.state.canDecide = false;
      });
      const text = err.isConflict
        ? `${before.equipmentId}: changed by someone else. The list was reloaded; check it and decide again.`
        : err.isForbidden
          ? `Not allowed: ${err.message}`
          : `Decision failed: ${err.message}`;
      this.#notify('error', text, err.code, id);
      if (err.isConflict) void this.load();
      this.#opts.onDecided?.({
        ...outcome,
        ok: false,
        status: before.status,
        errorCode: err.code,
        errorMessage: err.message,
      });
      return false;
    }
  }

  #replace(rec: Recommendation): void {
    const i = this.state.items.findIndex((r) => r.id === rec.id);
    if (i !== -1) this.state.items[i] = rec;
  }
}

export type { Severity };
