-- 040: notifications that leave the HMI (critical alerts, recommendations left undecided) and the
-- delivery state of each one per channel. Never pruned by retention: it is the record of who was
-- paged, when, and who acknowledged.

CREATE TABLE IF NOT EXISTS agentic_hmi.notifications (
  notification_id     TEXT PRIMARY KEY,
  kind                TEXT NOT NULL CHECK (kind IN ('critical_alert', 'recommendation_pending')),
  -- Repeats with the same key inside notifications.dedupWindowMinutes count here instead of paging again.
  dedup_key           TEXT NOT NULL,
  -- The alert id or recommendation id the notification is about.
  subject_id          TEXT NOT NULL,
  equipment_id        TEXT NOT NULL,
  area                TEXT NOT NULL,
  severity            TEXT NOT NULL,
  title               TEXT NOT NULL,
  body                TEXT NOT NULL,
  details             JSONB NOT NULL DEFAULT '{}'::jsonb,
  route_ids           TEXT[] NOT NULL DEFAULT '{}',
  channel_ids         TEXT[] NOT NULL DEFAULT '{}',
  escalation_level    INTEGER NOT NULL DEFAULT 0,
  repeat_count        INTEGER NOT NULL DEFAULT 0,
  created_at          TIMESTAMPTZ NOT NULL,
  last_notified_at    TIMESTAMPTZ NOT NULL,
  last_repeat_at      TIMESTAMPTZ,
  acknowledged_by     TEXT,
  acknowledged_at     TIMESTAMPTZ,
  ack_note            TEXT
);
CREATE INDEX IF NOT EXISTS notifications_dedup_idx ON agentic_hmi.notifications (dedup_key, created_at DESC);
CREATE INDEX IF NOT EXISTS notifications_subject_idx ON agentic_hmi.notifications (subject_id);
CREATE INDEX IF NOT EXISTS notifications_open_idx ON agentic_hmi.notifications (last_notified_at) WHERE acknowledged_at IS NULL;
CREATE INDEX IF NOT EXISTS notifications_created_idx ON agentic_hmi.notifications (created_at DESC);

CREATE TABLE IF NOT EXISTS agentic_hmi.notification_deliveries (
  delivery_id       BIGSERIAL PRIMARY KEY,
  notification_id   TEXT NOT NULL REFERENCES agentic_hmi.notifications (notification_id),
  channel_id        TEXT NOT NULL,
  -- trigger for pages; acknowledge when someone acknowledged (PagerDuty closes the incident's page).
  action            TEXT NOT NULL DEFAULT 'trigger' CHECK (action IN ('trigger', 'acknowledge')),
  escalation_level  INTEGER NOT NULL DEFAULT 0,
  state             TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'retrying', 'failed', 'suppressed', 'cancelled')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  last_error        TEXT,
  next_attempt_at   TIMESTAMPTZ,
  created_at        TIMESTAMPTZ NOT NULL,
  updated_at        TIMESTAMPTZ NOT NULL,
  sent_at           TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS notification_deliveries_notification_idx ON agentic_hmi.notification_deliveries (notification_id, delivery_id);
CREATE INDEX IF NOT EXISTS notification_deliveries_due_idx ON agentic_hmi.notification_deliveries (next_attempt_at)
  WHERE state IN ('queued', 'retrying');
