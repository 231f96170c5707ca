/**
 * The sidecar stack the e2e bench and the soak both drive: recommendations on Postgres with the
 * simulator writer, the detection stage from the config, the spool-aware sink with its batcher,
 * and an IngestPipeline over them. Each caller brings its own source, critical bypass and
 * observer; `close()` drains and closes the stack (after the caller stopped its pipeline).
 */
import { join } from 'node:path';
import type pg from 'pg';
import { EventBatcher, registerEventKinds } from '../src/adapters/event-batcher.ts';
import { PgCheckpointStore } from '../src/adapters/pg-checkpoint-store.ts';
import { PgEventWriter } from '../src/adapters/pg-event-sink.ts';
import { PgRecommendationStore } from '../src/adapters/pg-recommendation-store.ts';
import { ResilientSink } from '../src/adapters/resilient-sink.ts';
import { SimulatorTagWriter } from '../src/adapters/simulator-tag-writer.ts';
import { IngestPipeline, type IngestDeps } from '../src/app/ingest.ts';
import { createRecommendations, recommendationsOptionsFrom } from '../src/app/recommendations.ts';
import { toEquipment, type Config as SidecarConfig } from '../src/config.ts';
import { buildEquipmentIndex, type EquipmentIndex } from '../src/domain/equipment.ts';
import type { PlantSimulator } from '../src/domain/plant-simulator.ts';
import { createLogger, type Logger } from '../src/log.ts';
import { createDetection } from '../src/main-detection.ts';
import { systemClock } from '../src/ports.ts';

export interface BenchStack {
  readonly index: EquipmentIndex;
  readonly logger: Logger;
  readonly store: PgRecommendationStore;
  readonly recs: Awaited<ReturnType<typeof createRecommendations>>;
  /** An IngestPipeline over this stack with the caller's source, validator, bypass and observer. */
  ingest(parts: Pick<IngestDeps, 'source' | 'validator' | 'critical' | 'observer'>): IngestPipeline;
  /** Waits for the recommendation work in flight, then closes batcher, sink and detection. */
  close(): Promise<void>;
}

export async function openBenchStack(
  pool: pg.Pool,
  config: SidecarConfig,
  plant: PlantSimulator,
  dataDir: string,
): Promise<BenchStack> {
  const index = buildEquipmentIndex(toEquipment(config));
  const logger = createLogger({ level: 'warn' });
  const store = new PgRecommendationStore(pool);
  const recs = await createRecommendations({
    store,
    writer: new SimulatorTagWriter(plant),
    equipment: index,
    clock: systemClock,
    logger,
    options: recommendationsOptionsFrom(config),
  });
  const detection = await createDetection(config, index, logger);
  const sink = new ResilientSink({ dir: join(dataDir, 'spool'), logger });
  registerEventKinds(sink, new PgEventWriter(pool));
  sink.start();
  const batcher = new EventBatcher(sink);
  return {
    index,
    logger,
    store,
    recs,
    ingest: (parts) =>
      new IngestPipeline({
        ...parts,
        detector: detection.detector,
        sink: { write: (bronze, silver) => batcher.writeReadings(bronze, silver) },
        recommendations: recs,
        modes: recs,
        setpoints: recs,
        checkpoints: new PgCheckpointStore(pool),
        clock: systemClock,
        logger,
      }),
    close: async () => {
      await recs.idle();
      await batcher.close();
      await sink.close();
      await detection.close();
    },
  };
}
