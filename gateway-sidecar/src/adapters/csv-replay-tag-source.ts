/**
 * TagSource that replays a CSV file of sensor history (SKAB `;` format or plain CSV, parsed by
 * domain/csv.ts). Tag path = tagPrefix + column name. Pace 'recorded' waits the recorded gap
 * between rows (divided by `speed`); 'fast' delivers batches as fast as the consumer accepts them.
 *
 * Deterministic: the same file gives the same events in the same batches, and
 * `startAfterTimestampMs` resumes after a checkpoint (rows at or before it are skipped), which the
 * exactly-once restart tests rely on. A line the parser refuses is counted by reason and skipped;
 * a cell that is empty or not a number is counted and produces no event.
 */
import { readFile } from 'node:fs/promises';
import { CsvFormatError, parseSensorCsv, type SensorTable } from '../domain/csv.ts';
import type { TagEvent } from '../domain/tag-event.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Clock, SourceState, TagSource } from '../ports.ts';

export interface CsvReplayOptions {
  /** File to read; or give `text` directly. */
  readonly file?: string;
  readonly text?: string;
  readonly pace: 'recorded' | 'fast';
  readonly tagPrefix: string;
  /** Recorded pace: recorded seconds per real second (default 1). */
  readonly speed?: number;
  /** Skip rows with a timestamp at or before this (resume after a checkpoint). */
  readonly startAfterTimestampMs?: number;
  /** Fast pace: rows per batch (default 100). Recorded pace delivers one row per batch. */
  readonly rowsPerBatch?: number;
  /** Stamps receivedTimestampMs. */
  readonly clock: Clock;
}

export class CsvReplayTagSource implements TagSource {
  readonly name: string;
  readonly #opts: CsvReplayOptions;
  #state: SourceState = 'stopped';
  readonly #listeners: ((state: SourceState, detail?: string) => void)[] = [];
  readonly #rejected: Record<string, number> = {};
  #running = false;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #rowsDelivered = 0;

  constructor(opts: CsvReplayOptions) {
    if (opts.file === undefined && opts.text === undefined)
      throw new Error('csv replay needs a file or text');
    if (opts.speed !== undefined && !(opts.speed > 0))
      throw new Error(`replay speed must be positive, got ${opts.speed}`);
    this.#opts = opts;
    this.name = `replay:${opts.file ?? 'inline'}`;
  }

  state(): SourceState {
    return this.#state;
  }

  onStateChange(listener: (state: SourceState, detail?: string) => void): void {
    this.#listeners.push(listener);
  }

  rejectedCounts(): Readonly<Record<string, number>> {
    return { ...this.#rejected };
  }

  /** Rows delivered so far (after the resume offset). */
  get rowsDelivered(): number {
    return this.#rowsDelivered;
  }

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    if (this.#running) throw new Error('replay source already started');
    this.#setState('connecting');
    let text: string;
    try {
      text = this.#opts.text ?? (await readFile(this.#opts.file as string, 'utf8'));
    } catch (err) {
      this.#setState('stopped', (err as Error).message);
      throw new SidecarError(
        ERRORS.SOURCE_CONNECT,
        `cannot read replay file '${this.#opts.file}': ${(err as Error).message}`,
        { cause: err },
      );
    }
    const table = this.#parse(text);
    this.#running = true;
    this.#setState('connected');
    this.#loop = this.#run(table, onEvents).catch((err: unknown) => {
      this.#running = false;
      this.#setState('stopped', `consumer failed: ${(err as Error).message}`);
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    if (this.#state !== 'finished') this.#setState('stopped');
  }

  /** Parses the whole file; on a structural error, parses line by line so one bad line costs only itself. */
  #parse(text: string): SensorTable {
    try {
      return parseSensorCsv(text);
    } catch (err) {
      if (!(err instanceof CsvFormatError)) throw err;
      const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
      const header = lines[0] ?? '';
      // A header problem is fatal: no line can be read without it.
      const empty = (() => {
        try {
          return parseSensorCsv(header);
        } catch (headerErr) {
          this.#setState('stopped', (headerErr as Error).message);
          throw new SidecarError(
            ERRORS.SOURCE_PARSE,
            `replay file '${this.#opts.file ?? 'inline'}': ${(headerErr as Error).message}`,
            { cause: headerErr },
          );
        }
      })();
      const timestampsMs: number[] = [];
      const rows: (readonly number[])[] = [];
      for (const line of lines.slice(1)) {
        try {
          const one = parseSensorCsv(`${header}\n${line}`);
          timestampsMs.push(...one.timestampsMs);
          rows.push(...one.rows);
        } catch (lineErr) {
          const reason = /cells/.test((lineErr as Error).message)
            ? 'csv_wrong_cell_count'
            : 'csv_bad_timestamp';
          this.#count(reason);
        }
      }
      return { columns: empty.columns, timestampsMs, rows, labels: undefined };
    }
  }

  async #run(
    table: SensorTable,
    onEvents: (batch: readonly TagEvent[]) => Promise<void> | void,
  ): Promise<void> {
    const tags = table.columns.map((c) => this.#opts.tagPrefix + c);
    const after = this.#opts.startAfterTimestampMs ?? Number.NEGATIVE_INFINITY;
    const perBatch = this.#opts.pace === 'fast' ? Math.max(1, this.#opts.rowsPerBatch ?? 100) : 1;
    let i = table.timestampsMs.findIndex((ts) => ts > after);
    if (i < 0) i = table.timestampsMs.length;
    let prevTs: number | undefined;
    while (this.#running && i < table.rows.length) {
      const batch: TagEvent[] = [];
      const received = this.#opts.clock.now();
      const end = Math.min(table.rows.length, i + perBatch);
      const firstTs = table.timestampsMs[i] as number;
      if (this.#opts.pace === 'recorded' && prevTs !== undefined) {
        await this.#sleep(Math.max(0, (firstTs - prevTs) / (this.#opts.speed ?? 1)));
        if (!this.#running) break;
      }
      for (; i < end; i++) {
        const ts = table.timestampsMs[i] as number;
        const row = table.rows[i] as readonly number[];
        for (let j = 0; j < tags.length; j++) {
          const v = row[j] as number;
          if (Number.isNaN(v)) this.#count('csv_cell_not_numeric');
          else
            batch.push({
              tagPath: tags[j] as string,
              value: v,
              quality: 'good',
              sourceTimestampMs: ts,
              receivedTimestampMs: received,
            });
        }
        prevTs = ts;
        this.#rowsDelivered++;
      }
      if (batch.length > 0) await onEvents(batch);
      if (this.#opts.pace === 'fast') await new Promise<void>((r) => setImmediate(r));
    }
    if (i >= table.rows.length) {
      this.#running = false;
      this.#setState('finished');
    }
  }

  #count(reason: string): void {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }

  #setState(state: SourceState, detail?: string): void {
    this.#state = state;
    for (const l of this.#listeners) l(state, detail);
  }
}
