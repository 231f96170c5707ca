/**
 * Drift alerts through the composition root: the real sidecar process (src/main.ts) on a real
 * Postgres, with notifications routed plant-wide to a real HTTP receiver for `drift_alert`. The
 * registry's active version (the shipped model, so no hot swap) carries a training `driftBaseline`;
 * the last 20 min of silver rows have `z_score` shifted. startLearningLoops' first check must page
 * the receiver once naming the feature and its PSI, /metrics must show that PSI above
 * `learning.driftPsiAlert`, and the following checks (still drifting) must not page again.
 * learning-drift.test.ts covers the same routing with Learning and Notifier wired by hand; this
 * file breaks if main.ts / main-learning.ts stop passing drift alerts to the notifications.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { baselineOf } from '../../src/app/learning-retrain.ts';
import { PgEventWriter, silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { PgModelRegistry } from '../../src/adapters/pg-model-registry.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/domain/features.ts';
import { shippedModelDir } from '../../src/main-detection.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { Receiver } from '../fixtures/http-receiver.ts';
import { startSidecar, writeConfig, type SidecarProcess } from '../fixtures/sidecar-process.ts';
import { MIN, scored } from './learning-fixture.ts';

const PSI_ALERT = 0.3;
const CHECK_INTERVAL_MS = 1_500;
const SHIFTED_ROWS = 600;
const TOKEN = 'drift-viewer-token-0123456789';

let seed = 7;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const featureRow = (zShift: number): Record<string, number> =>
  Object.fromEntries(FEATURE_NAMES.map((n) => [n, (n === 'z_score' ? zShift : 0) + rnd() * 2 - 1]));

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The value of one sample line (`name` or `name{labels}`) of a Prometheus text page. */
function sample(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('drift alerts wired by main.ts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drift-process-'));
  const rx = new Receiver();
  let db: TestDatabase;
  let pool: pg.Pool;
  let sidecar: SidecarProcess | undefined;
  let modelVersion = '';

  before(async () => {
    db = await createTestDatabase('sc_drift_process');
    pool = testPool(db.url, 3);
    await runMigrations(pool);
    await rx.start();

    // The active version is the shipped model (what the process loads), so syncActive does not
    // hot-swap; its registry metrics carry the training baseline, as a retrain writes them.
    const modelDir = shippedModelDir();
    const model = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8')) as {
      name: string;
      version: string;
      sha256: string;
    };
    modelVersion = `${model.name}@${model.version}`;
    const reference = Array.from({ length: 3000 }, () => featureRow(0));
    const x = new Float32Array(reference.length * FEATURE_COUNT);
    reference.forEach((r, i) => FEATURE_NAMES.forEach((n, k) => (x[i * FEATURE_COUNT + k] = r[n] as number)));
    const now = Date.now();
    await new PgModelRegistry(pool).register(
      {
        version: model.version,
        name: model.name,
        createdAtMs: now - 60 * MIN,
        trainingFromMs: now - 7 * 24 * 60 * MIN,
        trainingToMs: now - 60 * MIN,
        metrics: { driftBaseline: baselineOf(x) },
        gate: null,
        status: 'active',
        path: modelDir,
        sha256: model.sha256,
      },
      now - 60 * MIN,
    );

    // Recent scored events with z_score shifted by 1.5 (the reference spans -1..1).
    const equipment = buildEquipmentIndex(toEquipment(parseConfig({})));
    const from = now - 20 * MIN;
    const rows = Array.from({ length: SHIFTED_ROWS }, (_, i) => {
      const s = scored({ equipment }, '[default]Utilities/P02/Flow', from + i * 1000, {}, 0.1, false);
      Object.assign(s.features, featureRow(1.5));
      return s;
    });
    await new PgEventWriter(pool).writeSilver(rows.map(silverRowOf));
  });

  after(async () => {
    await sidecar?.kill('SIGKILL');
    await rx.stop();
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a drifting feature pages the plant-wide route once and shows on /metrics', async () => {
    // The process needs a source; a short replay dated in January writes its silver rows far
    // outside the drift check's 24 h window, so only the shifted rows above are compared.
    const t0 = Date.UTC(2026, 0, 7, 9, 0, 0);
    const csv = join(dir, 'quiet.csv');
    const lines = ['timestamp,Reactors/R01/Temperature'];
    for (let i = 0; i < 30; i++) lines.push(`${new Date(t0 + i * 1000).toISOString()},70`);
    writeFileSync(csv, lines.join('\n'));

    sidecar = await startSidecar({
      configFile: writeConfig(
        {
          dataDir: join(dir, 'data'),
          database: { url: db.url },
          source: { kind: 'replay', replay: { file: csv, pace: 'fast', tagPrefix: '[default]' } },
          auth: { tokens: [{ token: TOKEN, user: 'v', roles: ['viewer'] }] },
          learning: { checkIntervalMs: CHECK_INTERVAL_MS, driftPsiAlert: PSI_ALERT, retrainEnabled: false },
          notifications: {
            enabled: true,
            channels: [{ id: 'model-hook', type: 'webhook', url: `${rx.url}/drift` }],
            routes: [
              {
                id: 'model-health',
                areas: ['*'],
                minSeverity: 'high',
                kinds: ['drift_alert'],
                channels: ['model-hook'],
              },
            ],
            tickMs: 200,
          },
        },
        dir,
      ),
    });
    const s = sidecar;

    const page = await until('the drift page', async () => rx.received[0]);
    assert.equal(page.path, '/drift');
    const body = page.body as {
      kind?: string;
      severity?: string;
      title?: string;
      details?: { feature?: string; psi?: number; threshold?: number; modelVersion?: string; rows?: number };
    };
    assert.equal(body.kind, 'drift_alert');
    assert.equal(body.severity, 'high');
    assert.match(body.title ?? '', /z_score/);
    assert.equal(body.details?.feature, 'z_score');
    const pagedPsi = body.details?.psi ?? 0;
    assert.ok(pagedPsi >= PSI_ALERT, `paged PSI ${pagedPsi}`);
    assert.equal(body.details?.threshold, PSI_ALERT, 'learning.driftPsiAlert from the config file');
    assert.equal(body.details?.modelVersion, modelVersion, 'the served (registry-active) version');
    assert.equal(body.details?.rows, SHIFTED_ROWS, 'only the recent shifted rows were compared');

    // Two more checks while z_score keeps drifting (the counter counts every drifting check).
    const metrics = await until('a third drifting check', async () => {
      const text = await (await fetch(`${s.baseUrl}/metrics`)).text();
      return (sample(text, 'sidecar_drift_alerts_total') ?? 0) >= 3 ? text : undefined;
    });
    const zPsi = sample(metrics, 'sidecar_feature_drift_psi{feature="z_score"}');
    assert.ok(zPsi !== undefined && zPsi >= PSI_ALERT, `z_score PSI on /metrics: ${zPsi}`);
    assert.ok(Math.abs(zPsi - pagedPsi) < 1e-9, 'the same rows give the paged PSI at every check');
    for (const name of FEATURE_NAMES.filter((n) => n !== 'z_score')) {
      const v = sample(metrics, `sidecar_feature_drift_psi{feature="${name}"}`);
      assert.ok(v !== undefined && v < PSI_ALERT, `${name} PSI ${v} stays below the line`);
    }
    // The later checks reach no one: the learning loop notifies on the rising edge only, so the
    // notifier saw one trigger (no duplicate to dedup) and sent one delivery.
    assert.equal(rx.received.length, 1, 'one page while the feature keeps drifting');
    assert.equal(sample(metrics, 'sidecar_notifications_raised_total'), 1);
    assert.equal(sample(metrics, 'sidecar_notifications_duplicates_total'), 0);
    assert.equal(sample(metrics, 'sidecar_notifications_queued'), 0);
    assert.equal(sample(metrics, 'sidecar_notification_deliveries_sent_total'), 1);
    // The child's stdout may reach us after its /metrics answer: wait for the lines, not assert.
    await until('SC_WRN_004 logged by each drifting check', async () =>
      s.logs.filter((l) => l.code === 'SC_WRN_004').length >= 3 ? true : undefined,
    );

    const listed = await fetch(`${s.baseUrl}/api/notifications`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(listed.status, 200);
    const items = ((await listed.json()) as { items: { kind: string }[] }).items;
    assert.deepEqual(
      items.map((i) => i.kind),
      ['drift_alert'],
    );

    const exit = await s.kill('SIGTERM');
    assert.equal(exit.code, 0);
    assert.ok(
      s.logs.some((l) => l.msg === 'stopped'),
      'the drain finishes',
    );
  });
});
