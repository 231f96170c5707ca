/**
 * Source checkpoints in Postgres (migration 030); scale-out partition checkpoints (migrations 071, 072).
 *
 * Source checkpoints (030). The value only moves forward: a late save from an
 * older batch can never rewind a source.
 */
import type pg from 'pg';
import type { CheckpointStore } from '../ports.ts';
import type { PartitionCheckpoint } from '../scale-ports.ts';
import type {
  CheckpointChain,
  PartitionCheckpointChains,
  PartitionDelta,
} from '../checkpoint-chain-ports.ts';

export class PgCheckpointStore implements CheckpointStore {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async load(source: string): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ ts: string }>(
      'SELECT source_ts_ms::text AS ts FROM agentic_hmi.source_checkpoints WHERE source_name = $1',
      [source],
    );
    const row = rows[0];
    return row === undefined ? undefined : Number(row.ts);
  }

  async save(source: string, sourceTimestampMs: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO agentic_hmi.source_checkpoints (source_name, source_timestamp, source_ts_ms)
       VALUES ($1, to_timestamp($2::double precision / 1000), $2)
       ON CONFLICT (source_name) DO UPDATE
         SET source_timestamp = EXCLUDED.source_timestamp, source_ts_ms = EXCLUDED.source_ts_ms, updated_at = now()
         WHERE agentic_hmi.source_checkpoints.source_ts_ms < EXCLUDED.source_ts_ms`,
      [source, Math.trunc(sourceTimestampMs)],
    );
  }
}

/**
 * Scale-out partition checkpoints (migrations 071, 072; docs/scale-out.md). The row holds the
 * partition's checkpoint sequence and a full base snapshot; incremental checkpoints add delta rows
 * (app/partition-delta.ts) that lead from the base (`base_seq`) to the checkpoint. Every write is
 * one statement (atomic):
 * - `save` writes a new base at its sequence and drops the old chain; it only moves forward, so a
 *   worker that lost its lease and still finishes a batch cannot rewind a newer owner's checkpoint.
 * - `saveDelta` stores a delta and moves the checkpoint to it only while the checkpoint is still
 *   the sequence the delta applies to (compare-and-set): a stale owner's delta is never chained.
 * - `rebase` replaces a chain that could not be applied by a base at an older, exact sequence.
 * Rows written before 072 have no base_seq: the row is a base at its own sequence.
 */
export class PgPartitionCheckpoints implements PartitionCheckpointChains {
  readonly #pool: pg.Pool;
  readonly #stream: string;
  readonly #instance: string;

  constructor(pool: pg.Pool, stream: string, instanceId: string) {
    this.#pool = pool;
    this.#stream = stream;
    this.#instance = instanceId;
  }

  /** The base alone, at its own sequence (older than a chain's tip, but exact). */
  async load(partition: number): Promise<PartitionCheckpoint | undefined> {
    const { rows } = await this.#pool.query<{ seq: string; state: Buffer }>(
      'SELECT coalesce(base_seq, seq)::text AS seq, state FROM agentic_hmi.scale_partition_checkpoints WHERE stream = $1 AND partition_no = $2',
      [this.#stream, partition],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { seq: Number(row.seq), state: bytesOf(row.state) };
  }

  async loadChain(partition: number): Promise<CheckpointChain | undefined> {
    const { rows } = await this.#pool.query<{
      kind: number;
      seq: string;
      base_seq: string;
      prev_seq: string | null;
      bytes: Buffer;
    }>(
      `SELECT 0 AS kind, c.seq AS seq_n, c.seq::text AS seq, coalesce(c.base_seq, c.seq)::text AS base_seq, NULL::text AS prev_seq, c.state AS bytes
         FROM agentic_hmi.scale_partition_checkpoints c WHERE c.stream = $1 AND c.partition_no = $2
       UNION ALL
       SELECT 1, d.seq, d.seq::text, d.base_seq::text, d.prev_seq::text, d.delta
         FROM agentic_hmi.scale_partition_checkpoint_deltas d
         JOIN agentic_hmi.scale_partition_checkpoints c
           ON c.stream = d.stream AND c.partition_no = d.partition_no AND coalesce(c.base_seq, c.seq) = d.base_seq AND d.seq <= c.seq
        WHERE d.stream = $1 AND d.partition_no = $2
       ORDER BY kind, seq_n`,
      [this.#stream, partition],
    );
    const head = rows[0];
    if (head === undefined) return undefined;
    return {
      seq: Number(head.seq),
      baseSeq: Number(head.base_seq),
      base: bytesOf(head.bytes),
      deltas: rows.slice(1).map((r) => ({
        baseSeq: Number(r.base_seq),
        prevSeq: Number(r.prev_seq),
        seq: Number(r.seq),
        delta: bytesOf(r.bytes),
      })),
    };
  }

  async save(partition: number, checkpoint: PartitionCheckpoint): Promise<void> {
    await this.#pool.query(
      `WITH up AS (
         INSERT INTO agentic_hmi.scale_partition_checkpoints (stream, partition_no, seq, base_seq, state, instance_id)
         VALUES ($1, $2, $3, $3, $4, $5)
         ON CONFLICT (stream, partition_no) DO UPDATE
           SET seq = EXCLUDED.seq, base_seq = EXCLUDED.base_seq, state = EXCLUDED.state, instance_id = EXCLUDED.instance_id, updated_at = now()
           WHERE agentic_hmi.scale_partition_checkpoints.seq < EXCLUDED.seq
         RETURNING 1)
       DELETE FROM agentic_hmi.scale_partition_checkpoint_deltas
        WHERE stream = $1 AND partition_no = $2 AND EXISTS (SELECT 1 FROM up)`,
      [this.#stream, partition, checkpoint.seq, bufferOf(checkpoint.state), this.#instance],
    );
  }

  async saveDelta(partition: number, d: PartitionDelta): Promise<boolean> {
    if (!(d.seq > d.prevSeq && d.prevSeq >= d.baseSeq)) {
      throw new RangeError(
        `a delta must lead forward from base ${d.baseSeq} <= ${d.prevSeq} to a later sequence, got ${d.seq}`,
      );
    }
    const r = await this.#pool.query(
      `WITH tip AS (
         UPDATE agentic_hmi.scale_partition_checkpoints
            SET seq = $5, base_seq = coalesce(base_seq, seq), instance_id = $7, updated_at = now()
          WHERE stream = $1 AND partition_no = $2 AND seq = $4 AND coalesce(base_seq, seq) = $3
         RETURNING 1)
       INSERT INTO agentic_hmi.scale_partition_checkpoint_deltas (stream, partition_no, base_seq, prev_seq, seq, delta, instance_id)
       SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM tip)`,
      [this.#stream, partition, d.baseSeq, d.prevSeq, d.seq, bufferOf(d.delta), this.#instance],
    );
    return r.rowCount === 1;
  }

  async rebase(partition: number, checkpoint: PartitionCheckpoint, expectedSeq: number): Promise<boolean> {
    const { rows } = await this.#pool.query<{ updated: number }>(
      `WITH up AS (
         UPDATE agentic_hmi.scale_partition_checkpoints
            SET seq = $3, base_seq = $3, state = $4, instance_id = $5, updated_at = now()
          WHERE stream = $1 AND partition_no = $2 AND seq = $6
         RETURNING 1),
       dropped AS (
         DELETE FROM agentic_hmi.scale_partition_checkpoint_deltas
          WHERE stream = $1 AND partition_no = $2 AND EXISTS (SELECT 1 FROM up) RETURNING 1)
       SELECT (SELECT count(*) FROM up)::int AS updated, (SELECT count(*) FROM dropped)::int AS dropped`,
      [this.#stream, partition, checkpoint.seq, bufferOf(checkpoint.state), this.#instance, expectedSeq],
    );
    return rows[0]?.updated === 1;
  }

  async recordHole(partition: number, fromSeq: number, toSeq: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO agentic_hmi.scale_delivery_holes (stream, partition_no, from_seq, to_seq, instance_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream, partition_no, from_seq, to_seq) DO NOTHING`,
      [this.#stream, partition, fromSeq, toSeq, this.#instance],
    );
  }
}

function bytesOf(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function bufferOf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
