/**
 * TagSource over inserts into `mining_operations.sensor_data` (the seed's `INSERT INTO
 * sensor_data ...` path), without polling: migration 060's AFTER INSERT trigger sends the row id
 * with NOTIFY on channel `sensor_data_cdc` (delivered at commit), and this source LISTENs on its own
 * connection. A notification only wakes the reader; what is read is always "every row after the
 * durable offset" (`agentic_hmi.cdc_offsets.last_id` for this consumer), so a missed notification,
 * a restart or a reconnect loses nothing: on start and after every reconnect the source reads from
 * the offset, then follows notifications. While nothing is inserted it issues no query at all
 * (`queryCount()` lets tests prove it).
 *
 * The offset moves after the consumer finished a batch (backpressure + resume), in order of id.
 * Ids of concurrent transactions can commit out of order (id 11 visible before 10); a hole in the
 * ids therefore stops the read at the hole, and only after `gapGraceMs` is the hole skipped
 * (counted as `id_gap_skipped`: a rolled-back insert leaves a permanent hole). That check is one
 * timer per observed hole, not a loop.
 *
 * Rows map to tags by `tag_path` when it is a mapped tag, else by equipment_id + sensor_type
 * through the equipment map. Rows with a non-finite value or no mapped tag are counted by reason
 * (`nan`, `infinite`, `unknown_tag`) and skipped; the offset still moves past them.
 */
import pg from 'pg';
import type { EquipmentIndex } from '../domain/equipment.ts';
import type { TagEvent } from '../domain/tag-event.ts';
import type { Clock, SourceState, TagSource } from '../ports.ts';

export const CDC_CHANNEL = 'sensor_data_cdc';

export interface PgCdcTagSourceOptions {
  readonly url: string;
  readonly equipment: EquipmentIndex;
  /** Offset row name in agentic_hmi.cdc_offsets (one per consuming sidecar). */
  readonly consumer: string;
  /** Rows per delivered batch. */
  readonly maxBatch: number;
  /** How long a hole in the ids may stay open before it is skipped. */
  readonly gapGraceMs: number;
  /** Reconnect delay, first and largest. */
  readonly reconnectMs: { readonly first: number; readonly max: number };
  readonly clock: Clock;
}

interface Row {
  id: string;
  equipment_id: string;
  sensor_type: string;
  sensor_value: number;
  tag_path: string | null;
  ts_ms: string;
}

export class PgCdcTagSource implements TagSource {
  readonly name: string;
  readonly #o: PgCdcTagSourceOptions;
  readonly #byEquipmentSensor = new Map<string, string>();
  readonly #listeners: ((state: SourceState, detail?: string) => void)[] = [];
  readonly #rejected: Record<string, number> = {};
  #state: SourceState = 'stopped';
  #client: pg.Client | undefined;
  #onEvents: ((batch: readonly TagEvent[]) => Promise<void> | void) | undefined;
  #offset = 0n;
  #queries = 0;
  #wake = false;
  #draining: Promise<void> | undefined;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #gapSince: { id: bigint; atMs: number } | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #reconnectDelay: number;
  #stopped = true;

  constructor(options: PgCdcTagSourceOptions) {
    this.#o = options;
    this.name = `cdc:${options.consumer}`;
    this.#reconnectDelay = options.reconnectMs.first;
    for (const s of options.equipment.sensorsByTag.values()) {
      this.#byEquipmentSensor.set(`${s.equipmentId}\u0000${s.sensorType}`, s.tagPath);
    }
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
  /** Statements this source sent (LISTEN, offset reads and writes, row reads). Idle = constant. */
  queryCount(): number {
    return this.#queries;
  }
  /** Last id whose row was handled (or skipped) and saved. */
  offset(): bigint {
    return this.#offset;
  }

  async start(onEvents: (batch: readonly TagEvent[]) => Promise<void> | void): Promise<void> {
    this.#onEvents = onEvents;
    this.#stopped = false;
    this.#setState('connecting');
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#gapTimer !== undefined) clearTimeout(this.#gapTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    await this.#draining;
    const c = this.#client;
    this.#client = undefined;
    if (c !== undefined) await c.end().catch(() => undefined);
    this.#setState('stopped');
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#o.url, application_name: `aimon-${this.name}` });
    client.on('error', (err) => this.#lost(client, err.message));
    client.on('end', () => this.#lost(client, 'connection ended'));
    client.on('notification', (n) => {
      if (n.channel === CDC_CHANNEL) this.#kick();
    });
    await client.connect();
    this.#client = client;
    await this.#q(`LISTEN ${CDC_CHANNEL}`);
    await this.#q(
      `INSERT INTO agentic_hmi.cdc_offsets (consumer, last_id) VALUES ($1, 0) ON CONFLICT (consumer) DO NOTHING`,
      [this.#o.consumer],
    );
    const { rows } = await this.#q<{ last_id: string }>(
      'SELECT last_id::text FROM agentic_hmi.cdc_offsets WHERE consumer = $1',
      [this.#o.consumer],
    );
    this.#offset = BigInt(rows[0]?.last_id ?? '0');
    this.#reconnectDelay = this.#o.reconnectMs.first;
    this.#setState('connected');
    // Listening before reading: a row committed between the read and LISTEN cannot be missed.
    this.#kick();
  }

  #lost(client: pg.Client, detail: string): void {
    if (this.#stopped || client !== this.#client) return;
    this.#client = undefined;
    this.#setState('reconnecting', detail);
    const retry = (): void => {
      this.#reconnectTimer = undefined;
      if (this.#stopped) return;
      this.#connect().catch((err: unknown) => {
        this.#client = undefined;
        this.#setState('reconnecting', (err as Error).message);
        this.#reconnectDelay = Math.min(this.#o.reconnectMs.max, this.#reconnectDelay * 2);
        this.#reconnectTimer = setTimeout(retry, this.#reconnectDelay);
      });
    };
    this.#reconnectTimer = setTimeout(retry, this.#reconnectDelay);
  }

  #kick(): void {
    this.#wake = true;
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  /** Reads and delivers until a read finds nothing new; one drain at a time. */
  async #drain(): Promise<void> {
    try {
      while (this.#wake && !this.#stopped && this.#client !== undefined) {
        this.#wake = false;
        let more = true;
        while (more && !this.#stopped && this.#client !== undefined) more = await this.#readOnce();
      }
    } catch (err) {
      // The connection broke mid-read; 'error'/'end' schedules the reconnect, which re-reads.
      if (!this.#stopped) this.#setState('reconnecting', (err as Error).message);
    }
  }

  /** One batch after the offset; true when a full batch was read (there may be more). */
  async #readOnce(): Promise<boolean> {
    const { rows } = await this.#q<Row>(
      // ORDER BY names the table column: the text alias `id` would sort '10' before '2'.
      `SELECT d.id::text AS id, equipment_id, sensor_type, sensor_value, tag_path,
              (extract(epoch FROM timestamp) * 1000)::bigint::text AS ts_ms
         FROM mining_operations.sensor_data d WHERE d.id > $1::bigint ORDER BY d.id LIMIT $2`,
      [this.#offset.toString(), this.#o.maxBatch],
    );
    const take: Row[] = [];
    let expect = this.#offset + 1n;
    for (const r of rows) {
      const id = BigInt(r.id);
      if (id !== expect && !this.#gapExpired(expect)) break;
      take.push(r);
      if (id !== expect) this.#count('id_gap_skipped');
      expect = id + 1n;
    }
    if (take.length < rows.length) this.#armGapTimer();
    if (take.length === 0) return false;
    this.#gapSince = undefined;
    const now = this.#o.clock.now();
    const events: TagEvent[] = [];
    for (const r of take) {
      const ev = this.#toEvent(r, now);
      if (ev !== undefined) events.push(ev);
    }
    if (events.length > 0 && this.#onEvents !== undefined) await this.#onEvents(events);
    const last = BigInt((take[take.length - 1] as Row).id);
    await this.#q(
      'UPDATE agentic_hmi.cdc_offsets SET last_id = $2, updated_at = now() WHERE consumer = $1 AND last_id < $2',
      [this.#o.consumer, last.toString()],
    );
    this.#offset = last;
    return take.length === rows.length && rows.length === this.#o.maxBatch;
  }

  #gapExpired(missing: bigint): boolean {
    const now = this.#o.clock.now();
    if (this.#gapSince === undefined || this.#gapSince.id !== missing) {
      this.#gapSince = { id: missing, atMs: now };
      return false;
    }
    return now - this.#gapSince.atMs >= this.#o.gapGraceMs;
  }

  #armGapTimer(): void {
    if (this.#gapTimer !== undefined || this.#stopped) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = undefined;
      this.#kick();
    }, this.#o.gapGraceMs);
  }

  #toEvent(r: Row, receivedMs: number): TagEvent | undefined {
    const mapped =
      r.tag_path !== null && this.#o.equipment.sensorsByTag.has(r.tag_path)
        ? r.tag_path
        : this.#byEquipmentSensor.get(`${r.equipment_id}\u0000${r.sensor_type}`);
    if (mapped === undefined) return this.#count('unknown_tag');
    const v = Number(r.sensor_value);
    if (Number.isNaN(v)) return this.#count('nan');
    if (!Number.isFinite(v)) return this.#count('infinite');
    return {
      tagPath: mapped,
      value: v,
      quality: 'good',
      sourceTimestampMs: Number(r.ts_ms),
      receivedTimestampMs: receivedMs,
    };
  }

  #count(reason: string): undefined {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
    return undefined;
  }

  async #q<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    const c = this.#client;
    if (c === undefined) throw new Error('CDC source: not connected');
    this.#queries++;
    return c.query<R>(text, values);
  }

  #setState(state: SourceState, detail?: string): void {
    if (state === this.#state && detail === undefined) return;
    this.#state = state;
    for (const l of this.#listeners) l(state, detail);
  }
}
