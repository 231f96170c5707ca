/**
 * Push-first critical alerts: the SSE push of an emergency crossing leaves from memory the instant
 * the crossing is seen; the durable write (critical_alerts row + change-log row) follows.
 *
 * Exactly one id per alert. The push carries a change-log seq taken from a small pool of seqs
 * reserved in advance from the change log's own sequence (`reserveChangeSeqs`), and the durable
 * change-log row is written with that same seq, so a client's `Last-Event-ID` means the same thing
 * whether it came from the early push or from a replay:
 * - a client that got the early push and reconnects resumes after that seq and never receives the
 *   alert again;
 * - a client that reconnects between the push and the durable commit gets the alert in its replay
 *   (`pendingSince` is merged into the change-log read), after it the durable row is found;
 * - a failed durable write is retried by the pipeline with the same alerts; the alert keeps its seq
 *   (`#inflight`) and is not pushed again.
 *
 * Pushes stay in seq order. A reserved seq is smaller than any seq the log hands out later, so once
 * the hub has published a change with a larger seq, the reservations below it are burnt (left as
 * gaps, which the log allows) and fresh ones are fetched in the background. An alert that finds no
 * valid reservation waits for fresh seqs (one small query, not the batch's writes) and is then
 * pushed before its write all the same. While Postgres is unreachable the reserve on hand still
 * lets alerts be pushed; past it the raise fails and the pipeline retries it.
 *
 * Restart: an alert whose source time is at or before the newest stored alert (the horizon read at
 * start) may already be durable and pushed from before a crash; it is written first and pushed only
 * if the write inserted it, as before. An alert pushed early whose process died before the durable
 * commit (a window of one Postgres round trip) is raised again by the replay after the restart and
 * pushed again with a new seq: at least once on the wire for that window, exactly once in the
 * tables; clients key alerts by alert id (the component does).
 */
import { alertView, type CriticalAlertCandidate, type CriticalDetector } from '../domain/critical.ts';
import type { Change } from '../domain/recommendation-view.ts';
import type { Logger } from '../log.ts';
import type { RecommendationStore } from '../ports.ts';
import type { CriticalBypass } from './ingest.ts';

/** The parts of the recommendation store the push needs. */
export type CriticalAlertLog = Pick<
  RecommendationStore,
  'appendCriticalAlerts' | 'reserveChangeSeqs' | 'latestCriticalAlertMs'
>;

export interface CriticalPushStats {
  /** Alerts pushed from memory before their durable write. */
  readonly early: number;
  /** Alerts pushed after their write (at or before the restart horizon, and new to the table). */
  readonly afterWrite: number;
  /** Alerts that found no valid reservation and waited for fresh seqs before their push. */
  readonly misses: number;
  /** Reserved seqs left unused because a larger seq was published first. */
  readonly burnt: number;
}

export interface CriticalPushOptions {
  /** Seqs kept in reserve (refilled when half are used); default 8. */
  readonly reserve?: number;
}

/** Pause of background refills after a failed one (a Postgres outage: one attempt a second). */
const REFILL_BACKOFF_MS = 1_000;
/** Longest the pipeline waits at a batch end for the reserve to be refilled. */
const READY_WAIT_MS = 100;

/** Recently written alert ids remembered; a pipeline retries a batch's alerts, never older ones. */
const DURABLE_IDS_KEPT = 4096;

export class CriticalPush {
  readonly #store: CriticalAlertLog;
  readonly #publish: (change: Change) => void;
  readonly #log: Logger;
  readonly #want: number;
  /** Valid reservations, ascending. */
  #reserved: number[] = [];
  #refilling: Promise<void> | undefined;
  #refillError: unknown;
  #refillFailedAt = Number.NEGATIVE_INFINITY;
  /** Largest seq the hub has published. */
  #highest = 0;
  #horizonMs: number | undefined;
  #ready = false;
  #starting: Promise<void> | undefined;
  /** Pushed (or seq assigned) but not yet durable: alert id -> change. */
  readonly #inflight = new Map<string, Change>();
  /** Ids written lately (bounded, oldest dropped first): a repeated raise must not push them again. */
  readonly #durable = new Set<string>();
  #early = 0;
  #afterWrite = 0;
  #misses = 0;
  #burnt = 0;

  constructor(
    store: CriticalAlertLog,
    publish: (change: Change) => void,
    logger: Logger,
    options: CriticalPushOptions = {},
  ) {
    this.#store = store;
    this.#publish = publish;
    this.#log = logger.child({ component: 'critical-push' });
    const want = options.reserve ?? 8;
    if (!(Number.isInteger(want) && want >= 1))
      throw new RangeError(`reserve must be a positive integer, got ${want}`);
    this.#want = want;
  }

  stats(): CriticalPushStats {
    return { early: this.#early, afterWrite: this.#afterWrite, misses: this.#misses, burnt: this.#burnt };
  }

  /** Reads the restart horizon and fills the reserve; `raise` waits for it the first time. */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      this.#horizonMs = await this.#store.latestCriticalAlertMs();
      this.#ready = true;
      await this.#refill();
    })().catch((err: unknown) => {
      this.#starting = undefined;
      throw err;
    });
    return this.#starting;
  }

  /** Every change the hub publishes (ours included): keeps pushes in seq order. */
  observe(change: Change): void {
    if (change.seq > this.#highest) this.#highest = change.seq;
    if (this.#reserved.length === 0 || change.seq < (this.#reserved[0] as number)) return;
    const keep = this.#reserved.filter((s) => s > change.seq);
    this.#burnt += this.#reserved.length - keep.length;
    this.#reserved = keep;
    void this.#refill();
  }

  /** Alerts pushed but not yet durable with seq > afterSeq, ascending (for SSE resume). */
  pendingSince(afterSeq: number): Change[] {
    const out: Change[] = [];
    for (const c of this.#inflight.values()) if (c.seq > afterSeq) out.push(c);
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Pushes what it can at once (synchronously, before the first await), then writes every alert;
   * alerts without an early push are pushed after the write if it inserted them. Idempotent by
   * alert id: call again with the same alerts after a failure (or after success: nothing is
   * pushed twice).
   */
  async raise(alerts: readonly CriticalAlertCandidate[]): Promise<void> {
    if (alerts.length === 0) return;
    if (!this.#ready) await this.start();
    const seqs: (number | undefined)[] = [];
    const missing: number[] = [];
    for (const a of alerts) {
      const known = this.#inflight.get(a.id);
      if (known) {
        seqs.push(known.seq);
        continue;
      }
      if (
        this.#durable.has(a.id) ||
        (this.#horizonMs !== undefined && a.sourceTimestampMs <= this.#horizonMs)
      ) {
        seqs.push(undefined);
        continue;
      }
      const seq = this.#reserved.shift();
      if (seq === undefined) {
        this.#misses++;
        seqs.push(undefined);
        missing.push(seqs.length - 1);
        continue;
      }
      this.#pushNow(a, seq);
      seqs.push(seq);
    }
    if (this.#reserved.length * 2 < this.#want) void this.#refill();
    // No reservation left: wait for fresh seqs (one small query), still push before the write.
    for (const i of missing) {
      const a = alerts[i] as CriticalAlertCandidate;
      const known = this.#inflight.get(a.id);
      if (known) {
        seqs[i] = known.seq;
        continue;
      }
      const seq = await this.#nextSeq();
      this.#pushNow(a, seq);
      seqs[i] = seq;
    }
    const written = await this.#store.appendCriticalAlerts(alerts, seqs);
    for (const c of written) {
      const id = c.alert?.id;
      if (id !== undefined && this.#inflight.get(id)?.seq === c.seq) continue;
      this.#afterWrite++;
      this.#publish(c);
    }
    for (const a of alerts) {
      this.#inflight.delete(a.id);
      this.#durable.add(a.id);
    }
    for (const id of this.#durable) {
      if (this.#durable.size <= DURABLE_IDS_KEPT) break;
      this.#durable.delete(id);
    }
  }

  /** Publishes at once; `seq` is above every published seq (reservations below it were burnt). */
  #pushNow(a: CriticalAlertCandidate, seq: number): void {
    const change: Change = { seq, type: 'critical_alert', alert: alertView(a) };
    this.#inflight.set(a.id, change);
    this.#early++;
    this.#publish(change);
  }

  /** The next valid reservation, refilling as needed; throws when seqs cannot be reserved. */
  async #nextSeq(): Promise<number> {
    for (;;) {
      const seq = this.#reserved.shift();
      if (seq !== undefined) return seq;
      this.#refillError = undefined;
      await this.#refill(true);
      if (this.#reserved.length === 0 && this.#refillError !== undefined) throw this.#refillError;
    }
  }

  /**
   * Resolves once start-up and any reservation refill in flight are done, or after `maxWaitMs`
   * (the pipeline's per-batch wait: a Postgres that does not answer must not stall ingest).
   */
  async settled(maxWaitMs?: number): Promise<void> {
    const done = (async () => {
      await this.start();
      await this.#refilling;
    })();
    if (maxWaitMs === undefined) return done;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, maxWaitMs)))]);
    } finally {
      clearTimeout(timer);
      done.catch(() => undefined);
    }
  }

  /** Background refills pause for REFILL_BACKOFF_MS after a failure; an alert waiting for a seq forces one. */
  #refill(force = false): Promise<void> {
    if (!this.#ready) return Promise.resolve();
    if (
      !force &&
      this.#refilling === undefined &&
      performance.now() - this.#refillFailedAt < REFILL_BACKOFF_MS
    )
      return Promise.resolve();
    this.#refilling ??= this.#refillNow().finally(() => {
      this.#refilling = undefined;
    });
    return this.#refilling;
  }

  async #refillNow(): Promise<void> {
    try {
      while (this.#reserved.length * 2 < this.#want) {
        const got = await this.#store.reserveChangeSeqs(this.#want - this.#reserved.length);
        // A change published while the query ran may already be past some of them.
        const highest = this.#highest;
        const fresh = got.filter((s) => s > highest);
        this.#burnt += got.length - fresh.length;
        this.#reserved = [...this.#reserved, ...fresh].sort((a, b) => a - b);
        if (fresh.length === 0) break;
      }
    } catch (err) {
      // Not fatal: the reserve on hand still serves; an alert that finds none waits in `raise`
      // (which fails, and the pipeline retries it) until a refill succeeds.
      this.#refillError = err;
      this.#refillFailedAt = performance.now();
      this.#log.warn({ err }, 'change-log seqs not reserved');
    }
  }
}

/**
 * A change-log page (`durable`, seq > afterSeq, at most `limit`) with the pushed-but-not-yet-durable
 * alerts of `pushes` merged in by seq. A full page stops at its last seq; pending alerts past it
 * come with the next page.
 */
export function withPending(
  durable: readonly Change[],
  pushes: readonly Pick<CriticalPush, 'pendingSince'>[],
  afterSeq: number,
  limit: number,
): Change[] {
  const pending: Change[] = [];
  for (const p of pushes) pending.push(...p.pendingSince(afterSeq));
  if (pending.length === 0) return [...durable];
  const last =
    durable.length >= limit ? (durable[durable.length - 1] as Change).seq : Number.POSITIVE_INFINITY;
  const bySeq = new Map<number, Change>();
  for (const c of durable) bySeq.set(c.seq, c);
  for (const c of pending) if (c.seq <= last && !bySeq.has(c.seq)) bySeq.set(c.seq, c);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

/** The ingest pipeline's bypass port over a CriticalPush, with the push exposed (tests, benches). */
export type PushFirstBypass = CriticalBypass<CriticalAlertCandidate> & {
  readonly push: CriticalPush;
  ready(): Promise<void>;
  /**
   * Detaches the bypass from the change hub (its change listener and its place in the SSE replay
   * merge). Call it when its owner is done with it (a partition handed back or stopped, shutdown);
   * idempotent. A closed bypass no longer sees published seqs, so `raise` after close rejects.
   */
  close(): void;
};

export function pushFirstBypass(
  detector: CriticalDetector,
  push: CriticalPush,
  log: Logger,
  /** Run once by `close()`: what attached the bypass to its hub (unsubscribe, replay merge). */
  detach: readonly (() => unknown)[] = [],
): PushFirstBypass {
  push
    .start()
    .catch((err: unknown) => log.warn({ err }, 'critical push not ready; retried on the first alert'));
  let closed = false;
  return {
    push,
    evaluate: (reading) => detector.evaluate(reading),
    raise: (alerts) =>
      closed
        ? Promise.reject(
            new Error('critical bypass is closed: its partition was handed back or the process is stopping'),
          )
        : push.raise(alerts),
    ready: () => push.settled(READY_WAIT_MS).catch(() => undefined),
    close: () => {
      if (closed) return;
      closed = true;
      for (const d of detach) d();
    },
  };
}
