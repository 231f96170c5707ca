/**
 * Source checkpoints in Postgres (migration 030); scale-out partition checkpoints (migration 071).
 *
 * Source checkpoints (030). The value only moves forward: a late save from an
 * older batch can never rewind a source.
 */
import type pg from 'pg';
import type { CheckpointStore } from '../ports.ts';
import type { PartitionCheckpoint, PartitionCheckpoints } from '../scale-ports.ts';

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
 * Scale-out partition checkpoints (migration 071, docs/scale-out.md): the stream sequence and the
 * partition state snapshot at that sequence in one row, written in one statement (atomic). Only
 * moves forward: a worker that lost its lease and still finishes a batch cannot rewind a newer
 * owner's checkpoint (its own state at its own, older sequence would be exact too, but the newer
 * owner's work would be repeated).
 */
export class PgPartitionCheckpoints implements PartitionCheckpoints {
  readonly #pool: pg.Pool;
  readonly #stream: string;
  readonly #instance: string;

  constructor(pool: pg.Pool, stream: string, instanceId: string) {
    this.#pool = pool;
    this.#stream = stream;
    this.#instance = instanceId;
  }

  async load(partition: number): Promise<PartitionCheckpoint | undefined> {
    const { rows } = await this.#pool.query<{ seq: string; state: Buffer }>(
      'SELECT seq::text AS seq, state FROM agentic_hmi.scale_partition_checkpoints WHERE stream = $1 AND partition_no = $2',
      [this.#stream, partition],
    );
    const row = rows[0];
    if (row === undefined) return undefined;
    return { seq: Number(row.seq), state: new Uint8Array(row.state.buffer, row.state.byteOffset, row.state.byteLength) };
  }

  async save(partition: number, checkpoint: PartitionCheckpoint): Promise<void> {
    await this.#pool.query(
      `INSERT INTO agentic_hmi.scale_partition_checkpoints (stream, partition_no, seq, state, instance_id)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (stream, partition_no) DO UPDATE
         SET seq = EXCLUDED.seq, state = EXCLUDED.state, instance_id = EXCLUDED.instance_id, updated_at = now()
         WHERE agentic_hmi.scale_partition_checkpoints.seq < EXCLUDED.seq`,
      [this.#stream, partition, checkpoint.seq, Buffer.from(checkpoint.state.buffer, checkpoint.state.byteOffset, checkpoint.state.byteLength), this.#instance],
    );
  }

  async recordHole(partition: number, fromSeq: number, toSeq: number): Promise<void> {
    await this.#pool.query(
      `INSERT INTO agentic_hmi.scale_delivery_holes (stream, partition_no, from_seq, to_seq, instance_id)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (stream, partition_no, from_seq, to_seq) DO NOTHING`,
      [this.#stream, partition, fromSeq, toSeq, this.#instance],
    );
  }
}
