/**
 * The embedded default database: PGlite (Postgres compiled to WASM) persisted under
 * `<dataDir>/pgdata`, served on a local TCP port with the Postgres wire protocol by
 * pglite-socket. The rest of the sidecar connects with the ordinary `pg` pool exactly as it
 * would to a real server or Lakebase, so there is one code path for SQL.
 *
 * Only one process may own a data folder: a lock file holding the owner's pid guards it, and a
 * lock left by a process that died (kill -9) is taken over.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ERRORS, SidecarError } from '../errors.ts';
import { installSessionQueue } from './pglite-session-queue.ts';

export interface EmbeddedPostgresOptions {
  /** The sidecar's data folder; the database lives in `<dataDir>/pgdata`. */
  readonly dataDir: string;
  /** Interface to listen on (default 127.0.0.1: the embedded server is never exposed). */
  readonly host?: string;
  /** TCP port (default 0: any free port; read `url` for the one chosen). */
  readonly port?: number;
  /**
   * Concurrent wire connections (default 32). pglite-socket defaults to 1, which makes a pool of
   * more than one client fail with "Connection terminated unexpectedly". Statements still run one
   * at a time, and a connection keeps the single backend session from its first message until it
   * is idle again (whole exchanges, open transactions included), so isolation is serial.
   */
  readonly maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (no password: the socket is local only). */
  readonly url: string;
  /** Absolute path of the database files. */
  readonly pgdataDir: string;
  /** Connections currently attached and statements waiting for the single backend. */
  stats(): { activeConnections: number; queuedQueries: number; maxConnections: number };
  /** Stops listening, closes the database cleanly (checkpoint) and releases the lock. Idempotent. */
  stop(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function acquireLock(lockPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      fsyncSync(fd);
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new SidecarError(
          ERRORS.DB_EMBEDDED_LOCKED,
          `embedded database '${lockPath}' is in use by process ${owner}; stop it or use another dataDir`,
          { details: { pid: owner } },
        );
      }
      if (owner === process.pid) {
        throw new SidecarError(
          ERRORS.DB_EMBEDDED_LOCKED,
          `embedded database '${lockPath}' is already open in this process`,
        );
      }
      // Stale lock of a dead process: take it over.
      rmSync(lockPath, { force: true });
    }
  }
  throw new SidecarError(ERRORS.DB_EMBEDDED_LOCKED, `could not lock embedded database '${lockPath}'`);
}

/**
 * Opens (creating on first use) the embedded database and starts its wire-protocol server.
 * First start runs initdb inside WASM and takes a few seconds; later starts reopen the files.
 * @throws SidecarError SC_ERR_DB_EMBEDDED_LOCKED when another live process owns the folder,
 *   SC_ERR_DB_CONNECT when the database cannot be opened or the port cannot be bound.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const pgdataDir = resolve(options.dataDir, 'pgdata');
  mkdirSync(pgdataDir, { recursive: true });
  const lockPath = join(resolve(options.dataDir), 'pgdata.lock');
  acquireLock(lockPath);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    db = await PGlite.create(pgdataDir);
    server = new PGLiteSocketServer({
      db,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? 32,
    });
    // Connections take turns by whole protocol exchanges (see pglite-session-queue.ts).
    installSessionQueue(server, db);
    await server.start();
  } catch (err) {
    await server?.stop().catch(() => undefined);
    await db?.close().catch(() => undefined);
    rmSync(lockPath, { force: true });
    throw new SidecarError(
      ERRORS.DB_CONNECT,
      `cannot start the embedded database in '${pgdataDir}': ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const srv = server;
  const pglite = db;
  let stopping: Promise<void> | undefined;
  return {
    url,
    pgdataDir,
    stats: () => srv.getStats(),
    stop() {
      stopping ??= (async () => {
        try {
          await srv.stop();
          await pglite.close();
        } finally {
          rmSync(lockPath, { force: true });
        }
      })();
      return stopping;
    },
  };
}
