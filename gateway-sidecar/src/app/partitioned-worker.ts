/**
 * One scale-out instance (docs/scale-out.md): it holds leases on a share of the P partitions and,
 * per owned partition, runs the ingest stages on that partition's events in stream order:
 * validate → critical bypass → features + ensemble → bronze/silver → recommendations → ack →
 * checkpoint. A checkpoint is the stream sequence whose effects all committed together with the
 * partition state right after it (feature windows, alarm gates, validator order, critical latches),
 * saved atomically (PgPartitionCheckpoints) at most every `checkpointEveryMs`, when the partition
 * goes idle, and when it is handed back: a full base, then deltas of what changed
 * (checkpoint-chain.ts; `checkpointFullEvery`, `checkpointChainMaxRatio`).
 *
 * Taking a partition over (first start, or its owner died and its lease expired): the state is
 * restored from the checkpoint snapshot; the stream after the checkpoint is checked for missing
 * sequences (a delivery hole: deleted, purged or aged out before processing — counted, logged with
 * partition and range, recorded in agentic_hmi.scale_delivery_holes, never silent); then the
 * durable consumer is reopened right after the checkpoint. The same check runs while the partition
 * is owned, after each checkpoint and before an idle partition moves its checkpoint forward (a
 * lagging owner can lose messages to max_age / limits too). Messages the dead owner processed after
 * its last checkpoint are processed again, with the same scores: bronze/silver rows are keyed by
 * event id, recommendations record their anomalous event ids and upsert by dedup key, alerts are
 * keyed by alert id, so the repeat changes nothing (exactly once in the Lakebase tables). A
 * snapshot that cannot be restored (other format version, other feature options) is reported and
 * the state is rebuilt by re-scoring the partition's retained messages up to the checkpoint.
 *
 * Balancing: every instance heartbeats a member key; an instance takes free partitions while it
 * owns fewer than ceil(P / members) and hands back its highest partition (after the batch in
 * flight) while it owns more, so a newcomer gets work and a dead instance's share moves.
 */
import type { ScoredReading } from '../domain/detection.ts';
import type { EventValidator, SensorReading, TagEvent } from '../domain/tag-event.ts';
import { decodePartitionState, encodePartitionState } from './partition-state.ts';
import { checkChainOptions, DEFAULT_CHAIN, PartitionCheckpointer } from './checkpoint-chain.ts';
import type { PartitionCheckpointChains } from '../checkpoint-chain-ports.ts';
import { AggregateOnlyState, type MinuteAggregate } from '../domain/minute-aggregates.ts';
import type {
  PartitionCheckpoints,
  PartitionFeed,
  PartitionLeases,
  SeqRange,
  SequencedEvent,
} from '../scale-ports.ts';
import type { Logger } from '../log.ts';
import type { BatchDetector, CriticalBypass, IngestSink, RecommendationIntake } from './ingest.ts';

export type {
  PartitionCheckpoint,
  PartitionCheckpoints,
  PartitionFeed,
  PartitionLeases,
  SeqRange,
  SequencedEvent,
} from '../scale-ports.ts';

/** A detector whose windows and gates can be checkpointed (app/detector.ts). */
export interface SnapshotDetector extends BatchDetector {
  snapshotState(): Promise<Uint8Array>;
  restoreState(bytes: Uint8Array): Promise<void>;
}

/** The critical bypass of one partition and its latch state. */
export interface PartitionCritical {
  readonly bypass: CriticalBypass;
  readonly latches: { latchedTags(): string[]; restoreLatched(tags: readonly string[]): void };
  /**
   * Releases what the bypass holds outside the partition (its change listener): called once the
   * partition's loop ended (handed back, lease lost, failed, worker stopped) and for parts a
   * takeover discarded.
   */
  close(): void;
}

export interface WorkerDeps {
  readonly instanceId: string;
  readonly partitions: number;
  readonly feed: PartitionFeed;
  readonly leases: PartitionLeases;
  /** With PartitionCheckpointChains (loadChain, saveDelta, rebase) checkpoints are incremental. */
  readonly checkpoints: PartitionCheckpoints | PartitionCheckpointChains;
  /** A fresh validator (its per-tag order state) per partition ownership. */
  readonly newValidator: () => EventValidator;
  /** A fresh detector (own feature windows) per partition ownership. */
  readonly newDetector: () => SnapshotDetector;
  /** A fresh critical bypass (own latch state) per partition ownership; closed when the ownership ends. */
  readonly newCritical: () => PartitionCritical;
  readonly sink: IngestSink;
  /**
   * Aggregate-only write mode (`scale.writeMode: aggregates`): instead of `sink`, each batch writes
   * the 1-minute aggregates it touched and the silver rows of anomalies and their context.
   */
  readonly aggregateOnly?: {
    readonly contextMs: number;
    write(minutes: readonly MinuteAggregate[], silver: readonly ScoredReading[]): Promise<void>;
  };
  readonly recommendations: RecommendationIntake;
  readonly logger: Logger;
  readonly batchSize: number;
  readonly fetchWaitMs: number;
  readonly leaseRenewMs: number;
  /** Longest time between checkpoints of a busy partition, ms (0: after every batch). */
  readonly checkpointEveryMs: number;
  /** Checkpoints per full base snapshot, the rest are deltas (config `scale.checkpointFullEvery`, default 24; 1: all full). */
  readonly checkpointFullEvery?: number;
  /** A new base once the delta chain's bytes would exceed this share of the base (`scale.checkpointChainMaxRatio`, default 1). */
  readonly checkpointChainMaxRatio?: number;
  /** Clock for the checkpoint interval (default Date.now). */
  readonly now?: () => number;
  /** Called after each committed batch: (partition, events processed, rejected). */
  readonly onCommitted?: (partition: number, processed: number, rejected: number) => void;
  /**
   * Called after each checkpoint with the bytes written: a full base or a delta ('stale': a delta
   * the store refused because another owner moved the checkpoint; nothing written).
   */
  readonly onCheckpoint?: (
    partition: number,
    seq: number,
    stateBytes: number,
    kind: 'base' | 'delta' | 'stale',
  ) => void;
  /**
   * Called when a stored delta could not be applied at a takeover: the state of the chain's last
   * good checkpoint (`resumedAt`) was restored and the stream is re-processed from there.
   */
  readonly onDeltaRejected?: (partition: number, err: Error, resumedAt: number) => void;
  /** Called for each delivery hole found when taking a partition over. */
  readonly onHole?: (partition: number, hole: SeqRange) => void;
  /** Called when a partition's state was restored from its checkpoint snapshot. */
  readonly onRestored?: (partition: number, seq: number, stateBytes: number) => void;
  /**
   * Called when a checkpoint snapshot could not be restored (the state was rebuilt from the stream),
   * and when a delta of it could not be applied (the stream is re-processed from the last good one).
   */
  readonly onRestoreFailed?: (partition: number, err: Error) => void;
}

interface PartitionParts {
  readonly checkpointer: PartitionCheckpointer;
  readonly validator: EventValidator;
  readonly detector: SnapshotDetector;
  readonly critical: PartitionCritical;
  readonly aggregates: AggregateOnlyState | undefined;
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
async function scoreIndependentOfBatching(
  detector: BatchDetector,
  readings: readonly SensorReading[],
): Promise<ScoredReading[]> {
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
    checkChainOptions({
      fullEvery: deps.checkpointFullEvery ?? DEFAULT_CHAIN.fullEvery,
      maxChainRatio: deps.checkpointChainMaxRatio ?? DEFAULT_CHAIN.maxChainRatio,
    });
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

  #fresh(checkpointer: PartitionCheckpointer): PartitionParts {
    const agg = this.#d.aggregateOnly;
    return {
      checkpointer,
      validator: this.#d.newValidator(),
      detector: this.#d.newDetector(),
      critical: this.#d.newCritical(),
      aggregates: agg === undefined ? undefined : new AggregateOnlyState(agg.contextMs),
    };
  }

  /** The partition state at its checkpoint: restored from the snapshot, or rebuilt from the stream. */
  async #takeOver(p: number): Promise<{ parts: PartitionParts; cp: number }> {
    const d = this.#d;
    const checkpointer = new PartitionCheckpointer(d.checkpoints, p, {
      fullEvery: d.checkpointFullEvery ?? DEFAULT_CHAIN.fullEvery,
      maxChainRatio: d.checkpointChainMaxRatio ?? DEFAULT_CHAIN.maxChainRatio,
    });
    const ck = await checkpointer.load();
    if (ck === undefined) return { parts: this.#fresh(checkpointer), cp: 0 };
    if ((ck.ignoredDeltas ?? 0) > 0) {
      this.#log.warn(
        { partition: p, checkpoint: ck.seq, ignoredDeltas: ck.ignoredDeltas },
        'checkpoint row was overwritten by a build without incremental checkpoints; its full state is used and the stale deltas are ignored',
      );
    }
    if (ck.rejected !== undefined) {
      this.#log.error(
        {
          err: ck.rejected.err,
          partition: p,
          checkpoint: ck.rejected.chainSeq,
          resumedAt: ck.seq,
          rebased: ck.rejected.rebased,
        },
        'checkpoint delta cannot be applied; restoring the last good checkpoint of the chain and re-processing the stream from there',
      );
      d.onDeltaRejected?.(p, ck.rejected.err, ck.seq);
      // Counted with the unusable snapshots (scale_restore_failures_total, /health degraded).
      d.onRestoreFailed?.(p, ck.rejected.err);
    }
    let restoring: PartitionParts | undefined;
    try {
      const parts = (restoring = this.#fresh(checkpointer));
      const state = decodePartitionState(ck.state);
      await parts.detector.restoreState(state.detector);
      parts.validator.restoreOrderState(state.order);
      parts.critical.latches.restoreLatched(state.latched);
      if (parts.aggregates !== undefined) parts.aggregates.restore(state.aggregates);
      else if (state.aggregates.length > 0)
        throw new Error(
          'the snapshot holds aggregate-only state but this worker writes every row (scale.writeMode changed)',
        );
      this.#log.info(
        {
          partition: p,
          checkpoint: ck.seq,
          stateBytes: ck.state.length,
          readBytes: ck.readBytes,
          deltas: ck.deltasApplied,
        },
        'partition state restored from its checkpoint',
      );
      d.onRestored?.(p, ck.seq, ck.state.length);
      return { parts, cp: ck.seq };
    } catch (err) {
      this.#log.error(
        { err, partition: p, checkpoint: ck.seq },
        'partition snapshot cannot be restored; rebuilding the state by re-scoring the retained stream up to the checkpoint',
      );
      d.onRestoreFailed?.(p, err as Error);
      restoring?.critical.close();
      checkpointer.forgetState();
      const parts = this.#fresh(checkpointer);
      try {
        await d.feed.replay(p, ck.seq, async (batch) => {
          const readings = this.#accepted(
            parts.validator,
            batch.map((b) => b.event),
          ).sensors;
          for (const r of readings) parts.critical.bypass.evaluate(r);
          const scored =
            readings.length > 0 ? await scoreIndependentOfBatching(parts.detector, readings) : [];
          parts.aggregates?.take(scored);
        });
      } catch (replayErr) {
        parts.critical.close();
        throw replayErr;
      }
      return { parts, cp: ck.seq };
    }
  }

  /**
   * Delivery-hole check: every stream sequence after `from` (the checkpoint at a takeover, the last
   * processed message while owned) must still be stored. A range already reported for this
   * ownership (`reported`) is not reported again.
   */
  async #checkHoles(
    p: number,
    from: number,
    where: 'checkpoint' | 'last processed message',
    reported: SeqRange[],
  ): Promise<void> {
    for (const hole of await this.#d.feed.missing(from)) {
      if (reported.some((r) => r.from <= hole.from && hole.to <= r.to)) continue;
      reported.push(hole);
      this.#log.error(
        {
          partition: p,
          [where === 'checkpoint' ? 'checkpoint' : 'processed']: from,
          missingFrom: hole.from,
          missingTo: hole.to,
        },
        `delivery hole: stream sequences ${hole.from}-${hole.to} after partition ${p}'s ${where} ${from} are gone from the stream (deleted, purged or aged out before processing); events of partition ${p} among them were never scored`,
      );
      await this.#d.checkpoints.recordHole(p, hole.from, hole.to);
      this.#d.onHole?.(p, hole);
    }
  }

  async #save(p: number, parts: PartitionParts, seq: number): Promise<void> {
    const state = encodePartitionState({
      order: parts.validator.orderState(),
      latched: parts.critical.latches.latchedTags(),
      detector: await parts.detector.snapshotState(),
      aggregates: parts.aggregates?.snapshot() ?? new Uint8Array(0),
    });
    const written = await parts.checkpointer.save(seq, state);
    if (written.kind === 'stale')
      this.#log.warn(
        { partition: p, seq },
        'checkpoint delta refused: another owner moved the checkpoint; the next checkpoint is a full one',
      );
    this.#d.onCheckpoint?.(p, seq, written.bytes, written.kind);
  }

  async #run(o: Owned): Promise<void> {
    const { parts, cp: restoredAt } = await this.#takeOver(o.partition);
    try {
      await this.#loop(o, parts, restoredAt);
    } finally {
      // Ownership over (handed back, lease lost, failed or stopping): the bypass lets go of the hub.
      parts.critical.close();
    }
  }

  async #loop(o: Owned, parts: PartitionParts, restoredAt: number): Promise<void> {
    const { feed } = this.#d;
    const now = this.#d.now ?? Date.now;
    const every = this.#d.checkpointEveryMs;
    const p = o.partition;
    const { validator, detector, critical } = parts;
    let cp = restoredAt; // last checkpointed sequence
    let done = restoredAt; // last processed sequence (its effects committed)
    const reported: SeqRange[] = [];
    await this.#checkHoles(p, cp, 'checkpoint', reported);
    await feed.open(p, cp);
    let lastSave = now();
    while (!o.stop) {
      const { events, ack, reopen } = await feed.next(p, this.#d.batchSize, this.#d.fetchWaitMs);
      const fresh = events.filter((e) => e.seq > done);
      if (fresh.length === 0) {
        if (events.length > 0) ack();
        if (reopen) await feed.open(p, done);
        else if (events.length === 0 && now() - lastSave >= every) {
          // Idle: the state at `done` is the state at the stream's last sequence; checkpoint there.
          lastSave = now();
          // Before moving past them: messages removed before they were delivered are not pending.
          await this.#checkHoles(p, done, 'last processed message', reported);
          const through = await feed.drainedThrough(p);
          if (through !== undefined && through > cp) {
            await this.#save(p, parts, through);
            cp = done = through;
          }
        }
        continue;
      }
      const { sensors, rejected } = this.#accepted(
        validator,
        fresh.map((e) => e.event),
      );
      const alerts: unknown[] = [];
      for (const r of sensors) alerts.push(...critical.bypass.evaluate(r));
      const scored: readonly ScoredReading[] =
        sensors.length > 0 ? await scoreIndependentOfBatching(detector, sensors) : [];
      if (parts.aggregates !== undefined && this.#d.aggregateOnly !== undefined) {
        const { keep, minutes } = parts.aggregates.take(scored);
        if (minutes.length > 0 || keep.length > 0) await this.#d.aggregateOnly.write(minutes, keep);
      } else if (sensors.length > 0) await this.#d.sink.write(sensors, scored);
      if (scored.length > 0) await this.#d.recommendations.onScored(scored);
      if (alerts.length > 0) await critical.bypass.raise(alerts);
      ack();
      done = (fresh[fresh.length - 1] as SequencedEvent).seq;
      if (now() - lastSave >= every) {
        await this.#save(p, parts, done);
        cp = done;
        lastSave = now();
        // A lagging partition can lose messages to max_age / limits while owned: checked here too.
        await this.#checkHoles(p, done, 'last processed message', reported);
      }
      this.#d.onCommitted?.(p, fresh.length, rejected);
      if (reopen) {
        this.#log.warn(
          { partition: p, processed: done },
          'hole in the delivery; consumer reopened after the last processed message',
        );
        await feed.open(p, done);
      }
    }
    // Handed back or stopping: the next owner starts exactly here.
    if (done > cp) await this.#save(p, parts, done);
  }

  #accepted(
    validator: EventValidator,
    events: readonly TagEvent[],
  ): { sensors: SensorReading[]; rejected: number } {
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
