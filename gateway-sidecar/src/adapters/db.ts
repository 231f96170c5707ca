/**
 * One way to open the database: Lakebase / any Postgres when `database.url` is set, otherwise the
 * embedded PGlite server under `<dataDir>/pgdata`. Either way callers get a `pg.Pool` from
 * `createPgPool`, migrations applied, and one `close()` that ends the pool before stopping the
 * embedded server.
 *
 * Lakebase: `postgres://<identity>:<oauth-token>@<instance-host>:5432/<db>?sslmode=require`. The
 * OAuth token is sent as the password (pg does not log it; the logged URL is redacted). Tokens
 * expire (about an hour); see docs/lakebase.md for rotating them.
 */
import type pg from 'pg';
import type { Config } from '../config.ts';
import { ERRORS, SidecarError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import { MIGRATIONS_DIR, runMigrations } from './pg-migrations.ts';
import { createPgPool } from './pg-pool.ts';

export interface Database {
  readonly pool: pg.Pool;
  /** The URL connected to, password removed (safe to log and show on /health). */
  readonly url: string;
  /** True when this is the embedded PGlite server. */
  readonly embedded: boolean;
  /** Migration files applied by this open (empty when the schema was already current). */
  readonly migrationsApplied: readonly string[];
  /** Ends the pool, then stops the embedded server if there is one. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply migrations (default true). */
  readonly migrate?: boolean;
  readonly migrationsDir?: string;
  readonly applicationName?: string;
}

/** `postgres://user:secret@host/db` -> `postgres://user:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

/**
 * Opens the configured database and applies migrations.
 * @throws SidecarError SC_ERR_DB_CONNECT (unreachable, bad credentials, TLS refused),
 *   SC_ERR_DB_MIGRATION, SC_ERR_DB_EMBEDDED_LOCKED.
 */
export async function openDatabase(
  config: Pick<Config, 'dataDir' | 'database'>,
  logger: Logger,
  options: OpenDatabaseOptions = {},
): Promise<Database> {
  const log = logger.child({ component: 'db' });
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.dataDir,
      // Headroom over the pool: migrations, LISTEN clients and tools connect too.
      maxConnections: Math.max(32, config.database.poolMax * 2),
    });
    url = embedded.url;
    log.info({ pgdata: embedded.pgdataDir, url }, 'embedded database started');
  }
  const pool = createPgPool({ ...config.database, url, applicationName: options.applicationName });
  const safeUrl = redactUrl(url);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await pool.end().catch((err: unknown) => log.warn({ err }, 'pool end failed'));
      await embedded?.stop();
    })();
    return closing;
  };
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await close();
    throw new SidecarError(ERRORS.DB_CONNECT, `cannot connect to ${safeUrl}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let applied: string[] = [];
  try {
    if (options.migrate !== false)
      applied = await runMigrations(pool, options.migrationsDir ?? MIGRATIONS_DIR);
  } catch (err) {
    await close();
    throw err;
  }
  log.info({ url: safeUrl, embedded: embedded !== undefined, migrationsApplied: applied }, 'database ready');
  return { pool, url: safeUrl, embedded: embedded !== undefined, migrationsApplied: applied, close };
}
