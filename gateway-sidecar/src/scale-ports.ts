/**
 * Ports of the scale-out (docs/scale-out.md): what app/partitioned-worker.ts needs from the
 * partitioned log (NATS JetStream, adapters/nats-jetstream.ts), the leases and the checkpoint store
 * (Postgres, adapters/pg-checkpoint-store.ts). Beside ports.ts so that adapters implement them
 * without importing app code (STYLE.md §2).
 */
import type { TagEvent } from './domain/tag-event.ts';

export interface SequencedEvent {
  readonly seq: number;
  readonly event: TagEvent;
}

/** The partitioned log (JetStream stream + one durable consumer per partition). */
export interface PartitionFeed {
  /** Delivers the partition's retained messages with seq <= upto, in order. */
  replay(
    partition: number,
    upto: number,
    onBatch: (events: readonly SequencedEvent[]) => Promise<void>,
  ): Promise<void>;
  /** (Re)creates the partition's durable consumer to deliver from afterSeq + 1. */
  open(partition: number, afterSeq: number): Promise<void>;
  /**
   * Up to `max` next messages (waits at most waitMs); `ack` acknowledges all of them. `reopen`: the
   * delivery had a hole; commit what came and reopen the consumer after the checkpoint.
   */
  next(
    partition: number,
    max: number,
    waitMs: number,
  ): Promise<{ events: SequencedEvent[]; ack: () => void; reopen: boolean }>;
  /** Stream sequences after `afterSeq` (up to the stream's last) that are no longer stored, as ranges. */
  missing(afterSeq: number): Promise<SeqRange[]>;
  /**
   * The stream's last sequence if the partition's consumer has nothing pending and nothing
   * unacknowledged (every message of the partition up to it was processed), else undefined.
   */
  drainedThrough(partition: number): Promise<number | undefined>;
}

export interface SeqRange {
  readonly from: number;
  readonly to: number;
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

/** A stream sequence and the partition state (partition-state.ts) right after it. */
export interface PartitionCheckpoint {
  readonly seq: number;
  readonly state: Uint8Array;
}

export interface PartitionCheckpoints {
  load(partition: number): Promise<PartitionCheckpoint | undefined>;
  /** Saves sequence and state atomically; never moves a partition's checkpoint backwards. */
  save(partition: number, checkpoint: PartitionCheckpoint): Promise<void>;
  /** Records a delivery hole for operators (idempotent per range). */
  recordHole(partition: number, fromSeq: number, toSeq: number): Promise<void>;
}
