/**
 * The embedded database serves many wire connections from ONE PGlite backend session. A client's
 * extended-protocol exchange (Parse, Bind, Describe, Execute, Sync) lives in that session's unnamed
 * prepared statement until ReadyForQuery, so another connection's messages must not run in
 * between. pglite-socket 0.2.x only keeps a connection's turn while a transaction is open, which
 * let concurrent pool queries clobber each other ("bind message supplies 5 parameters, but
 * prepared statement "" requires 3", or rows of the other query); the demo's plain page failed
 * its first list call that way. These tests run real concurrent pool clients against it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/adapters/embedded-postgres.ts';
import { poolFor } from '../fixtures/db-targets.ts';

describe('embedded database: one backend session shared by many connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sc-embedded-sessions-'));
  let db: EmbeddedPostgres;
  let pool: pg.Pool;
  before(async () => {
    db = await startEmbeddedPostgres({ dataDir: dir });
    pool = poolFor(db.url, 8);
  });
  after(async () => {
    await pool?.end();
    await db?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('concurrent parameterised queries of different shapes each get their own answer', async () => {
    // Large statements (like the sink's multi-row inserts) reach the server in several TCP chunks,
    // which is when another connection's messages used to slip in between Parse and Bind.
    const big = 'x'.repeat(256 * 1024);
    const jobs = Array.from({ length: 240 }, async (_, i) => {
      switch (i % 5) {
        case 0: {
          const r = await pool.query<{ v: number }>('SELECT $1::int * 2 AS v', [i]);
          return r.rows[0]?.v === i * 2;
        }
        case 1: {
          // Same parameter count as case 0, different statement: a clobbered Parse gives wrong rows, not an error.
          const r = await pool.query<{ v: number }>('SELECT $1::int * 3 AS v', [i]);
          return r.rows[0]?.v === i * 3;
        }
        case 2: {
          const r = await pool.query<{ s: number }>('SELECT $1::int + $2::int + $3::int AS s', [i, 1, 2]);
          return r.rows[0]?.s === i + 3;
        }
        case 3: {
          const r = await pool.query<{ n: number }>('SELECT length($1::text) + $2::int AS n', [big, i]);
          return r.rows[0]?.n === big.length + i;
        }
        default: {
          const r = await pool.query<{ t: string }>(
            'SELECT $1::text || $2::text || $3::text || $4::text || $5::text AS t',
            ['a', 'b', String(i), 'd', 'e'],
          );
          return r.rows[0]?.t === `ab${i}de`;
        }
      }
    });
    const settled = await Promise.allSettled(jobs);
    const failures = settled.flatMap((s, i) =>
      s.status === 'rejected'
        ? [`#${i}: ${(s.reason as Error).message}`]
        : s.value
          ? []
          : [`#${i}: wrong row`],
    );
    assert.deepEqual(failures, []);
  });

  test('a transaction keeps its turn while other connections queue, and both see consistent data', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS session_t (k int PRIMARY KEY, v int NOT NULL)');
    await pool.query('TRUNCATE session_t');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO session_t (k, v) VALUES ($1, $2)', [1, 10]);
      // Another connection's read queues behind the open transaction instead of running inside it.
      const outside = pool.query<{ n: string }>('SELECT count(*) AS n FROM session_t WHERE v = $1', [10]);
      await client.query('UPDATE session_t SET v = $1 WHERE k = $2', [11, 1]);
      await client.query('COMMIT');
      const n = Number((await outside).rows[0]?.n);
      assert.equal(n, 0, 'the outside read ran after COMMIT and saw v = 11, never the uncommitted 10');
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ v: number }>('SELECT v FROM session_t WHERE k = $1', [1]);
    assert.deepEqual(rows, [{ v: 11 }]);
  });

  test('a connection that dies mid-exchange does not block the others', async () => {
    // A raw client sends Parse + Bind without Sync, then disconnects: its turn must be released.
    const { port } = new URL(db.url);
    const sock = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const startup = pgStartup('postgres', 'postgres');
    sock.write(startup);
    await readUntilReady(sock);
    sock.write(Buffer.concat([pgParse('SELECT $1::int AS held'), pgBind(['7'])]));
    await new Promise((r) => setTimeout(r, 200));
    sock.destroy();
    // A session never released would leave this query queued for ever: fail clearly instead.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('the session is still held by the closed connection')),
        30_000,
      );
    });
    try {
      const r = await Promise.race([pool.query<{ v: number }>('SELECT $1::int + 1 AS v', [41]), stuck]);
      assert.deepEqual(r.rows, [{ v: 42 }]);
    } finally {
      clearTimeout(timer);
    }
  });
});

function pgStartup(user: string, database: string): Buffer {
  const body = Buffer.concat([
    int32(196608),
    Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8'),
  ]);
  return Buffer.concat([int32(body.length + 4), body]);
}

function pgParse(sql: string): Buffer {
  const body = Buffer.concat([Buffer.from(`\0${sql}\0`, 'utf8'), int16(0)]);
  return message('P', body);
}

function pgBind(params: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('\0\0', 'utf8'), int16(0), int16(params.length)];
  for (const p of params) {
    const b = Buffer.from(p, 'utf8');
    parts.push(int32(b.length), b);
  }
  parts.push(int16(0));
  return message('B', Buffer.concat(parts));
}

function message(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(type, 'ascii'), int32(body.length + 4), body]);
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

/** Reads backend messages until ReadyForQuery ('Z'). */
function readUntilReady(sock: import('node:net').Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) break;
        const type = String.fromCharCode(buf[0] as number);
        buf = buf.subarray(1 + len);
        if (type === 'E') {
          sock.off('data', onData);
          reject(new Error('startup refused'));
          return;
        }
        if (type === 'Z') {
          sock.off('data', onData);
          resolve();
          return;
        }
      }
    };
    sock.on('data', onData);
  });
}
