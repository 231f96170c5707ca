/**
 * The Postgres / Lakebase connection pool. Lakebase is reached over TLS (sslmode=require) with an
 * OAuth token as the password; a plain local server needs neither. Every statement has a timeout.
 */
import pg from 'pg';

export interface PgPoolOptions {
  readonly url: string;
  readonly ssl: 'disable' | 'require' | 'verify-full';
  readonly poolMax: number;
  readonly connectionTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly applicationName?: string;
}

export function createPgPool(options: PgPoolOptions): pg.Pool {
  const url = new URL(options.url);
  // sslmode in the URL wins over the option, as libpq does.
  const sslmode = url.searchParams.get('sslmode') ?? options.ssl;
  url.searchParams.delete('sslmode');
  const ssl =
    sslmode === 'disable' || sslmode === 'prefer' || sslmode === 'allow'
      ? false
      : { rejectUnauthorized: sslmode === 'verify-full' || sslmode === 'verify-ca' };
  const pool = new pg.Pool({
    connectionString: url.toString(),
    ssl,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    statement_timeout: options.statementTimeoutMs,
    application_name: options.applicationName ?? 'ignition-ai-sidecar',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // A checked-out client whose connection drops between statements emits 'error' with no listener
  // (the pool only listens while it is idle): that was an uncaught exception killing the process on a
  // database outage. The query in flight still rejects, and the pool discards the dead client on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Runs `fn` in one transaction on a client of `db`: COMMIT when it resolves, ROLLBACK when it
 * throws (a failed ROLLBACK does not hide the original error), the client released either way.
 */
export async function inTransaction<T>(
  db: Pick<pg.Pool, 'connect'>,
  fn: (c: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const c = await db.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
