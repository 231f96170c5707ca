/**
 * Upserts the 1-minute aggregates of the scale-out aggregate-only write mode (docs/scale-out.md)
 * into mining_operations.sensor_minute_aggregates (migration 041). One statement per batch. A
 * minute is written once it is over, and again if a late reading of it arrives; a row never goes
 * back to fewer samples, so a worker that lost its lease and still writes an older value of a
 * minute changes nothing, and a repeat after a takeover writes the same values. The
 * retention job's re-aggregation reads bronze rows, which this mode does not write, so it leaves
 * these minutes alone.
 */
import type pg from 'pg';
import type { MinuteAggregate } from '../domain/minute-aggregates.ts';

export async function upsertMinuteAggregates(
  db: pg.Pool | pg.PoolClient,
  rows: readonly MinuteAggregate[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await db.query(
    `INSERT INTO mining_operations.sensor_minute_aggregates AS a
       (tag_path, minute_timestamp, equipment_id, sensor_type, sample_count, good_count, min_value, max_value,
        avg_value, sum_squares, first_value, last_value)
     SELECT tag, to_timestamp(minute_ms::double precision / 1000), eq, st, n, good, mn, mx, total / n, sq, fst, lst
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::int[], $7::float8[], $8::float8[],
                   $9::float8[], $10::float8[], $11::float8[], $12::float8[])
            AS u(tag, minute_ms, eq, st, n, good, mn, mx, total, sq, fst, lst)
     ON CONFLICT (tag_path, minute_timestamp) DO UPDATE SET
       equipment_id = EXCLUDED.equipment_id, sensor_type = EXCLUDED.sensor_type, sample_count = EXCLUDED.sample_count,
       good_count = EXCLUDED.good_count, min_value = EXCLUDED.min_value, max_value = EXCLUDED.max_value,
       avg_value = EXCLUDED.avg_value, sum_squares = EXCLUDED.sum_squares, first_value = EXCLUDED.first_value,
       last_value = EXCLUDED.last_value
     WHERE a.sample_count <= EXCLUDED.sample_count`,
    [
      rows.map((r) => r.tagPath),
      rows.map((r) => r.minuteMs),
      rows.map((r) => r.equipmentId),
      rows.map((r) => r.sensorType),
      rows.map((r) => r.count),
      rows.map((r) => r.goodCount),
      rows.map((r) => r.min),
      rows.map((r) => r.max),
      rows.map((r) => r.sum),
      rows.map((r) => r.sumSquares),
      rows.map((r) => r.first),
      rows.map((r) => r.last),
    ],
  );
  return res.rowCount ?? 0;
}
