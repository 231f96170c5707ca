/**
 * PSI drift alert through the notification routing, on a real Postgres and a real HTTP receiver:
 * stable data raises nothing; a shifted feature alerts (log, snapshot, metric) and pages the
 * webhook of a plant-wide route once; the same feature still drifting at the next check does not
 * page again (rising edge), nor does a restarted learning loop inside the dedup window (the
 * notifier's durable dedup by `drift:<feature>`); an area-only route does not get plant-wide drift.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Learning } from '../../src/app/learning.ts';
import { baselineOf } from '../../src/app/learning-retrain.ts';
import { Notifier } from '../../src/app/notifier.ts';
import { PgLearningStore } from '../../src/adapters/pg-learning-store.ts';
import { PgEventWriter, silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { PgNotificationStore } from '../../src/adapters/pg-notification-store.ts';
import { createWebhookChannel } from '../../src/adapters/notify-webhook.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/domain/features.ts';
import type { DriftBaseline } from '../../src/domain/learning/drift.ts';
import { createLogger } from '../../src/log.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { Receiver } from '../fixtures/http-receiver.ts';
import { TestClock } from '../fixtures/recommendation-harness.ts';
import { MIN, scored } from './learning-fixture.ts';

const DAY = 86_400_000;
const config = parseConfig({ learning: { driftPsiAlert: 0.25 } });
const equipment = buildEquipmentIndex(toEquipment(config));
const rx = new Receiver();
const clock = new TestClock();
let db: TestDatabase;
let pool: pg.Pool;
let notifier: Notifier;
let baseline: DriftBaseline;

let seed = 1;
const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
const row = (shift: number): Record<string, number> =>
  Object.fromEntries(FEATURE_NAMES.map((n) => [n, (n === 'z_score' ? shift : 0) + rnd() * 2 - 1]));

/** 600 scored events of one pump sensor in the 20 min before now, z_score shifted by `shift`. */
async function write(shift: number): Promise<void> {
  const from = clock.now() - 20 * MIN;
  const rows = Array.from({ length: 600 }, (_, i) => {
    const s = scored({ equipment }, '[default]Utilities/P02/Flow', from + i * 1000, {}, 0.1, false);
    Object.assign(s.features, row(shift));
    return s;
  });
  await new PgEventWriter(pool).writeSilver(rows.map(silverRowOf));
}

function learning(): Learning {
  const l = new Learning({
    store: new PgLearningStore(pool),
    clock,
    logger: createLogger({ level: 'silent' }),
    config: config.learning,
  });
  l.onDriftAlert((a) => notifier.onDriftAlert(a)); // as startLearningLoops wires it
  return l;
}

before(async () => {
  db = await createTestDatabase('sc_learning_drift');
  pool = testPool(db.url, 5);
  await runMigrations(pool);
  await rx.start();
  notifier = new Notifier({
    store: new PgNotificationStore(pool),
    channels: [
      createWebhookChannel({
        id: 'eng',
        type: 'webhook',
        url: `${rx.url}/eng`,
        timeoutMs: 5000,
        source: 'test',
      }),
      createWebhookChannel({
        id: 'area',
        type: 'webhook',
        url: `${rx.url}/area`,
        timeoutMs: 5000,
        source: 'test',
      }),
    ],
    settings: {
      routes: [
        {
          id: 'model-health',
          areas: ['*'],
          minSeverity: 'high',
          kinds: ['drift_alert'],
          channels: ['eng'],
          timeZone: 'UTC',
        },
        {
          id: 'reactors-only',
          areas: ['Reactors'],
          minSeverity: 'low',
          kinds: ['drift_alert'],
          channels: ['area'],
          timeZone: 'UTC',
        },
      ],
      escalation: { levels: [] },
      dedupWindowMinutes: 240,
      pendingAfterMinutes: 10,
      pendingMinSeverity: 'high',
      retry: { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, factor: 2 },
      queueMax: 100,
    },
    clock,
    areaOf: (id) => equipment.equipment.get(id)?.area ?? 'default',
  });
  const ref = Array.from({ length: 3000 }, () => row(0));
  const x = new Float32Array(ref.length * FEATURE_COUNT);
  ref.forEach((r, i) => FEATURE_NAMES.forEach((n, k) => (x[i * FEATURE_COUNT + k] = r[n] as number)));
  baseline = baselineOf(x);
});
after(async () => {
  await notifier.close();
  await rx.stop();
  await pool.end();
  await db.drop();
});

test('a drifting feature pages the routed webhook once, not at every check nor after a restart', async () => {
  const loop = learning();
  await write(0);
  const stable = await loop.checkDrift(baseline, 'v1');
  assert.equal(stable.alerts.length, 0, JSON.stringify(stable.psi));
  await notifier.idle();
  assert.equal(rx.received.length, 0, 'stable data pages nobody');

  clock.advance(2 * DAY); // the stable rows leave the 24 h window
  await write(1.5);
  const shifted = await loop.checkDrift(baseline, 'v1');
  assert.deepEqual(
    shifted.alerts.map((a) => a.feature),
    ['z_score'],
  );
  assert.ok((shifted.psi.z_score as number) >= 0.25);
  await notifier.idle();
  assert.deepEqual(
    rx.received.map((r) => r.path),
    ['/eng'],
    'the plant-wide route pages; the area-only route does not',
  );
  const body = rx.received[0]?.body as {
    kind?: string;
    title?: string;
    severity?: string;
    details?: { feature?: string; psi?: number; modelVersion?: string };
  };
  assert.equal(body.kind, 'drift_alert');
  assert.equal(body.severity, 'high');
  assert.match(body.title ?? '', /z_score/);
  assert.equal(body.details?.feature, 'z_score');
  assert.equal(body.details?.modelVersion, 'v1');
  assert.ok((body.details?.psi ?? 0) >= 0.25);

  // Still drifting five minutes later: logged and counted, not paged again.
  clock.advance(5 * MIN);
  assert.equal((await loop.checkDrift(baseline, 'v1')).alerts.length, 1);
  await notifier.idle();
  assert.equal(rx.received.length, 1, 'one page per feature while it keeps drifting');
  assert.equal(loop.snapshot().driftAlerts, 2, 'both drifting checks are counted');

  // A restarted sidecar forgets the rising edge; the notifier's durable dedup holds the page.
  clock.advance(5 * MIN);
  assert.equal((await learning().checkDrift(baseline, 'v1')).alerts.length, 1);
  await notifier.idle();
  assert.equal(rx.received.length, 1, 'no second page inside the dedup window');
  assert.equal(notifier.stats().duplicates, 1);
  const { rows } = await pool.query<{ kind: string; dedup_key: string; repeat_count: number; area: string }>(
    'SELECT kind, dedup_key, repeat_count, area FROM agentic_hmi.notifications',
  );
  assert.deepEqual(rows, [{ kind: 'drift_alert', dedup_key: 'drift:z_score', repeat_count: 1, area: '*' }]);
  const snaps = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM agentic_hmi.drift_snapshots WHERE alerts <> '[]'::jsonb`,
  );
  assert.equal(Number(snaps.rows[0]?.n), 3);
});
