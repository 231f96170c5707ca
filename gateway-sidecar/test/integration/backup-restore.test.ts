/**
 * Backup and recovery (docs/backup-recovery.md): a database filled through our own code is dumped
 * with pg_dump, restored into an EMPTY database with pg_restore, and the sidecar's start-up steps
 * run against the restore: no migration is applied again, every row is there exactly once, a
 * repeated recommendation updates its existing row, and new rows continue the sequences.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgRecommendationStore } from '../../src/adapters/pg-recommendation-store.ts';
import { PgNotificationStore } from '../../src/adapters/pg-notification-store.ts';
import { runRetention } from '../../src/adapters/pg-retention.ts';
import type { NewRecommendation } from '../../src/ports.ts';

const NOW = Date.parse('2026-07-10T12:00:00Z');
let source: TestDatabase;
let target: TestDatabase;
let srcPool: pg.Pool;
let dstPool: pg.Pool;
const dir = mkdtempSync(join(tmpdir(), 'sc-backup-'));

before(async () => {
  source = await createTestDatabase('sc_backup_src');
  target = await createTestDatabase('sc_backup_dst');
  srcPool = testPool(source.url, 4);
  dstPool = testPool(target.url, 4);
});

after(async () => {
  await srcPool.end();
  await dstPool.end();
  await source.drop();
  await target.drop();
  rmSync(dir, { recursive: true, force: true });
});

const rec = (id: string, eventIds: string[], nowMs: number, window = id): NewRecommendation => ({
  id,
  dedupKey: `REACTOR_01:cooling_degradation:${window}`,
  equipmentId: 'REACTOR_01',
  area: 'Reactors',
  issueType: 'cooling_degradation',
  severity: 'high',
  anomalyScore: 0.9,
  confidence: 0.8,
  text: 'Reduce throughput 20 %',
  explanation: [],
  proposedAction: null,
  anomalyAtMs: nowMs,
  eventIds,
  groupedItems: [],
  nowMs,
});

/** Row count of every table in our schemas, partitions included, keyed by name. */
async function census(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ t: string }>(
    `SELECT schemaname || '.' || tablename AS t FROM pg_tables WHERE schemaname IN ('agentic_hmi', 'mining_operations', 'public') ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { t } of rows)
    out[t] = Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]?.n);
  return out;
}

const pgTool = (tool: string, args: string[]): string =>
  execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('pg_dump -> empty database -> pg_restore: the sidecar resumes with nothing lost or duplicated', async () => {
  // Client tools must be at least the server's major version (pg_dump refuses a newer server).
  const server =
    Number(
      (await srcPool.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]?.v,
    ) / 10_000;
  const client = Number(/(\d+)\.\d+/.exec(pgTool('pg_dump', ['--version']))?.[1]);
  assert.ok(client >= Math.floor(server), `pg_dump ${client} is older than the server ${server}`);

  // 1. Fill the source through our own code.
  await runMigrations(srcPool);
  await runRetention(
    srcPool,
    {
      bronzeDays: 2,
      silverDays: 7,
      aggregatesDays: 400,
      anomalyContextMinutes: 10,
      anomalyContextDays: 90,
      pipelineMetricsDays: 90,
      partitionsAheadDays: 2,
      aggregateLookbackMinutes: 120,
    },
    NOW,
  );
  const store = new PgRecommendationStore(srcPool);
  assert.equal((await store.upsert(rec('rec-a', ['e1', 'e2'], NOW))).outcome, 'inserted');
  assert.equal((await store.upsert(rec('rec-b', ['e3'], NOW + 1000))).outcome, 'inserted');
  const notifications = new PgNotificationStore(srcPool);
  await notifications.create(
    {
      id: 'n-1',
      kind: 'critical_alert',
      dedupKey: 'alert:R:t:emergency',
      subjectId: 'alert-1',
      equipmentId: 'REACTOR_01',
      area: 'Reactors',
      severity: 'critical',
      title: 't',
      body: 'b',
      details: {},
      routeIds: ['r'],
      channelIds: ['hook'],
      createdAt: new Date(NOW).toISOString(),
    },
    [{ channelId: 'hook', action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: NOW }],
  );
  const bronzeSql = `INSERT INTO mining_operations.sensor_stream_bronze
      (event_id, tag_path, equipment_id, sensor_type, sensor_value, quality, source_timestamp, received_timestamp)
    SELECT 'T@' || ms, 'T', 'REACTOR_01', 'temperature', ms / 1e9, 'good', to_timestamp(ms / 1000.0), to_timestamp(ms / 1000.0)
      FROM generate_series($1::bigint, $2::bigint, 1000) AS ms
    ON CONFLICT DO NOTHING`;
  await srcPool.query(bronzeSql, [NOW - 3_600_000, NOW]);
  const before = await census(srcPool);
  assert.equal(before['agentic_hmi.agent_recommendations'], 2);
  assert.ok((before['mining_operations.sensor_stream_bronze_p20260710'] ?? 0) > 3000);

  // 2. Back up and restore into an EMPTY database (no migrations run there).
  const dump = join(dir, 'sidecar.dump');
  pgTool('pg_dump', ['--format=custom', '--no-owner', '--file', dump, source.url]);
  assert.ok(statSync(dump).size > 0);
  assert.equal(
    (
      await dstPool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('agentic_hmi', 'mining_operations')`,
      )
    ).rows[0]?.n,
    0,
  );
  pgTool('pg_restore', ['--no-owner', '--exit-on-error', '--dbname', target.url, dump]);

  // 3. Start-up against the restore: migrations are all recorded, so none is applied again.
  assert.deepEqual(await runMigrations(dstPool), []);
  assert.deepEqual(await census(dstPool), before, 'every table has exactly the rows it had');

  // 4. The sidecar resumes: replays change nothing, repeats update, new rows get new ids.
  const restored = new PgRecommendationStore(dstPool);
  assert.equal(
    (await restored.upsert(rec('rec-a', ['e1', 'e2'], NOW + 5000))).outcome,
    'unchanged',
    'a replay is a no-op',
  );
  const repeat = await restored.upsert(rec('rec-a-again', ['e1', 'e2', 'e4'], NOW + 6000, 'rec-a'));
  assert.equal(repeat.outcome, 'updated', 'the repeat updates the existing row, keyed by dedup_key');
  assert.equal(repeat.outcome === 'updated' ? repeat.recommendation.id : '', 'rec-a');
  assert.equal(repeat.outcome === 'updated' ? repeat.recommendation.occurrenceCount : 0, 3);
  assert.equal((await restored.upsert(rec('rec-c', ['e9'], NOW + 7000))).outcome, 'inserted');
  assert.equal(
    (await dstPool.query<{ n: number }>(`SELECT count(*)::int AS n FROM agentic_hmi.agent_recommendations`))
      .rows[0]?.n,
    3,
  );
  // Sequences were restored too: new audit / change / delivery ids continue after the old ones.
  const audit = await dstPool.query<{ audit_id: string; recommendation_id: string }>(
    `SELECT audit_id, recommendation_id FROM agentic_hmi.recommendation_audit ORDER BY audit_id`,
  );
  assert.equal(audit.rows.at(-1)?.recommendation_id, 'rec-c');
  assert.equal(new Set(audit.rows.map((r) => r.audit_id)).size, audit.rows.length);
  await new PgNotificationStore(dstPool).addDeliveries(
    'n-1',
    [{ channelId: 'pd', action: 'trigger', escalationLevel: 0, state: 'queued', dueAtMs: NOW }],
    NOW,
  );
  const deliveries = await dstPool.query<{ delivery_id: string }>(
    `SELECT delivery_id FROM agentic_hmi.notification_deliveries ORDER BY delivery_id`,
  );
  assert.deepEqual(
    deliveries.rows.map((r) => Number(r.delivery_id)),
    [1, 2],
  );
  // The event sink replaying the last hour after a restore stores nothing twice.
  const replay = await dstPool.query(bronzeSql, [NOW - 3_600_000, NOW]);
  assert.equal(replay.rowCount, 0);
  // The restored queued delivery is still due: the notifier picks it up on its first tick.
  const due = await new PgNotificationStore(dstPool).claimDue(NOW + 1, 60_000, 10);
  assert.deepEqual(due.map((d) => d.delivery.channelId).sort(), ['hook', 'pd']);
});
