/**
 * Critical bypasses let go of the change hub when their owner is done with them. Each
 * `criticalBypass()` adds a change listener to the recommendation service; the scale-out makes one
 * per partition takeover, so without `close()` the listeners (and the pushes merged into every SSE
 * replay) grow with every hand-back. Real parts throughout: the recommendation service on a fresh
 * Postgres database, and in the second test two in-process PartitionedWorkers on the real NATS
 * JetStream (leases, members, feed) with Postgres checkpoints and the shipped ONNX model, moving
 * partitions back and forth several times.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, testPool } from '../fixtures/pg.ts';
import { createScaleRun, until } from '../fixtures/scale-harness.ts';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { buildEquipmentIndex } from '../../src/domain/equipment.ts';
import { CriticalDetector } from '../../src/domain/critical.ts';
import { EventValidator } from '../../src/domain/tag-event.ts';
import { FEATURE_NAMES } from '../../src/domain/features.ts';
import { createLogger } from '../../src/log.ts';
import { systemClock } from '../../src/ports.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import { PgRecommendationStore } from '../../src/adapters/pg-recommendation-store.ts';
import { ReadOnlyTagWriter } from '../../src/adapters/read-only-tag-writer.ts';
import { bronzeRowOf, PgEventWriter, silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { PgPartitionCheckpoints } from '../../src/adapters/pg-checkpoint-store.ts';
import { NatsScale } from '../../src/adapters/nats-jetstream.ts';
import { loadOnnxModelDir, onnxRunnerOptionsOf } from '../../src/adapters/onnx-model-runner.ts';
import { Detector } from '../../src/app/detector.ts';
import {
  createRecommendations,
  recommendationsOptionsFrom,
  type Recommendations,
} from '../../src/app/recommendations.ts';
import { PartitionedWorker } from '../../src/app/partitioned-worker.ts';
import type { CriticalAlertCandidate } from '../../src/domain/critical.ts';
import { detectorOptionsOf, shippedModelDir } from '../../src/main-detection.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
});

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL as 'silent' | undefined) ?? 'silent' });

async function service(pool: pg.Pool, config: ReturnType<typeof parseConfig>): Promise<Recommendations> {
  return createRecommendations({
    store: new PgRecommendationStore(pool),
    writer: new ReadOnlyTagWriter('test: no setpoint writes'),
    equipment: buildEquipmentIndex(toEquipment(config)),
    clock: systemClock,
    logger,
    options: recommendationsOptionsFrom(config),
  });
}

test('closing a critical bypass removes its change listener; close is idempotent and a closed bypass refuses to raise', async () => {
  const db = await createTestDatabase('sc_bypass_close');
  const pool = testPool(db.url, 2);
  cleanup.push(async () => {
    // pool.end() resolves before its sockets closed: the forced drop may still hit one.
    pool.on('error', () => undefined);
    await pool.end();
    await db.drop();
  });
  await runMigrations(pool);
  const recs = await service(pool, parseConfig({}));
  const unsubscribe = recs.subscribe(() => undefined);
  const baseline = recs.listenerCount();
  assert.ok(baseline >= 1, 'the subscriber above is counted');

  const N = 25;
  const bypasses = Array.from({ length: N }, () => recs.criticalBypass(new CriticalDetector()));
  assert.equal(recs.listenerCount(), baseline + N, 'each bypass registers one listener');
  for (const b of bypasses) await b.ready();
  for (const [i, b] of bypasses.entries()) {
    b.close();
    b.close(); // twice: still one removal
    assert.equal(recs.listenerCount(), baseline + N - i - 1);
  }
  assert.equal(recs.listenerCount(), baseline, 'back to the baseline after every bypass closed');
  const alert: CriticalAlertCandidate = {
    id: 'closed-bypass-alert',
    equipmentId: 'PUMP_01',
    sensorType: 'temperature',
    tagPath: '[default]Pumps/P01/Temperature',
    value: 99,
    threshold: 90,
    level: 'emergency',
    message: 'test',
    at: new Date(0).toISOString(),
    sourceTimestampMs: 0,
    receivedTimestampMs: 0,
  };
  await assert.rejects(bypasses[0]!.raise([alert]), /critical bypass is closed/);
  // Other listeners are untouched.
  assert.equal(recs.listenerCount(), baseline);
  unsubscribe();
  assert.equal(recs.listenerCount(), baseline - 1);
  await recs.idle();
});

test(
  'partition takeovers and hand-backs between two workers leave the listener count at the baseline',
  { timeout: 200_000 },
  async () => {
    const db = await createTestDatabase('sc_bypass_scale');
    const pool = testPool(db.url, 6);
    await runMigrations(pool);
    const PARTITIONS = 4;
    const run = await createScaleRun(db.url, { equipment: 4, partitions: PARTITIONS, batchSize: 20 });
    const config = parseConfig(run.config);
    const n = config.source.nats;
    const runner = await loadOnnxModelDir(
      config.ensemble.modelDir ?? shippedModelDir(),
      FEATURE_NAMES,
      onnxRunnerOptionsOf(config.ensemble),
    );
    const recs = await service(pool, config);
    const index = buildEquipmentIndex(toEquipment(config));
    const writer = new PgEventWriter(pool);
    const opened: { worker: PartitionedWorker; nats: NatsScale }[] = [];
    cleanup.push(async () => {
      for (const o of opened) {
        await o.worker.stop().catch(() => undefined);
        await o.nats.close();
      }
      await run.nats.destroy();
      await run.nats.close();
      await runner.close();
      // pool.end() resolves before its sockets closed: the forced drop may still hit one.
      pool.on('error', () => undefined);
      await pool.end();
      await db.drop();
    });

    let takeovers = 0;
    const startWorker = async (instanceId: string): Promise<PartitionedWorker> => {
      const nats = await NatsScale.open({
        url: n.url,
        stream: n.stream,
        subjectPrefix: n.subjectPrefix,
        leaseBucket: n.leaseBucket,
        leaseTtlMs: config.scale.leaseTtlMs,
        replicas: 1,
        ackWaitMs: 30_000,
      });
      const worker = new PartitionedWorker({
        instanceId,
        partitions: PARTITIONS,
        feed: nats,
        leases: nats,
        checkpoints: new PgPartitionCheckpoints(pool, n.stream, instanceId),
        newValidator: () => new EventValidator(index),
        newDetector: () => new Detector(runner, { ...detectorOptionsOf(config), batchMaxWaitMs: 0 }),
        newCritical: () => {
          takeovers++;
          const latches = new CriticalDetector();
          const bypass = recs.criticalBypass(latches);
          return { bypass, latches, close: () => bypass.close() };
        },
        sink: {
          write: async (bronze, silver) => {
            await writer.writeBronze(bronze.map((r) => bronzeRowOf(r)));
            await writer.writeSilver(silver.map((s) => silverRowOf(s)));
          },
        },
        recommendations: recs,
        logger,
        batchSize: 20,
        fetchWaitMs: 1_000, // the JetStream minimum
        leaseRenewMs: 150,
        checkpointEveryMs: 0,
      });
      opened.push({ worker, nats });
      await worker.start();
      return worker;
    };

    const baseline = recs.listenerCount();
    const a = await startWorker('a');
    await until(() => a.owned().length === PARTITIONS, 'worker a to own every partition', 30_000);
    // A partition is owned from its lease on; its bypass is made once its checkpoint was read.
    await until(() => takeovers === PARTITIONS, 'the four takeovers to build their parts', 30_000);
    assert.equal(recs.listenerCount(), baseline + PARTITIONS, 'one listener per owned partition');

    const ROUNDS = 3;
    for (let round = 1; round <= ROUNDS; round++) {
      // A second member joins: a hands back half of its partitions and b takes them over.
      const b = await startWorker(`b${round}`);
      await until(
        () => a.owned().length === PARTITIONS / 2 && b.owned().length === PARTITIONS / 2,
        `round ${round}: the partitions to be split`,
        30_000,
      );
      await until(
        () => recs.listenerCount() === baseline + PARTITIONS,
        `round ${round}: the handed-back bypasses to be closed`,
        30_000,
      );
      // b leaves: its bypasses are closed by stop(), a takes the partitions over again.
      await b.stop();
      assert.equal(
        recs.listenerCount(),
        baseline + PARTITIONS / 2,
        `round ${round}: b's bypasses closed by stop()`,
      );
      await until(
        () => a.owned().length === PARTITIONS,
        `round ${round}: worker a to take every partition back`,
        30_000,
      );
      await until(
        () => recs.listenerCount() === baseline + PARTITIONS,
        `round ${round}: a's new bypasses to be open`,
        30_000,
      );
    }
    await a.stop();
    // 4 at the start, then per round 2 taken by b and 2 taken back by a.
    assert.equal(takeovers, PARTITIONS + ROUNDS * PARTITIONS);
    assert.equal(
      recs.listenerCount(),
      baseline,
      `back to the baseline after ${takeovers} takeovers and their hand-backs`,
    );
    await recs.idle();
  },
);
