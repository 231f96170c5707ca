/** Reads recent rows of mining_operations.critical_alerts for GET /api/critical-alerts. */
import type pg from 'pg';
import type { CriticalAlertReader, CriticalAlertView } from './recommendation-routes.ts';

interface AlertRow {
  alert_id: string;
  equipment_id: string;
  sensor_type: string;
  tag_path: string;
  sensor_value: number;
  threshold: number;
  level: string;
  message: string;
  alert_timestamp: Date;
}

export class PgCriticalAlertReader implements CriticalAlertReader {
  readonly #pool: Pick<pg.Pool, 'query'>;
  constructor(pool: Pick<pg.Pool, 'query'>) {
    this.#pool = pool;
  }

  async recent(limit: number, equipmentId?: string): Promise<CriticalAlertView[]> {
    const { rows } = await this.#pool.query<AlertRow>(
      `SELECT alert_id, equipment_id, sensor_type, tag_path, sensor_value, threshold, level, message, alert_timestamp
         FROM mining_operations.critical_alerts
        WHERE ($2::text IS NULL OR equipment_id = $2)
        ORDER BY alert_timestamp DESC, alert_id
        LIMIT $1`,
      [limit, equipmentId ?? null],
    );
    return rows.map((r) => ({
      id: r.alert_id,
      equipmentId: r.equipment_id,
      sensorType: r.sensor_type,
      tagPath: r.tag_path,
      value: r.sensor_value,
      threshold: r.threshold,
      level: r.level,
      message: r.message,
      at: r.alert_timestamp.toISOString(),
    }));
  }
}
