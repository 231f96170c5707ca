/**
 * Batched writes of the event streams to Postgres / Lakebase:
 *   accepted readings -> mining_operations.sensor_stream_bronze
 *   scored readings   -> mining_operations.anomaly_detection_silver
 *   critical alerts   -> mining_operations.critical_alerts
 *
 * Each batch is ONE statement whatever its size: the columns travel as arrays and `unnest` turns
 * them back into rows, so the SQL text never changes (the server plans it once per connection) and
 * there is no 65,535-parameter ceiling as with VALUES lists. `ON CONFLICT DO NOTHING` makes a
 * replayed batch (spool flush, restarted source) a no-op. It names no conflict target on purpose:
 * bronze and silver are partitioned by source time (migration 041), so their key is
 * (event_id, time); the event id already embeds the source time, so either key means "same event".
 */
import type pg from 'pg';
import type { ScoredReading } from '../domain/detection.ts';
import type { SensorReading, SetpointReading } from '../domain/tag-event.ts';
import { eventIdOf } from '../domain/detection.ts';

export interface BronzeRow {
  readonly eventId: string;
  readonly tagPath: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly sensorValue: number;
  readonly quality: string;
  readonly sourceTimestampMs: number;
  readonly receivedTimestampMs: number;
}

export interface SilverRow {
  readonly eventId: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly sensorValue: number;
  readonly anomalyScore: number;
  readonly isAnomaly: boolean;
  readonly severity: string;
  readonly timestampMs: number;
  readonly modelVersion: string;
  readonly features: Readonly<Record<string, number>>;
  readonly explanation: readonly unknown[];
}

export interface CriticalAlertRow {
  /** Stable id (e.g. `<tagPath>@<sourceTimestampMs>#<level>`): a replay writes nothing new. */
  readonly alertId: string;
  readonly equipmentId: string;
  readonly sensorType: string;
  readonly tagPath: string;
  readonly sensorValue: number;
  readonly threshold: number;
  readonly level: string;
  readonly message: string;
  readonly alertTimestampMs: number;
}

/** Bronze row of an accepted sensor or setpoint reading (setpoints get sensor_type `setpoint:<name>`). */
export function bronzeRowOf(
  reading: SensorReading | SetpointReading,
  receivedTimestampMs?: number,
): BronzeRow {
  if (reading.kind === 'sensor') {
    return {
      eventId: eventIdOf(reading.tag.tagPath, reading.sourceTimestampMs),
      tagPath: reading.tag.tagPath,
      equipmentId: reading.tag.equipmentId,
      sensorType: reading.tag.sensorType,
      sensorValue: reading.value,
      quality: reading.quality,
      sourceTimestampMs: reading.sourceTimestampMs,
      receivedTimestampMs: reading.receivedTimestampMs,
    };
  }
  return {
    eventId: eventIdOf(reading.tag.tagPath, reading.sourceTimestampMs),
    tagPath: reading.tag.tagPath,
    equipmentId: reading.tag.equipmentId,
    sensorType: `setpoint:${reading.tag.name}`,
    sensorValue: reading.value,
    quality: 'good',
    sourceTimestampMs: reading.sourceTimestampMs,
    receivedTimestampMs: receivedTimestampMs ?? reading.sourceTimestampMs,
  };
}

/** Silver row of a scored reading. Non-finite feature values become null in JSON, so they are dropped here. */
export function silverRowOf(scored: ScoredReading): SilverRow {
  const features: Record<string, number> = {};
  for (const [k, v] of Object.entries(scored.features)) if (Number.isFinite(v)) features[k] = v;
  return {
    eventId: scored.eventId,
    equipmentId: scored.reading.tag.equipmentId,
    sensorType: scored.reading.tag.sensorType,
    sensorValue: scored.reading.value,
    anomalyScore: scored.score,
    isAnomaly: scored.isAnomaly,
    severity: scored.severity,
    timestampMs: scored.reading.sourceTimestampMs,
    modelVersion: scored.modelVersion,
    features,
    explanation: scored.explanation,
  };
}

const INSERT_BRONZE = `
INSERT INTO mining_operations.sensor_stream_bronze
  (event_id, tag_path, equipment_id, sensor_type, sensor_value, quality, source_timestamp, received_timestamp)
SELECT e, t, q, s, v, ql, to_timestamp(st / 1000.0), to_timestamp(rt / 1000.0)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::float8[], $8::float8[])
       AS u(e, t, q, s, v, ql, st, rt)
ON CONFLICT DO NOTHING`;

const INSERT_SILVER = `
INSERT INTO mining_operations.anomaly_detection_silver
  (event_id, equipment_id, sensor_type, sensor_value, anomaly_score, is_anomaly, severity, timestamp,
   model_version, features, explanation)
SELECT e, q, s, v, sc, a, sv, to_timestamp(ts / 1000.0), mv, f::jsonb, x::jsonb
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::bool[], $7::text[],
              $8::float8[], $9::text[], $10::text[], $11::text[])
       AS u(e, q, s, v, sc, a, sv, ts, mv, f, x)
ON CONFLICT DO NOTHING`;

const INSERT_ALERTS = `
INSERT INTO mining_operations.critical_alerts
  (alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp)
SELECT i, q, s, t, v, th, l, m, to_timestamp(ts / 1000.0)
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::text[], $8::text[],
              $9::float8[])
       AS u(i, q, s, t, v, th, l, m, ts)
ON CONFLICT (alert_id) DO NOTHING`;

/** Anything that can run a query: a pool or a checked-out client. */
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Writes whole batches; each call is one statement (atomic) and returns how many rows were new.
 * Rows repeated inside one batch are collapsed first (ON CONFLICT cannot touch a row twice).
 */
export class PgEventWriter {
  readonly #db: Queryable;
  constructor(db: Queryable) {
    this.#db = db;
  }

  async writeBronze(rows: readonly BronzeRow[]): Promise<number> {
    const u = uniqueBy(rows, (r) => r.eventId);
    if (u.length === 0) return 0;
    const res = await this.#db.query(INSERT_BRONZE, [
      u.map((r) => r.eventId),
      u.map((r) => r.tagPath),
      u.map((r) => r.equipmentId),
      u.map((r) => r.sensorType),
      u.map((r) => r.sensorValue),
      u.map((r) => r.quality),
      u.map((r) => r.sourceTimestampMs),
      u.map((r) => r.receivedTimestampMs),
    ]);
    return res.rowCount ?? 0;
  }

  async writeSilver(rows: readonly SilverRow[]): Promise<number> {
    const u = uniqueBy(rows, (r) => r.eventId);
    if (u.length === 0) return 0;
    const res = await this.#db.query(INSERT_SILVER, [
      u.map((r) => r.eventId),
      u.map((r) => r.equipmentId),
      u.map((r) => r.sensorType),
      u.map((r) => r.sensorValue),
      u.map((r) => r.anomalyScore),
      u.map((r) => r.isAnomaly),
      u.map((r) => r.severity),
      u.map((r) => r.timestampMs),
      u.map((r) => r.modelVersion),
      u.map((r) => JSON.stringify(r.features)),
      u.map((r) => JSON.stringify(r.explanation)),
    ]);
    return res.rowCount ?? 0;
  }

  async writeAlerts(rows: readonly CriticalAlertRow[]): Promise<number> {
    const u = uniqueBy(rows, (r) => r.alertId);
    if (u.length === 0) return 0;
    const res = await this.#db.query(INSERT_ALERTS, [
      u.map((r) => r.alertId),
      u.map((r) => r.equipmentId),
      u.map((r) => r.sensorType),
      u.map((r) => r.tagPath),
      u.map((r) => r.sensorValue),
      u.map((r) => r.threshold),
      u.map((r) => r.level),
      u.map((r) => r.message),
      u.map((r) => r.alertTimestampMs),
    ]);
    return res.rowCount ?? 0;
  }
}

function uniqueBy<T>(rows: readonly T[], key: (row: T) => string): readonly T[] {
  const seen = new Set<string>();
  let dup = false;
  for (const r of rows) {
    const k = key(r);
    if (seen.has(k)) {
      dup = true;
      break;
    }
    seen.add(k);
  }
  if (!dup) return rows;
  // First occurrence wins, as it would have with separate statements.
  const byKey = new Map<string, T>();
  for (const r of rows) if (!byKey.has(key(r))) byKey.set(key(r), r);
  return [...byKey.values()];
}
