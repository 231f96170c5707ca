/** `npm run retrain` registry subcommands against a real Postgres, and the cron schedule. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgModelRegistry } from '../../src/adapters/pg-model-registry.ts';
import { startRetrainSchedule } from '../../src/app/learning-schedule.ts';
import { createLogger } from '../../src/log.ts';
import { systemClock } from '../../src/ports.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';

const CLI = fileURLToPath(new URL('../../src/cli/retrain.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
let db: TestDatabase;
let pool: pg.Pool;

before(async () => {
  db = await createTestDatabase('sc_learning_cli');
  pool = testPool(db.url, 3);
  await runMigrations(pool);
  const reg = new PgModelRegistry(pool);
  const base = {
    name: 'if-rf-ensemble',
    trainingFromMs: null,
    trainingToMs: null,
    metrics: {},
    gate: null,
    sha256: 'x'.repeat(64),
  };
  await reg.register(
    { ...base, version: '1.0.0', createdAtMs: 1_000, path: '/m/1.0.0', status: 'active' },
    1_000,
  );
  await reg.register(
    { ...base, version: 'r2', createdAtMs: 2_000, path: '/m/r2', status: 'candidate' },
    2_000,
  );
});
after(async () => {
  await pool.end();
  await db.drop();
});

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [CLI, ...args],
      { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'error' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test('--list, --promote, --rollback and bad usage', async () => {
  const list = await run(['--list']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(
    (JSON.parse(list.stdout) as { version: string; status: string }[]).map((e) => [e.version, e.status]),
    [
      ['r2', 'candidate'],
      ['1.0.0', 'active'],
    ],
  );
  const promoted = await run(['--promote', 'r2']);
  assert.equal(promoted.code, 0, promoted.stderr);
  assert.equal((JSON.parse(promoted.stdout) as { status: string }).status, 'active');
  assert.equal((await new PgModelRegistry(pool).active())?.version, 'r2');
  const back = await run(['--rollback']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((JSON.parse(back.stdout) as { version: string }).version, '1.0.0');
  const unknown = await run(['--promote', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /SC_ERR_MODEL_REGISTRY: cannot promote: model version 'nope' is not in the registry/,
  );
  const bad = await run(['--list', '--rollback']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /choose one of/);
});

test('the schedule fires on its cron expression and never overlaps runs', async () => {
  let started = 0;
  let release: () => void = () => undefined;
  const firstRun = new Promise<void>((r) => (release = r));
  const s = startRetrainSchedule({
    cron: '* * * * * *', // every second
    clock: systemClock,
    logger: createLogger({ level: 'silent' }),
    run: async () => {
      started++;
      await new Promise<void>((r) => setTimeout(r, 2_500)); // longer than the period
      release();
    },
  });
  const keepAlive = setInterval(() => undefined, 500); // the schedule's own timer is unref'd
  await firstRun;
  clearInterval(keepAlive);
  assert.equal(started, 1, 'ticks during a run are skipped');
  assert.ok(s.nextAtMs() > Date.now() - 1_000);
  s.stop();
  assert.throws(
    () =>
      startRetrainSchedule({
        cron: 'every sunday',
        clock: systemClock,
        logger: createLogger({ level: 'silent' }),
        run: async () => undefined,
      }),
    /learning.retrainCron 'every sunday' is not a cron expression/,
  );
});
