/**
 * Collects bronze and silver rows from the hot path and hands them to the ResilientSink in
 * batches: a batch leaves when it reaches `batchRows` or when the oldest row has waited
 * `flushIntervalMs`, whichever comes first. Critical alerts never wait: each goes out at once.
 *
 * Kinds written through the sink (see `registerEventKinds`):
 *   'bronze'         BronzeRow[]        droppable when the spool is full
 *   'silver'         SilverRow[]        only rows with is_anomaly = false are droppable
 *   'critical_alert' CriticalAlertRow[] never dropped
 */
import type { Config } from '../config.ts';
import type { ScoredReading } from '../domain/detection.ts';
import type { SensorReading } from '../domain/tag-event.ts';
import {
  bronzeRowOf,
  silverRowOf,
  type CriticalAlertRow,
  type BronzeRow,
  type PgEventWriter,
  type SilverRow,
} from './pg-event-sink.ts';
import type { ResilientSink, SubmitOutcome } from './resilient-sink.ts';

export const EVENT_KINDS = { bronze: 'bronze', silver: 'silver', criticalAlert: 'critical_alert' } as const;

/** Registers the three event kinds on `sink`, writing through `writer`. */
export function registerEventKinds(sink: ResilientSink, writer: PgEventWriter): void {
  sink.register<BronzeRow[]>(EVENT_KINDS.bronze, {
    write: async (rows) => void (await writer.writeBronze(rows)),
    shrink: (rows) => ({ keep: undefined, droppedRows: rows.length }),
  });
  sink.register<SilverRow[]>(EVENT_KINDS.silver, {
    write: async (rows) => void (await writer.writeSilver(rows)),
    shrink: (rows) => {
      const anomalies = rows.filter((r) => r.isAnomaly);
      return {
        keep: anomalies.length > 0 ? anomalies : undefined,
        droppedRows: rows.length - anomalies.length,
      };
    },
  });
  sink.register<CriticalAlertRow[]>(EVENT_KINDS.criticalAlert, {
    write: async (rows) => void (await writer.writeAlerts(rows)),
  });
}

/** Batch size and wait from `database.batchRows` / `database.flushIntervalMs`. */
export function eventBatcherOptionsFrom(config: Pick<Config, 'database'>): EventBatcherOptions {
  return { batchRows: config.database.batchRows, flushIntervalMs: config.database.flushIntervalMs };
}

export interface EventBatcherOptions {
  /** Rows per batch (default 500). */
  readonly batchRows?: number;
  /** Longest a row waits before its batch is sent, ms (default 250). */
  readonly flushIntervalMs?: number;
}

export interface EventBatcherStats {
  readonly bufferedRows: number;
  readonly batchesSent: number;
  readonly rowsSent: number;
  readonly alertsSent: number;
}

/** Buffers event rows and flushes them through a ResilientSink on size or time. */
export class EventBatcher {
  readonly #sink: ResilientSink;
  readonly #batchRows: number;
  readonly #flushIntervalMs: number;
  #bronze: BronzeRow[] = [];
  #silver: SilverRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #batches = 0;
  #rows = 0;
  #alerts = 0;

  constructor(sink: ResilientSink, options: EventBatcherOptions = {}) {
    this.#sink = sink;
    this.#batchRows = options.batchRows ?? 500;
    this.#flushIntervalMs = options.flushIntervalMs ?? 250;
  }

  /**
   * Buffers rows. When a buffer reaches `batchRows` the returned promise settles once that batch
   * is written or spooled: await it to apply backpressure to the source.
   */
  add(bronze: readonly BronzeRow[], silver: readonly SilverRow[] = []): Promise<void> {
    for (const r of bronze) this.#bronze.push(r);
    for (const r of silver) this.#silver.push(r);
    if (this.#bronze.length >= this.#batchRows || this.#silver.length >= this.#batchRows) return this.flush();
    if (!this.#timer && (this.#bronze.length > 0 || this.#silver.length > 0)) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        // Errors surface through the sink's stats and logs; a timer has nobody to throw to.
        this.flush().catch(() => undefined);
      }, this.#flushIntervalMs);
    }
    return Promise.resolve();
  }

  /**
   * The ingest pipeline's sink: one batch's readings as bronze and silver rows, written or fsync'd
   * to the spool before it returns, so the batch's checkpoint can move after it.
   */
  async writeReadings(bronze: readonly SensorReading[], silver: readonly ScoredReading[]): Promise<void> {
    await this.add(
      bronze.map((r) => bronzeRowOf(r)),
      silver.map((x) => silverRowOf(x)),
    );
    await this.flush();
  }

  /** Sends the alert now (not batched): the critical path must not wait for a timer. */
  async writeAlert(alert: CriticalAlertRow): Promise<SubmitOutcome> {
    this.#alerts++;
    return this.#sink.submit(EVENT_KINDS.criticalAlert, [alert]);
  }

  /** Sends everything buffered, bronze first, in batches of at most `batchRows`. */
  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const bronze = this.#bronze;
    const silver = this.#silver;
    this.#bronze = [];
    this.#silver = [];
    const sends: Promise<SubmitOutcome>[] = [];
    for (let i = 0; i < bronze.length; i += this.#batchRows) {
      sends.push(this.#send(EVENT_KINDS.bronze, bronze.slice(i, i + this.#batchRows)));
    }
    for (let i = 0; i < silver.length; i += this.#batchRows) {
      sends.push(this.#send(EVENT_KINDS.silver, silver.slice(i, i + this.#batchRows)));
    }
    await Promise.all(sends);
  }

  #send(kind: string, rows: readonly unknown[]): Promise<SubmitOutcome> {
    this.#batches++;
    this.#rows += rows.length;
    return this.#sink.submit(kind, rows);
  }

  stats(): EventBatcherStats {
    return {
      bufferedRows: this.#bronze.length + this.#silver.length,
      batchesSent: this.#batches,
      rowsSent: this.#rows,
      alertsSent: this.#alerts,
    };
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    await this.flush();
  }
}
