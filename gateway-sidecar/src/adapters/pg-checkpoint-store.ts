/**
 * Source checkpoints in Postgres (migration 030). The value only moves forward: a late save from an
 * older batch can never rewind a source.
 */
import type pg from 'pg';
import type { CheckpointStore } from '../ports.ts';

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
