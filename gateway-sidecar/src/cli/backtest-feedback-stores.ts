/**
 * In-memory stores for the feedback backtest, so it runs the product's `retrain()` without a
 * database: the learning store holds the simulated operator's answers joined to the events of
 * their own recommendations (as `PgLearningStore.labelledEvents` joins anomaly_event_ids) and the
 * recent non-anomalous events; the registry keeps versions and statuses as
 * `agentic_hmi.model_registry` does (one active version, promote retires the previous one).
 */
import type {
  LabelledEvent,
  LearningStore,
  ModelEntry,
  ModelRegistryStore,
} from '../domain/learning/ports.ts';

/** A recent scored event of the backtest: its equipment (file), source time and feature row. */
export interface ScoredRow {
  readonly equipmentId: string;
  readonly tsMs: number;
  readonly features: Readonly<Record<string, number>>;
}

const CONFIRMED = new Set(['approved', 'executed', 'failed']);

export class FeedbackLearningStore implements Pick<LearningStore, 'labelledEvents' | 'featureRows'> {
  readonly #labelled: readonly LabelledEvent[];
  readonly #normal: readonly ScoredRow[];
  readonly #anomalous: readonly ScoredRow[];

  /**
   * `labelled`: the answered recommendations' events; `normal` / `anomalous`: the recent scored
   * events the system did not / did flag (what `featureRows` samples from).
   */
  constructor(
    labelled: readonly LabelledEvent[],
    normal: readonly ScoredRow[],
    anomalous: readonly ScoredRow[] = [],
  ) {
    this.#labelled = labelled;
    this.#normal = normal;
    this.#anomalous = anomalous;
  }

  /** Every answer given so far counts as inside the training range (the backtest has no calendar). */
  labelledEvents(): Promise<LabelledEvent[]> {
    return Promise.resolve([...this.#labelled]);
  }

  /**
   * Evenly sampled to at most `limit`, like the Postgres adapter; with `nearConfirmedMs` > 0 an
   * equipment's rows within that margin of a confirmed recommendation's events (its anomaly time to
   * its last event) are left out, as there.
   */
  featureRows(
    _fromMs: number,
    _toMs: number,
    limit: number,
    normalOnly: boolean,
    nearConfirmedMs = 0,
  ): Promise<Record<string, number>[]> {
    let rows = normalOnly ? this.#normal : [...this.#normal, ...this.#anomalous];
    if (nearConfirmedMs > 0) {
      const spans = new Map<string, { equipmentId: string; lo: number; hi: number }>();
      for (const e of this.#labelled) {
        if (!CONFIRMED.has(e.status)) continue;
        const span = spans.get(e.recommendationId);
        if (span === undefined)
          spans.set(e.recommendationId, { equipmentId: e.equipmentId, lo: e.raisedAtMs, hi: e.tsMs });
        else span.hi = Math.max(span.hi, e.tsMs);
      }
      const list = [...spans.values()];
      rows = rows.filter(
        (r) =>
          !list.some(
            (c) =>
              c.equipmentId === r.equipmentId &&
              r.tsMs >= c.lo - nearConfirmedMs &&
              r.tsMs <= c.hi + nearConfirmedMs,
          ),
      );
    }
    if (rows.length <= limit) return Promise.resolve(rows.map((r) => ({ ...r.features })));
    const out: Record<string, number>[] = [];
    const stride = rows.length / limit;
    for (let k = 0; k < limit; k++) out.push({ ...(rows[Math.floor(k * stride)] as ScoredRow).features });
    return Promise.resolve(out);
  }
}

export class MemoryModelRegistry implements ModelRegistryStore {
  readonly #entries = new Map<string, ModelEntry & { changedAtMs: number }>();

  register(
    e: Omit<ModelEntry, 'status'> & { status: 'candidate' | 'active' | 'rejected' },
    nowMs: number,
  ): Promise<void> {
    if (this.#entries.has(e.version))
      return Promise.reject(new Error(`model version ${e.version} is already registered`));
    if (e.status === 'active')
      for (const [v, x] of this.#entries)
        if (x.status === 'active') this.#entries.set(v, { ...x, status: 'retired', changedAtMs: nowMs });
    this.#entries.set(e.version, { ...e, changedAtMs: nowMs });
    return Promise.resolve();
  }

  list(): Promise<ModelEntry[]> {
    return Promise.resolve(
      [...this.#entries.values()].sort((a, b) => b.createdAtMs - a.createdAtMs).map(strip),
    );
  }

  get(version: string): Promise<ModelEntry | undefined> {
    const e = this.#entries.get(version);
    return Promise.resolve(e === undefined ? undefined : strip(e));
  }

  active(): Promise<ModelEntry | undefined> {
    for (const e of this.#entries.values()) if (e.status === 'active') return Promise.resolve(strip(e));
    return Promise.resolve(undefined);
  }

  promote(version: string, nowMs: number): Promise<ModelEntry> {
    const e = this.#entries.get(version);
    if (e === undefined) return Promise.reject(new Error(`unknown model version ${version}`));
    for (const [v, x] of this.#entries)
      if (x.status === 'active' && v !== version)
        this.#entries.set(v, { ...x, status: 'retired', changedAtMs: nowMs });
    const next = { ...e, status: 'active' as const, changedAtMs: nowMs };
    this.#entries.set(version, next);
    return Promise.resolve(strip(next));
  }

  rollback(version: string | undefined, nowMs: number): Promise<ModelEntry> {
    let target = version === undefined ? undefined : this.#entries.get(version);
    if (version === undefined) {
      for (const e of this.#entries.values())
        if (e.status === 'retired' && (target === undefined || e.changedAtMs > target.changedAtMs))
          target = e;
    }
    if (target === undefined)
      return Promise.reject(
        new Error(
          version === undefined ? 'no retired version to roll back to' : `unknown model version ${version}`,
        ),
      );
    return this.promote(target.version, nowMs);
  }
}

function strip(e: ModelEntry & { changedAtMs: number }): ModelEntry {
  const { changedAtMs: _changed, ...rest } = e;
  return rest;
}
