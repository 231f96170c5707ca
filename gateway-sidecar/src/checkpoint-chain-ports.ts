/**
 * The incremental-checkpoint side of the scale-out checkpoint store (docs/scale-out.md, migration
 * 072): a full base snapshot plus a chain of deltas (app/partition-delta.ts) per partition. Beside
 * scale-ports.ts, whose PartitionCheckpoints it extends, so adapters implement it without importing
 * app code (STYLE.md §2).
 */
import type { PartitionCheckpoint, PartitionCheckpoints } from './scale-ports.ts';

/** One stored delta: it turns the state at `prevSeq` into the state at `seq`, on the base at `baseSeq`. */
export interface PartitionDelta {
  readonly baseSeq: number;
  readonly prevSeq: number;
  readonly seq: number;
  readonly delta: Uint8Array;
}

/** A partition's checkpoint as stored: the base, the deltas after it in order, and the checkpoint (tip) sequence. */
export interface CheckpointChain {
  /** The partition's checkpoint: the last delta's `seq`, or `baseSeq` without deltas. */
  readonly seq: number;
  readonly baseSeq: number;
  readonly base: Uint8Array;
  readonly deltas: readonly PartitionDelta[];
}

export interface PartitionCheckpointChains extends PartitionCheckpoints {
  /**
   * Base and deltas read in one statement (one consistent snapshot). `load` (PartitionCheckpoints)
   * returns the base alone, at its own sequence: older than the chain's tip, but exact.
   */
  loadChain(partition: number): Promise<CheckpointChain | undefined>;
  /**
   * Stores a delta and moves the checkpoint to its `seq`, atomically, only if the checkpoint is still
   * `prevSeq` on the base `baseSeq` (else nothing changes and it returns false: another owner moved it).
   */
  saveDelta(partition: number, delta: PartitionDelta): Promise<boolean>;
  /**
   * Replaces the chain whose checkpoint is `expectedSeq` by a new base (also at an older sequence:
   * used after a delta could not be applied); false when the checkpoint is no longer `expectedSeq`.
   */
  rebase(partition: number, checkpoint: PartitionCheckpoint, expectedSeq: number): Promise<boolean>;
}
