/**
 * Incremental checkpoints of one owned partition (docs/scale-out.md, "Partition state and
 * checkpoints"): a full base snapshot, then deltas (partition-delta.ts) each holding only what
 * changed since the previous checkpoint, until `fullEvery` checkpoints were taken on the base or
 * the chain's bytes would exceed `maxChainRatio` × the base's; then a new base (which drops the
 * chain). Restoring applies the chain to the base in order; the result is byte-identical to the
 * full snapshot at the checkpoint, so the restored state continues bit-identically.
 *
 * A delta that cannot be applied (checksum, broken link, truncated) is never guessed past: the
 * state of the last delta that applied (or the base) is used, which is exact at its own sequence,
 * the stream is re-processed from there (idempotently, as after any takeover), and the broken chain
 * is replaced at once by a base at that sequence (`rebase`), so the next owner does not meet it.
 *
 * The writer keeps the full state of the last checkpoint in memory (one snapshot per owned
 * partition) to diff against.
 */
import type { PartitionCheckpoints } from '../scale-ports.ts';
import type { CheckpointChain, PartitionCheckpointChains } from '../checkpoint-chain-ports.ts';
import { StateFormatError } from '../domain/state-codec.ts';
import {
  applyDeltaToImage,
  diffPartitionState,
  encodePartitionImage,
  isPartitionSnapshot,
  toPartitionImage,
} from './partition-delta.ts';
import { isLegacyPartitionState } from './partition-state.ts';

export interface ChainOptions {
  /** Checkpoints per base: a base, then up to fullEvery - 1 deltas (1: every checkpoint is full). */
  readonly fullEvery: number;
  /** A new base once the chain's bytes would exceed this share of the base's bytes. */
  readonly maxChainRatio: number;
}

/** The `scale.checkpointFullEvery` / `scale.checkpointChainMaxRatio` defaults (config-scale.ts). */
export const DEFAULT_CHAIN: ChainOptions = { fullEvery: 24, maxChainRatio: 1 };

export function checkChainOptions(o: ChainOptions): ChainOptions {
  if (!Number.isInteger(o.fullEvery) || o.fullEvery < 1)
    throw new RangeError(`checkpointFullEvery must be an integer >= 1, got '${o.fullEvery}'`);
  if (!(o.maxChainRatio > 0) || !Number.isFinite(o.maxChainRatio))
    throw new RangeError(`checkpointChainMaxRatio must be a finite number > 0, got '${o.maxChainRatio}'`);
  return o;
}

function hasChains(store: PartitionCheckpoints): store is PartitionCheckpointChains {
  const s = store as Partial<PartitionCheckpointChains>;
  return (
    typeof s.loadChain === 'function' && typeof s.saveDelta === 'function' && typeof s.rebase === 'function'
  );
}

/** What a takeover restores: the full state at `seq`. */
export interface RestoredCheckpoint {
  readonly seq: number;
  readonly state: Uint8Array;
  /** Bytes read from the store (base + deltas). */
  readonly readBytes: number;
  readonly deltasApplied: number;
  /** Deltas left beside a row an older build overwrote with a full state (ignored). */
  readonly ignoredDeltas?: number;
  /** Set when a delta could not be applied: the error and the checkpoint the chain claimed. */
  readonly rejected?: { readonly err: Error; readonly chainSeq: number; readonly rebased: boolean };
}

interface Cursor {
  baseSeq: number;
  tipSeq: number;
  /** Full state at tipSeq (undefined: the next checkpoint is a base). */
  prev: Uint8Array | undefined;
  baseBytes: number;
  chainBytes: number;
  deltas: number;
}

/** The full state at the end of the chain's good part, and why it stopped early (if it did). */
function compose(c: CheckpointChain): {
  seq: number;
  state: Uint8Array;
  chainBytes: number;
  applied: number;
  err?: Error;
} {
  // Applied to the parsed state and encoded once: a chain costs one parse and one encode, not one per delta.
  let img = toPartitionImage(c.base);
  let at = c.baseSeq;
  let chainBytes = 0;
  let applied = 0;
  let err: Error | undefined;
  for (const d of c.deltas) {
    try {
      if (d.prevSeq !== at || d.baseSeq !== c.baseSeq) {
        throw new StateFormatError(
          `partition delta: the chain is broken: the delta to sequence ${d.seq} applies to ${d.prevSeq} on base ${d.baseSeq}, the state is at ${at} on base ${c.baseSeq}`,
        );
      }
      const next = applyDeltaToImage(img, at, d.delta);
      if (next.seq !== d.seq)
        throw new StateFormatError(
          `partition delta: leads to sequence ${next.seq} but is stored as the checkpoint at ${d.seq}`,
        );
      img = next.img;
    } catch (e) {
      err = e as Error;
      break;
    }
    at = d.seq;
    chainBytes += d.delta.length;
    applied++;
  }
  if (err === undefined && at !== c.seq)
    err = new StateFormatError(
      `partition delta: the chain ends at sequence ${at} but the checkpoint is ${c.seq} (delta rows missing)`,
    );
  const state = applied === 0 ? c.base : encodePartitionImage(img);
  return err === undefined
    ? { seq: at, state, chainBytes, applied }
    : { seq: at, state, chainBytes, applied, err };
}

/** The checkpoint chain of one partition while it is owned. */
export class PartitionCheckpointer {
  readonly #store: PartitionCheckpoints;
  readonly #p: number;
  readonly #o: ChainOptions;
  #c: Cursor | undefined;

  constructor(store: PartitionCheckpoints, partition: number, options: ChainOptions) {
    this.#store = store;
    this.#p = partition;
    this.#o = checkChainOptions(options);
  }

  /** The partition's checkpoint (base + deltas), or undefined when it has none. */
  async load(): Promise<RestoredCheckpoint | undefined> {
    if (!hasChains(this.#store)) {
      const ck = await this.#store.load(this.#p);
      if (ck === undefined) return undefined;
      this.#c = {
        baseSeq: ck.seq,
        tipSeq: ck.seq,
        prev: undefined,
        baseBytes: ck.state.length,
        chainBytes: 0,
        deltas: 0,
      };
      return { seq: ck.seq, state: ck.state, readBytes: ck.state.length, deltasApplied: 0 };
    }
    const chain = await this.#store.loadChain(this.#p);
    if (chain === undefined) return undefined;
    const readBytes = chain.base.length + chain.deltas.reduce((s, d) => s + d.delta.length, 0);
    if (isLegacyPartitionState(chain.base)) {
      // Written by a build before incremental checkpoints: the full state at the row's sequence.
      // No delta is ever chained onto such a row (the next checkpoint is a base), so deltas beside
      // it were left by a chain an older worker then overwrote: they are ignored.
      this.#c = undefined;
      return {
        seq: chain.seq,
        state: chain.base,
        readBytes: chain.base.length,
        deltasApplied: 0,
        ignoredDeltas: chain.deltas.length,
      };
    }
    if (chain.deltas.length > 0 && !isPartitionSnapshot(chain.base)) {
      // The base itself is unusable (other format version, corrupt): the whole checkpoint is, and
      // restoring the base reports why; the state is then rebuilt from the stream up to the tip.
      this.#c = undefined;
      return { seq: chain.seq, state: chain.base, readBytes, deltasApplied: 0 };
    }
    const got = compose(chain);
    if (got.err === undefined) {
      this.#c = {
        baseSeq: chain.baseSeq,
        tipSeq: got.seq,
        prev: got.state,
        baseBytes: chain.base.length,
        chainBytes: got.chainBytes,
        deltas: got.applied,
      };
      return { seq: got.seq, state: got.state, readBytes, deltasApplied: got.applied };
    }
    // The good part becomes the new base right away: the broken chain is gone for the next owner.
    const rebased = await this.#store.rebase(this.#p, { seq: got.seq, state: got.state }, chain.seq);
    this.#c = {
      baseSeq: got.seq,
      tipSeq: got.seq,
      prev: rebased ? got.state : undefined,
      baseBytes: got.state.length,
      chainBytes: 0,
      deltas: 0,
    };
    return {
      seq: got.seq,
      state: got.state,
      readBytes,
      deltasApplied: got.applied,
      rejected: { err: got.err, chainSeq: chain.seq, rebased },
    };
  }

  /** The state restored from `load` was unusable and rebuilt from the stream: the next checkpoint is a base. */
  forgetState(): void {
    this.#c = undefined;
  }

  /**
   * Checkpoints `state` (the full partition state) at `seq`: a delta when the chain allows it, else
   * a base. Returns what was written. A delta the store refused (another owner moved the
   * checkpoint) writes nothing, as a stale base save does; the next checkpoint is then a base.
   */
  async save(seq: number, state: Uint8Array): Promise<{ kind: 'base' | 'delta' | 'stale'; bytes: number }> {
    const c = this.#c;
    if (
      hasChains(this.#store) &&
      c !== undefined &&
      c.prev !== undefined &&
      c.deltas + 1 < this.#o.fullEvery &&
      seq > c.tipSeq
    ) {
      let delta: Uint8Array | undefined;
      try {
        delta = diffPartitionState(c.prev, c.tipSeq, state, seq);
      } catch {
        // Not a partition snapshot this build can diff (cannot happen with its own encoder): a base.
        delta = undefined;
      }
      if (delta !== undefined && c.chainBytes + delta.length <= this.#o.maxChainRatio * c.baseBytes) {
        const saved = await this.#store.saveDelta(this.#p, {
          baseSeq: c.baseSeq,
          prevSeq: c.tipSeq,
          seq,
          delta,
        });
        if (!saved) {
          this.#c = undefined;
          return { kind: 'stale', bytes: 0 };
        }
        c.tipSeq = seq;
        c.prev = state;
        c.chainBytes += delta.length;
        c.deltas++;
        return { kind: 'delta', bytes: delta.length };
      }
    }
    await this.#store.save(this.#p, { seq, state });
    const keep = hasChains(this.#store) && this.#o.fullEvery > 1;
    this.#c = {
      baseSeq: seq,
      tipSeq: seq,
      prev: keep ? state : undefined,
      baseBytes: state.length,
      chainBytes: 0,
      deltas: 0,
    };
    return { kind: 'base', bytes: state.length };
  }
}
