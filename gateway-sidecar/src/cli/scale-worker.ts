/**
 * One scale-out worker process (docs/scale-out.md):
 *   CONFIG_FILE=site.json tsx src/cli/scale-worker.ts
 * Reads `source.nats.*`, `scale.*`, `database.*` and the equipment map from the configuration,
 * joins the partition leases on NATS JetStream and scores its share of the partitions into
 * Postgres / Lakebase (every bronze and silver row, or with `scale.writeMode: aggregates` the
 * 1-minute aggregates plus the silver rows of anomalies and their context); checkpoints (stream sequence + partition state snapshot) go to Postgres
 * (migration 071). Prints JSON lines on stdout: one per committed batch
 * (`{"partition":n,"processed":n,"rejected":n}`), one per saved checkpoint
 * (`{"checkpoint":{"partition":n,"seq":n,"stateBytes":n}}`), one per delivery hole found at a
 * takeover (`{"hole":{"partition":n,"from":n,"to":n}}`, also an error log line and a row in
 * agentic_hmi.scale_delivery_holes), one per restored partition state
 * (`{"restored":{"partition":n,"seq":n,"stateBytes":n}}`), one per unusable snapshot
 * (`{"restoreFailed":{"partition":n,"message":"..."}}`) and
 * `{"ready":true}` once it runs; SIGTERM or SIGINT drains the batches in flight, checkpoints and
 * hands the leases back.
 */
import { hostname } from 'node:os';
import { loadConfig, toEquipment } from '../config.ts';
import { createLogger } from '../log.ts';
import { systemClock } from '../ports.ts';
import { buildEquipmentIndex } from '../domain/equipment.ts';
import { EventValidator } from '../domain/tag-event.ts';
import { CriticalDetector } from '../domain/critical.ts';
import { FEATURE_NAMES } from '../domain/features.ts';
import { openDatabase } from '../adapters/db.ts';
import { bronzeRowOf, PgEventWriter, silverRowOf } from '../adapters/pg-event-sink.ts';
import { PgRecommendationStore } from '../adapters/pg-recommendation-store.ts';
import { ReadOnlyTagWriter } from '../adapters/read-only-tag-writer.ts';
import { loadOnnxModelDir, onnxRunnerOptionsOf } from '../adapters/onnx-model-runner.ts';
import { NatsScale } from '../adapters/nats-jetstream.ts';
import { PgPartitionCheckpoints } from '../adapters/pg-checkpoint-store.ts';
import { ScaleStatus, serveScaleStatus } from '../adapters/scale-status.ts';
import { upsertMinuteAggregates } from '../adapters/pg-minute-aggregates.ts';
import { Detector } from '../app/detector.ts';
import { createRecommendations, recommendationsOptionsFrom } from '../app/recommendations.ts';
import { PartitionedWorker } from '../app/partitioned-worker.ts';
import type { CriticalBypass } from '../app/ingest.ts';
import { detectorOptionsOf, shippedModelDir } from '../main-detection.ts';

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}
const logger = createLogger({ level: config.logLevel, name: 'scale-worker' });
const n = config.source.nats;
const instanceId = config.scale.instanceId ?? `${hostname()}-${process.pid}`;
const index = buildEquipmentIndex(toEquipment(config));
const db = await openDatabase(config, logger, { applicationName: `aimon-scale-${instanceId}` });
// As the sidecar (main-detection.ts): the ONNX session runs off the calling thread per
// `ensemble.onnx*`, so a partition's model run does not stall the other partitions' loops.
const runner = await loadOnnxModelDir(
  config.ensemble.modelDir ?? shippedModelDir(),
  FEATURE_NAMES,
  onnxRunnerOptionsOf(config.ensemble),
);
const writer = new PgEventWriter(db.pool);
const recs = await createRecommendations({
  store: new PgRecommendationStore(db.pool),
  writer: new ReadOnlyTagWriter('a scale-out worker does not write setpoints'),
  equipment: index,
  clock: systemClock,
  logger,
  options: recommendationsOptionsFrom(config),
});
const nats = await NatsScale.open({
  url: n.url,
  stream: n.stream,
  subjectPrefix: n.subjectPrefix,
  leaseBucket: n.leaseBucket,
  leaseTtlMs: config.scale.leaseTtlMs,
  replicas: n.replicas,
  ackWaitMs: n.ackWaitMs,
});

const out = (line: unknown): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
// Reads the worker lazily (at scrape time), once it exists.
const status = new ScaleStatus(instanceId, () => worker.owned());
const worker = new PartitionedWorker({
  instanceId,
  partitions: config.scale.partitions,
  feed: nats,
  leases: nats,
  checkpoints: new PgPartitionCheckpoints(db.pool, n.stream, instanceId),
  newValidator: () => new EventValidator(index),
  newDetector: () =>
    new Detector(runner, {
      ...detectorOptionsOf(config),
      // One partition loop awaits each call: waiting for more rows would only add latency.
      batchMaxWaitMs: 0,
    }),
  newCritical: () => {
    const latches = new CriticalDetector();
    const bypass = recs.criticalBypass(latches);
    // Closed by the worker when the partition's ownership ends: the listener goes with it.
    return { bypass: bypass as CriticalBypass, latches, close: () => bypass.close() };
  },
  sink: {
    // One statement per table: a batch is either stored or retried whole (rows keyed by event id).
    write: async (bronze, silver) => {
      await writer.writeBronze(bronze.map((r) => bronzeRowOf(r)));
      await writer.writeSilver(silver.map((s) => silverRowOf(s)));
    },
  },
  ...(config.scale.writeMode === 'aggregates'
    ? {
        aggregateOnly: {
          contextMs: config.scale.anomalyContextMs,
          write: async (minutes, silver) => {
            await upsertMinuteAggregates(db.pool, minutes);
            await writer.writeSilver(silver.map((s) => silverRowOf(s)));
          },
        },
      }
    : {}),
  recommendations: recs,
  logger,
  batchSize: config.scale.batchSize,
  fetchWaitMs: config.scale.fetchWaitMs,
  leaseRenewMs: Math.max(100, Math.floor(config.scale.leaseTtlMs / 3)),
  checkpointEveryMs: config.scale.checkpointEveryMs,
  checkpointFullEvery: config.scale.checkpointFullEvery,
  checkpointChainMaxRatio: config.scale.checkpointChainMaxRatio,
  onCommitted: (partition, processed, rejected) => {
    status.committed(partition, processed, rejected);
    out({ partition, processed, rejected });
  },
  onCheckpoint: (partition, seq, stateBytes, kind) => {
    status.checkpoint(partition, stateBytes, kind);
    out({ checkpoint: { partition, seq, stateBytes, kind } });
  },
  onHole: (partition, hole) => {
    status.hole(partition, hole, new Date(systemClock.now()));
    out({ hole: { partition, from: hole.from, to: hole.to } });
  },
  onRestored: (partition, seq, stateBytes) => {
    status.restored(partition);
    out({ restored: { partition, seq, stateBytes } });
  },
  onRestoreFailed: (partition, err) => {
    status.restoreFailed(partition, err, new Date(systemClock.now()));
    out({ restoreFailed: { partition, message: err.message } });
  },
});

let stopping = false;
const shutdown = (signal: string): void => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'scale worker stopping');
  void (async () => {
    await worker.stop();
    await http?.close();
    await recs.idle();
    await nats.close();
    await runner.close();
    await db.close();
    process.exit(0);
  })().catch((err: unknown) => {
    logger.error({ err }, 'scale worker stop failed');
    process.exit(1);
  });
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
const http =
  config.scale.httpPort === undefined
    ? undefined
    : await serveScaleStatus(status, config.scale.httpHost, config.scale.httpPort);
await worker.start();
logger.info(
  { instanceId, partitions: config.scale.partitions, httpPort: http?.port },
  'scale worker running',
);
out({ ready: true, instanceId, ...(http === undefined ? {} : { httpPort: http.port }) });
