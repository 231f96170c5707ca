/**
 * The model registry in `agentic_hmi.model_registry` (migration 050): one row per trained
 * version with its training range, metrics, gate result and file. At most one row is `active`
 * (a partial unique index); promote and rollback swap it in one transaction.
 */
import type pg from 'pg';
import { ERRORS, SidecarError } from '../errors.ts';
import type { ModelEntry, ModelRegistryStore, ModelStatus } from '../domain/learning/ports.ts';
import type { GateResult } from '../domain/learning/gate.ts';
import { inTransaction } from './pg-pool.ts';

interface Row {
  version: string;
  name: string;
  created_at: Date;
  training_from: Date | null;
  training_to: Date | null;
  metrics: Record<string, unknown>;
  gate: GateResult | null;
  status: ModelStatus;
  path: string;
  sha256: string;
}

const COLUMNS = 'version, name, created_at, training_from, training_to, metrics, gate, status, path, sha256';

function toEntry(r: Row): ModelEntry {
  return {
    version: r.version,
    name: r.name,
    createdAtMs: r.created_at.getTime(),
    trainingFromMs: r.training_from?.getTime() ?? null,
    trainingToMs: r.training_to?.getTime() ?? null,
    metrics: r.metrics,
    gate: r.gate,
    status: r.status,
    path: r.path,
    sha256: r.sha256,
  };
}

export class PgModelRegistry implements ModelRegistryStore {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async register(
    e: Omit<ModelEntry, 'status'> & { status: 'candidate' | 'active' | 'rejected' },
    nowMs: number,
  ): Promise<void> {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    await this.#tx(async (c) => {
      if (e.status === 'active')
        await c.query(
          `UPDATE agentic_hmi.model_registry SET status = 'retired', status_changed_at = $1 WHERE status = 'active'`,
          [new Date(nowMs).toISOString()],
        );
      await c.query(
        `INSERT INTO agentic_hmi.model_registry (${COLUMNS}, status_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $3)`,
        [
          e.version,
          e.name,
          new Date(e.createdAtMs).toISOString(),
          iso(e.trainingFromMs),
          iso(e.trainingToMs),
          JSON.stringify(e.metrics),
          e.gate === null ? null : JSON.stringify(e.gate),
          e.status,
          e.path,
          e.sha256,
        ],
      );
    });
  }

  async list(): Promise<ModelEntry[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM agentic_hmi.model_registry ORDER BY created_at DESC, version DESC`,
    );
    return rows.map(toEntry);
  }

  async get(version: string): Promise<ModelEntry | undefined> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM agentic_hmi.model_registry WHERE version = $1`,
      [version],
    );
    return rows[0] === undefined ? undefined : toEntry(rows[0]);
  }

  async active(): Promise<ModelEntry | undefined> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${COLUMNS} FROM agentic_hmi.model_registry WHERE status = 'active'`,
    );
    return rows[0] === undefined ? undefined : toEntry(rows[0]);
  }

  promote(version: string, nowMs: number): Promise<ModelEntry> {
    return this.#activate(version, nowMs, 'promote');
  }

  async rollback(version: string | undefined, nowMs: number): Promise<ModelEntry> {
    if (version !== undefined) return this.#activate(version, nowMs, 'rollback');
    const { rows } = await this.#pool.query<{ version: string }>(
      `SELECT version FROM agentic_hmi.model_registry WHERE status = 'retired' ORDER BY status_changed_at DESC, created_at DESC LIMIT 1`,
    );
    if (rows[0] === undefined)
      throw new SidecarError(
        ERRORS.MODEL_REGISTRY,
        'nothing to roll back to: no retired model version in the registry',
      );
    return this.#activate(rows[0].version, nowMs, 'rollback');
  }

  async #activate(version: string, nowMs: number, op: 'promote' | 'rollback'): Promise<ModelEntry> {
    const at = new Date(nowMs).toISOString();
    return this.#tx(async (c) => {
      const { rows } = await c.query<Row>(
        `SELECT ${COLUMNS} FROM agentic_hmi.model_registry WHERE version = $1 FOR UPDATE`,
        [version],
      );
      const row = rows[0];
      if (row === undefined)
        throw new SidecarError(
          ERRORS.MODEL_REGISTRY,
          `cannot ${op}: model version '${version}' is not in the registry`,
        );
      if (row.status === 'active') return toEntry(row);
      await c.query(
        `UPDATE agentic_hmi.model_registry SET status = 'retired', status_changed_at = $1 WHERE status = 'active'`,
        [at],
      );
      await c.query(
        `UPDATE agentic_hmi.model_registry SET status = 'active', status_changed_at = $2 WHERE version = $1`,
        [version, at],
      );
      return { ...toEntry(row), status: 'active' };
    });
  }

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, fn);
  }
}
