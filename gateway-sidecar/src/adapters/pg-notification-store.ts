/**
 * NotificationStore on Postgres / Lakebase (migration 040). Deliveries are claimed with
 * `FOR UPDATE SKIP LOCKED` and a lease, so two sidecars (or two overlapping ticks) never send the
 * same delivery twice at once; a crashed worker's lease simply expires and the delivery is retried.
 */
import type pg from 'pg';
import type {
  DeliveryRecord,
  DeliveryState,
  NewDelivery,
  NotificationListFilter,
  NotificationRecord,
  NotificationStore,
} from '../ports.ts';

interface NotificationRow {
  notification_id: string;
  kind: NotificationRecord['kind'];
  dedup_key: string;
  subject_id: string;
  equipment_id: string;
  area: string;
  severity: NotificationRecord['severity'];
  title: string;
  body: string;
  details: Record<string, unknown>;
  route_ids: string[];
  channel_ids: string[];
  escalation_level: number;
  repeat_count: number;
  created_at: Date;
  last_notified_at: Date;
  acknowledged_by: string | null;
  acknowledged_at: Date | null;
}

interface DeliveryRow {
  delivery_id: string;
  notification_id: string;
  channel_id: string;
  action: 'trigger' | 'acknowledge';
  escalation_level: number;
  state: DeliveryState;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  sent_at: Date | null;
  updated_at: Date;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

function toDelivery(r: DeliveryRow): DeliveryRecord {
  return {
    deliveryId: Number(r.delivery_id),
    notificationId: r.notification_id,
    channelId: r.channel_id,
    action: r.action,
    escalationLevel: r.escalation_level,
    state: r.state,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: iso(r.next_attempt_at),
    sentAt: iso(r.sent_at),
    updatedAt: r.updated_at.toISOString(),
  };
}

function toRecord(r: NotificationRow, deliveries: readonly DeliveryRecord[]): NotificationRecord {
  return {
    id: r.notification_id,
    kind: r.kind,
    dedupKey: r.dedup_key,
    subjectId: r.subject_id,
    equipmentId: r.equipment_id,
    area: r.area,
    severity: r.severity,
    title: r.title,
    body: r.body,
    details: r.details,
    routeIds: r.route_ids,
    channelIds: r.channel_ids,
    escalationLevel: r.escalation_level,
    repeatCount: r.repeat_count,
    createdAt: r.created_at.toISOString(),
    lastNotifiedAt: r.last_notified_at.toISOString(),
    acknowledgedBy: r.acknowledged_by,
    acknowledgedAt: iso(r.acknowledged_at),
    deliveries,
  };
}

const N = 'agentic_hmi.notifications';
const D = 'agentic_hmi.notification_deliveries';

export class PgNotificationStore implements NotificationStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async #withDeliveries(rows: readonly NotificationRow[]): Promise<NotificationRecord[]> {
    if (rows.length === 0) return [];
    const { rows: drows } = await this.#pool.query<DeliveryRow>(
      `SELECT * FROM ${D} WHERE notification_id = ANY($1::text[]) ORDER BY delivery_id`,
      [rows.map((r) => r.notification_id)],
    );
    const by = new Map<string, DeliveryRecord[]>();
    for (const d of drows) {
      const list = by.get(d.notification_id) ?? [];
      list.push(toDelivery(d));
      by.set(d.notification_id, list);
    }
    return rows.map((r) => toRecord(r, by.get(r.notification_id) ?? []));
  }

  async #insertDeliveries(
    client: pg.PoolClient | pg.Pool,
    id: string,
    deliveries: readonly NewDelivery[],
    atMs: number,
  ): Promise<void> {
    for (const d of deliveries) {
      await client.query(
        `INSERT INTO ${D} (notification_id, channel_id, action, escalation_level, state, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7 / 1000.0), to_timestamp($7 / 1000.0))`,
        [
          id,
          d.channelId,
          d.action,
          d.escalationLevel,
          d.state,
          d.state === 'queued' ? new Date(d.dueAtMs) : null,
          atMs,
        ],
      );
    }
  }

  async latestByDedupKey(
    dedupKey: string,
  ): Promise<{ id: string; lastNotifiedAtMs: number; acknowledged: boolean } | undefined> {
    const { rows } = await this.#pool.query<{
      notification_id: string;
      created_at: Date;
      acknowledged_at: Date | null;
    }>(
      `SELECT notification_id, created_at, acknowledged_at FROM ${N} WHERE dedup_key = $1 ORDER BY created_at DESC LIMIT 1`,
      [dedupKey],
    );
    const r = rows[0];
    return r
      ? {
          id: r.notification_id,
          lastNotifiedAtMs: r.created_at.getTime(),
          acknowledged: r.acknowledged_at !== null,
        }
      : undefined;
  }

  async recordRepeat(id: string, atMs: number): Promise<void> {
    await this.#pool.query(
      `UPDATE ${N} SET repeat_count = repeat_count + 1, last_repeat_at = $2 WHERE notification_id = $1`,
      [id, new Date(atMs)],
    );
  }

  async create(
    n: Parameters<NotificationStore['create']>[0],
    deliveries: readonly NewDelivery[],
  ): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO ${N} (notification_id, kind, dedup_key, subject_id, equipment_id, area, severity, title, body, details,
                           route_ids, channel_ids, created_at, last_notified_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$13)`,
        [
          n.id,
          n.kind,
          n.dedupKey,
          n.subjectId,
          n.equipmentId,
          n.area,
          n.severity,
          n.title,
          n.body,
          JSON.stringify(n.details),
          n.routeIds,
          n.channelIds,
          new Date(n.createdAt),
        ],
      );
      await this.#insertDeliveries(client, n.id, deliveries, Date.parse(n.createdAt));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async claimDue(
    nowMs: number,
    leaseMs: number,
    limit: number,
  ): Promise<{ delivery: DeliveryRecord; notification: NotificationRecord }[]> {
    const { rows } = await this.#pool.query<DeliveryRow>(
      `UPDATE ${D} SET next_attempt_at = $2
        WHERE delivery_id IN (
          SELECT delivery_id FROM ${D}
           WHERE state IN ('queued', 'retrying') AND next_attempt_at <= $1
           ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [new Date(nowMs), new Date(nowMs + leaseMs), limit],
    );
    if (rows.length === 0) return [];
    const { rows: nrows } = await this.#pool.query<NotificationRow>(
      `SELECT * FROM ${N} WHERE notification_id = ANY($1::text[])`,
      [[...new Set(rows.map((r) => r.notification_id))]],
    );
    const byId = new Map(nrows.map((r) => [r.notification_id, toRecord(r, [])]));
    return rows.flatMap((d) => {
      const notification = byId.get(d.notification_id);
      return notification ? [{ delivery: toDelivery(d), notification }] : [];
    });
  }

  async updateDelivery(
    deliveryId: number,
    u: {
      state: DeliveryState;
      attempts: number;
      lastError: string | null;
      nextAttemptAtMs: number | null;
      atMs: number;
    },
  ): Promise<void> {
    await this.#pool.query(
      `UPDATE ${D} SET state = $2, attempts = $3, last_error = $4, next_attempt_at = $5, updated_at = $6,
              sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END
        WHERE delivery_id = $1`,
      [
        deliveryId,
        u.state,
        u.attempts,
        u.lastError,
        u.nextAttemptAtMs === null ? null : new Date(u.nextAttemptAtMs),
        new Date(u.atMs),
      ],
    );
  }

  async openNotifications(limit: number): Promise<NotificationRecord[]> {
    const { rows } = await this.#pool.query<NotificationRow>(
      `SELECT * FROM ${N} WHERE acknowledged_at IS NULL ORDER BY last_notified_at LIMIT $1`,
      [limit],
    );
    return this.#withDeliveries(rows);
  }

  async escalate(id: string, level: number, atMs: number, deliveries: readonly NewDelivery[]): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      // The level guard makes a concurrent duplicate escalation a no-op.
      const res = await client.query(
        `UPDATE ${N} SET escalation_level = $2, last_notified_at = $3
          WHERE notification_id = $1 AND escalation_level = $2 - 1 AND acknowledged_at IS NULL`,
        [id, level, new Date(atMs)],
      );
      if (res.rowCount === 1) await this.#insertDeliveries(client, id, deliveries, atMs);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async acknowledge(
    id: string,
    actor: string,
    note: string | null,
    atMs: number,
  ): Promise<{ record: NotificationRecord; alreadyAcknowledged: boolean } | undefined> {
    const at = new Date(atMs);
    const res = await this.#pool.query(
      `UPDATE ${N} SET acknowledged_by = $2, acknowledged_at = $3, ack_note = $4 WHERE notification_id = $1 AND acknowledged_at IS NULL`,
      [id, actor, at, note],
    );
    if (res.rowCount === 1) {
      await this.#pool.query(
        `UPDATE ${D} SET state = 'cancelled', next_attempt_at = NULL, updated_at = $2
          WHERE notification_id = $1 AND action = 'trigger' AND state IN ('queued', 'retrying')`,
        [id, at],
      );
    }
    const record = await this.get(id);
    return record ? { record, alreadyAcknowledged: res.rowCount !== 1 } : undefined;
  }

  async openIdsBySubject(subjectId: string): Promise<string[]> {
    const { rows } = await this.#pool.query<{ notification_id: string }>(
      `SELECT notification_id FROM ${N} WHERE subject_id = $1 AND acknowledged_at IS NULL`,
      [subjectId],
    );
    return rows.map((r) => r.notification_id);
  }

  async addDeliveries(id: string, deliveries: readonly NewDelivery[], atMs: number): Promise<void> {
    await this.#insertDeliveries(this.#pool, id, deliveries, atMs);
  }

  async list(filter: NotificationListFilter): Promise<{ items: NotificationRecord[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.acknowledged !== undefined)
      where.push(filter.acknowledged ? 'n.acknowledged_at IS NOT NULL' : 'n.acknowledged_at IS NULL');
    if (filter.kind !== undefined) where.push(`n.kind = $${params.push(filter.kind)}`);
    if (filter.subjectId !== undefined) where.push(`n.subject_id = $${params.push(filter.subjectId)}`);
    if (filter.deliveryState !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM ${D} d WHERE d.notification_id = n.notification_id AND d.state = $${params.push(filter.deliveryState)})`,
      );
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = await this.#pool.query<{ c: string }>(`SELECT count(*) AS c FROM ${N} n ${clause}`, params);
    const { rows } = await this.#pool.query<NotificationRow>(
      `SELECT n.* FROM ${N} n ${clause} ORDER BY n.created_at DESC, n.notification_id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    return { items: await this.#withDeliveries(rows), total: Number(total.rows[0]?.c ?? 0) };
  }

  async get(id: string): Promise<NotificationRecord | undefined> {
    const { rows } = await this.#pool.query<NotificationRow>(
      `SELECT * FROM ${N} WHERE notification_id = $1`,
      [id],
    );
    return (await this.#withDeliveries(rows))[0];
  }
}
