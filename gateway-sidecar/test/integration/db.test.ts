import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config.ts';
import { openDatabase, redactUrl } from '../../src/adapters/db.ts';
import { eventBatcherOptionsFrom } from '../../src/adapters/event-batcher.ts';
import { resilientSinkOptionsFrom } from '../../src/adapters/resilient-sink.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase } from '../fixtures/pg.ts';

const logger = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'sc-db-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('without a database url, openDatabase starts the embedded server and migrates it', async () => {
  const config = parseConfig({ dataDir: dir });
  const db = await openDatabase(config, logger);
  try {
    assert.equal(db.embedded, true);
    assert.ok(db.migrationsApplied.includes('001_initial_schema.sql'));
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'mining_operations'`,
    );
    assert.ok(Number(rows[0]?.n) >= 6);
  } finally {
    await db.close();
    await db.close();
  }
});

test('with a database url, openDatabase uses that server and applies migrations once', async () => {
  const testDb = await createTestDatabase('sc_db');
  try {
    const config = parseConfig({ dataDir: dir, database: { url: testDb.url } });
    const first = await openDatabase(config, logger);
    assert.equal(first.embedded, false);
    assert.ok(first.migrationsApplied.length >= 1);
    await first.close();
    const second = await openDatabase(config, logger);
    assert.deepEqual(second.migrationsApplied, []);
    await second.close();
  } finally {
    await testDb.drop();
  }
});

test('an unreachable server fails with SC_ERR_DB_CONNECT and a redacted url', async () => {
  const config = parseConfig({
    dataDir: dir,
    database: { url: 'postgres://someone:s3cret-token@127.0.0.1:1/nodb', connectionTimeoutMs: 2000 },
  });
  await assert.rejects(openDatabase(config, logger), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SC_ERR_DB_CONNECT');
    assert.ok(!err.message.includes('s3cret-token'), 'the token must not appear in the message');
    assert.match(err.message, /127\.0\.0\.1:1/);
    return true;
  });
  assert.equal(
    redactUrl('postgres://u:tok@h:5432/d?sslmode=require'),
    'postgres://u:***@h:5432/d?sslmode=require',
  );
});

test('sink options come from config: spool under <dataDir>/spool, bounds and batch sizes', () => {
  const config = parseConfig({
    dataDir: dir,
    database: { spoolMaxBytes: 2 * 1024 * 1024, batchRows: 50, flushIntervalMs: 10 },
  });
  const o = resilientSinkOptionsFrom(config, logger);
  assert.equal(o.dir, join(dir, 'spool'));
  assert.equal(o.maxBytes, 2 * 1024 * 1024);
  assert.equal(o.retryMaxMs, 30_000);
  assert.deepEqual(eventBatcherOptionsFrom(config), { batchRows: 50, flushIntervalMs: 10 });
});
