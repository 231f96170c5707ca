/**
 * The learning tests' rig on a real Postgres: the real recommendation service (PgRecommendationStore,
 * SimulatorTagWriter on a PlantSimulator) with Learning.confidence wired in, the learning store, the
 * model registry and the event writer for scored rows.
 */
import pg from 'pg';
import { parseConfig, toEquipment } from '../../src/config.ts';
import { buildEquipmentIndex, type EquipmentIndex } from '../../src/domain/equipment.ts';
import type { ScoredReading } from '../../src/domain/detection.ts';
import { FEATURE_NAMES } from '../../src/domain/features.ts';
import { PlantSimulator } from '../../src/domain/plant-simulator.ts';
import { createLogger } from '../../src/log.ts';
import { PgRecommendationStore } from '../../src/adapters/pg-recommendation-store.ts';
import { SimulatorTagWriter } from '../../src/adapters/simulator-tag-writer.ts';
import { PgEventWriter, silverRowOf } from '../../src/adapters/pg-event-sink.ts';
import { PgLearningStore } from '../../src/adapters/pg-learning-store.ts';
import { PgModelRegistry } from '../../src/adapters/pg-model-registry.ts';
import { runMigrations } from '../../src/adapters/pg-migrations.ts';
import {
  createRecommendations,
  recommendationsOptionsFrom,
  type Recommendations,
} from '../../src/app/recommendations.ts';
import { Learning } from '../../src/app/learning.ts';
import type { Actor, Recommendation } from '../../src/app/recommendation-service.ts';
import type { LearningConfig } from '../../src/config-learning.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../fixtures/pg.ts';
import { TestClock, T0 } from '../fixtures/recommendation-harness.ts';

export { T0 };
export const MIN = 60_000;
export const ANOMALOUS: Readonly<Record<string, number>> = {
  z_score: 6,
  ewma_gap: 4,
  position_in_range: 0.98,
  level_shift: 4,
  volatility_ratio: 3,
  step_z: 6,
  equipment_deviation: 5,
};
export const NORMALISH: Readonly<Record<string, number>> = {
  z_score: 0.4,
  ewma_gap: 0.2,
  position_in_range: 0.5,
  level_shift: 0.1,
  volatility_ratio: 1,
  step_z: 0.3,
  equipment_deviation: 0.3,
};

export interface Rig {
  readonly db: TestDatabase;
  readonly pool: pg.Pool;
  readonly config: ReturnType<typeof parseConfig>;
  readonly learningConfig: LearningConfig;
  readonly equipment: EquipmentIndex;
  readonly plant: PlantSimulator;
  readonly clock: TestClock;
  readonly service: Recommendations;
  readonly learning: Learning;
  readonly store: PgLearningStore;
  readonly registry: PgModelRegistry;
  readonly events: PgEventWriter;
  close(): Promise<void>;
}

export async function buildRig(learningOver: Partial<LearningConfig> = {}): Promise<Rig> {
  const db = await createTestDatabase('sc_learning');
  const pool = testPool(db.url, 6);
  await runMigrations(pool);
  const config = parseConfig({ learning: learningOver });
  const equipment = buildEquipmentIndex(toEquipment(config));
  const plant = new PlantSimulator({ seed: 1, tickMs: 1000, startMs: T0, faultEveryMinutes: 0 });
  const clock = new TestClock();
  const logger = createLogger({ level: 'silent' });
  const store = new PgLearningStore(pool);
  // The revert hook needs the service, which needs the learning's confidence: tie the knot late.
  const ref: { service?: Recommendations } = {};
  const learning = new Learning({
    store,
    clock,
    logger,
    config: config.learning,
    revert: (id, note) =>
      (ref.service as Recommendations).revert(
        id,
        { user: 'learning', roles: ['engineer'], via: 'token' },
        note,
      ),
  });
  await learning.refreshPatterns();
  const service = await createRecommendations({
    store: new PgRecommendationStore(pool),
    writer: new SimulatorTagWriter(plant),
    equipment,
    clock,
    logger,
    options: recommendationsOptionsFrom(config),
    confidence: (e, i, base) => learning.confidence(e, i, base),
  });
  ref.service = service;
  // As main-learning.ts does: outcome changes reach the service's live subscribers (SSE).
  learning.onChange((c) => service.announce(c));
  return {
    db,
    pool,
    config,
    learningConfig: config.learning,
    equipment,
    plant,
    clock,
    service,
    learning,
    store,
    registry: new PgModelRegistry(pool),
    events: new PgEventWriter(pool),
    async close() {
      await service.idle();
      await pool.end();
      await db.drop();
    },
  };
}

/** A scored reading of a configured sensor with a full feature row. */
export function scored(
  rig: Pick<Rig, 'equipment'>,
  tagPath: string,
  tsMs: number,
  features: Readonly<Record<string, number>>,
  score: number,
  isAnomaly = true,
): ScoredReading {
  const tag = rig.equipment.sensorsByTag.get(tagPath);
  if (tag === undefined) throw new Error(`not a sensor: ${tagPath}`);
  const full: Record<string, number> = {};
  for (const n of FEATURE_NAMES) full[n] = features[n] ?? 0;
  const value = isAnomaly ? 84 : 60;
  full.value = value;
  return {
    reading: {
      kind: 'sensor',
      tag,
      value,
      quality: 'good',
      sourceTimestampMs: tsMs,
      receivedTimestampMs: tsMs + 3,
    },
    eventId: `${tagPath}@${tsMs}`,
    features: full,
    score,
    ifScore: score,
    rfScore: score,
    isAnomaly,
    severity: isAnomaly ? 'high' : 'low',
    modelVersion: 'test-1',
    explanation: isAnomaly
      ? [{ feature: 'z_score', sensorType: tag.sensorType, tagPath, value: full.z_score ?? 0, weight: 0.6 }]
      : [],
  };
}

/** Writes the events to silver (as the sink does) and hands them to the service (as ingest does). */
export async function ingest(rig: Rig, events: readonly ScoredReading[]): Promise<number> {
  await rig.events.writeSilver(events.map(silverRowOf));
  return rig.service.onScored(events);
}

export const REACTOR_TEMP = '[default]Reactors/R01/Temperature';
export const REACTOR_FLOW = '[default]Reactors/R01/CoolantFlow';
export const PUMP_VIB = '[default]Utilities/P02/Vibration';

export function coolingEvents(
  rig: Rig,
  tsMs: number,
  features: Readonly<Record<string, number>> = ANOMALOUS,
  score = 0.9,
): ScoredReading[] {
  return [
    scored(rig, REACTOR_TEMP, tsMs, features, score),
    scored(rig, REACTOR_FLOW, tsMs, { ...features, z_score: -(features.z_score ?? 0) }, score - 0.1),
  ];
}

const operators: Actor[] = ['olga', 'otto', 'oleg'].map((user) => ({
  user,
  roles: ['operator'],
  via: 'token',
}));

/** Decides with as many different operators as the two-person rule needs. */
export async function decide(
  rig: Rig,
  rec: Recommendation,
  decision: 'approve' | 'reject',
  note?: string,
): Promise<Recommendation> {
  let cur = rec;
  for (const actor of operators) {
    cur = await rig.service.decide(
      cur.id,
      { decision, expectedVersion: cur.version, ...(note === undefined ? {} : { note }) },
      actor,
    );
    if (cur.status !== 'pending') break;
  }
  return cur;
}

export async function latest(rig: Rig, equipmentId: string): Promise<Recommendation[]> {
  return (await rig.service.list({ equipmentId, limit: 100, offset: 0 })).items;
}

/** The API stack settleOutcome and settleWorseOutcome run the learning loop on. */
interface OutcomeStack {
  readonly pool: pg.Pool;
  readonly recs: Recommendations;
  readonly index: EquipmentIndex;
}

/**
 * Records the outcome of the executed write of `recommendationId` on an API stack (the
 * component's Chromium e2e uses it with test/fixtures/api-harness.ts): scored events of the
 * reactor temperature, anomalous for 30 min before the write, one anomalous reading
 * `clearedAfterMin` after it, then clean; then a learning loop whose clock runs 31 min ahead checks
 * outcomes and relays the change to the service's live subscribers (SSE), as main-learning.ts does.
 */
export async function settleOutcome(
  h: OutcomeStack,
  writtenAtMs: number,
  clearedAfterMin = 4,
): Promise<string[]> {
  const rig = { equipment: h.index };
  const rows = [
    ...Array.from({ length: 30 }, (_, i) =>
      scored(rig, REACTOR_TEMP, writtenAtMs - 30 * MIN + i * MIN + 500, ANOMALOUS, 0.85, true),
    ),
    scored(rig, REACTOR_TEMP, writtenAtMs + clearedAfterMin * MIN, ANOMALOUS, 0.8, true),
    ...Array.from({ length: 20 }, (_, i) =>
      scored(rig, REACTOR_TEMP, writtenAtMs + (clearedAfterMin + 1 + i) * MIN, NORMALISH, 0.12, false),
    ),
  ];
  return checkOutcomesAhead(h, rows, false);
}

/**
 * As settleOutcome, for a write that made things worse: the sensor `tagPath` is anomalous for the
 * 30 min before the write (score 0.65) and more so for the 29 min after it (0.97), which the
 * outcome rule classifies 'worse'. With `autoRevert` the loop runs with `learning.autoRevertWorse`
 * and reverts the write through the service's audited revert (actor `learning`, an engineer), as
 * main-learning.ts wires it; the outcome, the revert and the outcome marked reverted reach SSE.
 */
export async function settleWorseOutcome(
  h: OutcomeStack,
  writtenAtMs: number,
  options: { readonly tagPath?: string; readonly autoRevert?: boolean } = {},
): Promise<string[]> {
  const rig = { equipment: h.index };
  const tagPath = options.tagPath ?? REACTOR_TEMP;
  const rows = [
    ...Array.from({ length: 30 }, (_, i) =>
      scored(rig, tagPath, writtenAtMs - 30 * MIN + i * MIN + 500, ANOMALOUS, 0.65, true),
    ),
    ...Array.from({ length: 29 }, (_, i) =>
      scored(rig, tagPath, writtenAtMs + i * MIN + 1_000, ANOMALOUS, 0.97, true),
    ),
  ];
  return checkOutcomesAhead(h, rows, options.autoRevert ?? false);
}

/** Writes `rows` to silver, then checks outcomes with a learning loop whose clock is 31 min ahead. */
async function checkOutcomesAhead(
  h: OutcomeStack,
  rows: readonly ScoredReading[],
  autoRevertWorse: boolean,
): Promise<string[]> {
  await new PgEventWriter(h.pool).writeSilver(rows.map(silverRowOf));
  const config = parseConfig({ learning: { autoRevertWorse } });
  const learning = new Learning({
    store: new PgLearningStore(h.pool),
    clock: { now: () => Date.now() + (config.learning.outcomeWindowMinutes + 1) * MIN },
    logger: createLogger({ level: 'silent' }),
    config: config.learning,
    revert: (id, note) => h.recs.revert(id, { user: 'learning', roles: ['engineer'], via: 'token' }, note),
  });
  const off = learning.onChange((c) => h.recs.announce(c));
  try {
    return (await learning.checkOutcomes()).map((o) => `${o.recommendationId}:${o.outcome}`);
  } finally {
    off();
  }
}
