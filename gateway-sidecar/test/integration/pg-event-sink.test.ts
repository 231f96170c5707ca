import { test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { PgEventWriter } from '../../src/adapters/pg-event-sink.ts';
import { forEachDatabase } from '../fixtures/db-targets.ts';
import { alertRow, bronzeRows, silverRows } from '../fixtures/event-rows.ts';

async function count(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM mining_operations.${table}`);
  return Number(rows[0]?.n);
}

forEachDatabase((target) => {
  test('a batch of N rows lands once; writing the same batch again doubles nothing', async () => {
    const pool = target.pool();
    const writer = new PgEventWriter(pool);
    const bronze = bronzeRows(600, Date.now());
    const silver = silverRows(bronze, 10);
    const alerts = [alertRow(Date.now(), 1), alertRow(Date.now(), 2)];
    assert.equal(await writer.writeBronze(bronze), 600);
    assert.equal(await writer.writeSilver(silver), 600);
    assert.equal(await writer.writeAlerts(alerts), 2);
    assert.equal(await writer.writeBronze(bronze), 0);
    assert.equal(await writer.writeSilver(silver), 0);
    assert.equal(await writer.writeAlerts(alerts), 0);
    // A batch overlapping the first (half old, half new) writes only the new half.
    const overlap = [...bronze.slice(300), ...bronzeRows(300, Date.now() + 10_000_000)];
    assert.equal(await writer.writeBronze(overlap), 300);
    assert.equal(await count(pool, 'sensor_stream_bronze'), 900);
    assert.equal(await count(pool, 'anomaly_detection_silver'), 600);
    assert.equal(await count(pool, 'critical_alerts'), 2);
  });

  test('rows keep their values: timestamps to the millisecond, jsonb features, duplicates inside a batch', async () => {
    const pool = target.pool();
    const writer = new PgEventWriter(pool);
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const [b] = bronzeRows(1, at, 0);
    assert.ok(b);
    const row = { ...b, eventId: `roundtrip-${target.kind}`, sensorValue: 92.125 };
    assert.equal(await writer.writeBronze([row, row]), 1);
    const got = await pool.query<{
      sensor_value: number;
      source_timestamp: Date;
      received_timestamp: Date;
      quality: string;
    }>(
      'SELECT sensor_value, source_timestamp, received_timestamp, quality FROM mining_operations.sensor_stream_bronze WHERE event_id = $1',
      [row.eventId],
    );
    assert.equal(got.rows[0]?.sensor_value, 92.125);
    assert.equal(got.rows[0]?.source_timestamp.getTime(), row.sourceTimestampMs);
    assert.equal(got.rows[0]?.received_timestamp.getTime(), row.receivedTimestampMs);
    const [s] = silverRows([row], 1);
    assert.ok(s);
    await writer.writeSilver([s]);
    const sv = await pool.query<{
      features: Record<string, number>;
      explanation: { feature: string }[];
      is_anomaly: boolean;
      timestamp: Date;
    }>(
      'SELECT features, explanation, is_anomaly, timestamp FROM mining_operations.anomaly_detection_silver WHERE event_id = $1',
      [row.eventId],
    );
    assert.deepEqual(sv.rows[0]?.features, s.features);
    assert.equal(sv.rows[0]?.explanation[0]?.feature, 'z_score');
    assert.equal(sv.rows[0]?.is_anomaly, true);
    assert.equal(sv.rows[0]?.timestamp.getTime(), row.sourceTimestampMs);
  });
});
