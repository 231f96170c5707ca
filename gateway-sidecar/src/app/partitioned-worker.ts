/**
 * One scale-out instance (docs/scale-out.md): it holds leases on a share of the P partitions and,
 * per owned partition, runs the ingest stages on that partition's events in stream order:
 * validate → critical bypass → features + ensemble → bronze/silver → recommendations → ack →
 * checkpoint (the stream sequence whose effects all committed).
 *
 * Taking a partition over (first start, or its owner died and its lease expired): a fresh detector
 * is built and the partition's messages up to the checkpoint are scored again and thrown away, so
 * the rolling windows and alarm gates equal those of an uninterrupted run; then the durable
 * consumer is reopened right after the checkpoint. Messages the dead owner processed after its last
 * checkpoint are processed again, with the same scores: bronze/silver rows are keyed by event id,
 * recommendations record their anomalous event ids and upsert by dedup key, alerts are keyed by
 * alert id, so the repeat changes nothing (exactly once in the Lakebase tables).
 *
 * Balancing: every instance heartbeats a member key; an instance takes free partitions while it
 * owns fewer than ceil(P / members) and hands back its highest partition (after the batch in
 * flight) while it owns more, so a newcomer gets work and a dead instance's share moves.
 */
import type { ScoredReading } from '../domain/detection.ts';
import type { EventValidator, SensorReading, TagEvent } from '../domain/tag-event.ts';
import type { Logger } from '../log.ts';
import type { BatchDetector, CriticalBypass, IngestSink, RecommendationIntake } from './ingest.ts';

export interface SequencedEvent {
  readonly seq: number;
  readonly event: TagEvent;
}

/** The partitioned log (JetStream stream + one durable consumer per partition). */
export interface PartitionFeed {
  /** Delivers the partition's retained messages with seq <= upto, in order. */
  replay(partition: number, upto: number, onBatch: (events: readonly SequencedEvent[]) => Promise<void>): Promise<void>;
  /** (Re)creates the partition's durable consumer to deliver from afterSeq + 1. */
  open(partition: number, afterSeq: number): Promise<void>;
  /**
   * Up to `max` next messages (waits at most waitMs); `ack` acknowledges all of them. `reopen`: the
   * delivery had a hole; commit what came and reopen the consumer after the checkpoint.
   */
  next(partition: number, max: number, waitMs: number): Promise<{ events: SequencedEvent[]; ack: () => void; reopen: boolean }>;
}

export interface PartitionLeases {
  tryAcquire(partition: number, owner: string): Promise<boolean>;
  /** False when the lease was lost (expired and taken, or deleted). */
  renew(partition: number, owner: string): Promise<boolean>;
  release(partition: number, owner: string): Promise<void>;
  heartbeat(owner: string): Promise<void>;
  members(): Promise<number>;
  leave(owner: string): Promise<void>;
}

export interface PartitionCheckpoints {
  load(partition: number): Promise<number | undefined>;
  save(partition: number, seq: number): Promise<void>;
}

export interface WorkerDeps {
  readonly instanceId: string;
  readonly partitions: number;
  readonly feed: PartitionFeed;
  readonly leases: PartitionLeases;
  readonly checkpoints: PartitionCheckpoints;
  /** A fresh validator (its per-tag order state) per partition ownership. */
  readonly newValidator: () => EventValidator;
  /** A fresh detector (own feature windows) per partition ownership. */
  readonly newDetector: () => BatchDetector;
  /** A fresh critical bypass (own latch state) per partition ownership. */
  readonly newCritical: () => CriticalBypass;
  readonly sink: IngestSink;
  readonly recommendations: RecommendationIntake;
  readonly logger: Logger;
  readonly batchSize: number;
  readonly fetchWaitMs: number;
  readonly leaseRenewMs: number;
  /** Called after each committed batch: (partition, events processed, rejected). */
  readonly onCommitted?: (partition: number, processed: number, rejected: number) => void;
}

/** Stable partition of an equipment id: FNV-1a 32-bit mod P (the same in every process and version). */
export function partitionOf(equipmentId: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < equipmentId.length; i++) {
    h ^= equipmentId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/**
 * The detector decides per chunk whether an equipment is learning (its alarm gate is read before
 * the chunk is scored), so two readings of one equipment in one chunk score differently than in two
 * chunks. Fetch sizes depend on timing, so chunks here hold at most one reading per equipment: the
 * scores are then those of reading-by-reading scoring whatever the fetch, which a partition moved
 * to another instance needs to continue exactly.
 */
async function scoreIndependentOfBatching(detector: BatchDetector, readings: readonly SensorReading[]): Promise<ScoredReading[]> {
  const out: ScoredReading[] = [];
  let chunk: SensorReading[] = [];
  let seen = new Set<string>();
  for (const r of readings) {
    if (seen.has(r.tag.equipmentId)) {
      out.push(...(await detector.score(chunk)));
      chunk = [];
      seen = new Set<string>();
    }
    chunk.push(r);
    seen.add(r.tag.equipmentId);
  }
  if (chunk.length > 0) out.push(...(await detector.score(chunk)));
  return out;
}

interface Owned {
  readonly partition: number;
  stop: boolean;
  done: Promise<void>;
}

export class PartitionedWorker {
  readonly #d: WorkerDeps;
  readonly #log: Logger;
  readonly #owned = new Map<number, Owned>();
  /** Partitions whose loop was told to stop but may still be finishing a batch. */
  readonly #stopping = new Map<number, Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #round: Promise<void> = Promise.resolve();

  constructor(deps: WorkerDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'partitioned-worker', instance: deps.instanceId });
  }

  owned(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    this.#running = true;
    await this.#d.leases.heartbeat(this.#d.instanceId);
    this.#schedule(0);
  }

  /** Finishes the batches in flight, hands every lease back and leaves. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#round;
    await Promise.all(this.#stopping.values());
    for (const o of this.#owned.values()) o.stop = true;
    await Promise.all([...this.#owned.values()].map((o) => o.done));
    for (const p of [...this.#owned.keys()]) await this.#d.leases.release(p, this.#d.instanceId);
    this.#owned.clear();
    await this.#d.leases.leave(this.#d.instanceId);
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#round = this.#balance().catch((err: unknown) => this.#log.warn({ err }, 'lease round failed'));
      void this.#round.then(() => {
        if (this.#running) this.#schedule(this.#d.leaseRenewMs);
      });
    }, delay);
  }

  async #balance(): Promise<void> {
    const { leases, instanceId, partitions } = this.#d;
    await leases.heartbeat(instanceId);
    for (const [p, o] of this.#owned) {
      if (!(await leases.renew(p, instanceId))) {
        this.#log.warn({ partition: p }, 'lease lost; stopping partition');
        o.stop = true;
        this.#owned.delete(p);
        // Not taken again until the old loop ended: two loops on one partition would race.
        this.#stopping.set(p, o.done);
        void o.done.then(() => this.#stopping.delete(p));
      }
    }
    const share = Math.ceil(partitions / Math.max(1, await leases.members()));
    while (this.#owned.size > share) {
      const p = Math.max(...this.#owned.keys());
      const o = this.#owned.get(p) as Owned;
      o.stop = true;
      this.#owned.delete(p);
      // Released once its batch in flight committed; renewals of the others must not wait for it.
      const handedBack = o.done.then(async () => {
        await leases.release(p, instanceId);
        this.#stopping.delete(p);
        this.#log.info({ partition: p, share }, 'partition handed back');
      });
      this.#stopping.set(p, handedBack);
    }
    for (let p = 0; p < partitions && this.#owned.size < share && this.#running; p++) {
      if (this.#owned.has(p) || this.#stopping.has(p) || !(await leases.tryAcquire(p, instanceId))) continue;
      const o: Owned = { partition: p, stop: false, done: Promise.resolve() };
      o.done = this.#run(o).catch((err: unknown) => {
        this.#log.error({ err, partition: p }, 'partition loop failed; handing it back');
        if (this.#owned.get(p) === o) {
          this.#owned.delete(p);
          void leases.release(p, instanceId);
        }
      });
      this.#owned.set(p, o);
      this.#log.info({ partition: p }, 'partition acquired');
    }
  }

  async #run(o: Owned): Promise<void> {
    const { feed, checkpoints } = this.#d;
    const p = o.partition;
    const detector = this.#d.newDetector();
    const critical = this.#d.newCritical();
    const validator = this.#d.newValidator();
    let cp = (await checkpoints.load(p)) ?? 0;
    // Rebuild the windows and latches exactly as they were at the checkpoint.
    await feed.replay(p, cp, async (batch) => {
      const readings = this.#accepted(validator, batch.map((b) => b.event)).sensors;
      for (const r of readings) critical.evaluate(r);
      if (readings.length > 0) await scoreIndependentOfBatching(detector, readings);
    });
    await feed.open(p, cp);
    while (!o.stop) {
      const { events, ack, reopen } = await feed.next(p, this.#d.batchSize, this.#d.fetchWaitMs);
      const fresh = events.filter((e) => e.seq > cp);
      if (fresh.length === 0) {
        if (events.length > 0) ack();
        if (reopen) await feed.open(p, cp);
        continue;
      }
      const { sensors, rejected } = this.#accepted(validator, fresh.map((e) => e.event));
      const alerts: unknown[] = [];
      for (const r of sensors) alerts.push(...critical.evaluate(r));
      const scored: readonly ScoredReading[] = sensors.length > 0 ? await scoreIndependentOfBatching(detector, sensors) : [];
      if (sensors.length > 0) await this.#d.sink.write(sensors, scored);
      if (scored.length > 0) await this.#d.recommendations.onScored(scored);
      if (alerts.length > 0) await critical.raise(alerts);
      ack();
      cp = (fresh[fresh.length - 1] as SequencedEvent).seq;
      await checkpoints.save(p, cp);
      this.#d.onCommitted?.(p, fresh.length, rejected);
      if (reopen) {
        this.#log.warn({ partition: p, checkpoint: cp }, 'hole in the delivery; consumer reopened after the checkpoint');
        await feed.open(p, cp);
      }
    }
  }

  #accepted(validator: EventValidator, events: readonly TagEvent[]): { sensors: SensorReading[]; rejected: number } {
    const sensors: SensorReading[] = [];
    let rejected = 0;
    for (const e of events) {
      const v = validator.validate(e);
      if (!v.ok) rejected++;
      else if (v.event.kind === 'sensor') sensors.push(v.event);
    }
    return { sensors, rejected };
  }
}
