-- 001: the seed's tables, with Postgres types. Names are kept so the seed's queries run unchanged
-- apart from interval syntax. Later migrations extend; this file never changes once landed.

CREATE SCHEMA IF NOT EXISTS mining_operations;
CREATE SCHEMA IF NOT EXISTS agentic_hmi;

-- Optional source table (the seed's CDC input: INSERT INTO sensor_data ...).
CREATE TABLE IF NOT EXISTS mining_operations.sensor_data (
  id              BIGSERIAL PRIMARY KEY,
  equipment_id    TEXT NOT NULL,
  sensor_type     TEXT NOT NULL,
  sensor_value    DOUBLE PRECISION NOT NULL,
  unit            TEXT,
  tag_path        TEXT,
  timestamp       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Raw accepted events.
CREATE TABLE IF NOT EXISTS mining_operations.sensor_stream_bronze (
  event_id             TEXT PRIMARY KEY,
  tag_path             TEXT NOT NULL,
  equipment_id         TEXT NOT NULL,
  sensor_type          TEXT NOT NULL,
  sensor_value         DOUBLE PRECISION NOT NULL,
  quality              TEXT NOT NULL,
  source_timestamp     TIMESTAMPTZ NOT NULL,
  received_timestamp   TIMESTAMPTZ NOT NULL,
  processed_timestamp  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sensor_stream_bronze_processed_idx ON mining_operations.sensor_stream_bronze (processed_timestamp);

-- Scored events.
CREATE TABLE IF NOT EXISTS mining_operations.anomaly_detection_silver (
  event_id        TEXT PRIMARY KEY,
  equipment_id    TEXT NOT NULL,
  sensor_type     TEXT NOT NULL,
  sensor_value    DOUBLE PRECISION NOT NULL,
  anomaly_score   DOUBLE PRECISION NOT NULL,
  is_anomaly      BOOLEAN NOT NULL,
  severity        TEXT NOT NULL,
  timestamp       TIMESTAMPTZ NOT NULL,
  model_version   TEXT NOT NULL,
  features        JSONB NOT NULL DEFAULT '{}'::jsonb,
  explanation     JSONB NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX IF NOT EXISTS anomaly_detection_silver_ts_idx ON mining_operations.anomaly_detection_silver (timestamp);
CREATE INDEX IF NOT EXISTS anomaly_detection_silver_anom_idx ON mining_operations.anomaly_detection_silver (equipment_id, timestamp) WHERE is_anomaly;

-- Recommendations as the pipeline produced them (the gold layer; one row per recommendation).
CREATE TABLE IF NOT EXISTS mining_operations.ai_recommendations_gold (
  recommendation_id   TEXT PRIMARY KEY,
  equipment_id        TEXT NOT NULL,
  issue_type          TEXT NOT NULL,
  severity            TEXT NOT NULL,
  anomaly_score       DOUBLE PRECISION NOT NULL,
  confidence_score    DOUBLE PRECISION NOT NULL,
  recommendation_text TEXT NOT NULL,
  created_timestamp   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS mining_operations.critical_alerts (
  alert_id         TEXT PRIMARY KEY,
  equipment_id     TEXT NOT NULL,
  sensor_type      TEXT NOT NULL,
  tag_path         TEXT NOT NULL,
  sensor_value     DOUBLE PRECISION NOT NULL,
  threshold        DOUBLE PRECISION NOT NULL,
  level            TEXT NOT NULL,
  message          TEXT NOT NULL,
  alert_timestamp  TIMESTAMPTZ NOT NULL,
  acknowledged_by  TEXT,
  acknowledged_at  TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS critical_alerts_ts_idx ON mining_operations.critical_alerts (alert_timestamp);

CREATE TABLE IF NOT EXISTS mining_operations.pipeline_metrics (
  metric_timestamp                    TIMESTAMPTZ PRIMARY KEY,
  events_per_hour                     DOUBLE PRECISION NOT NULL DEFAULT 0,
  anomalies_per_hour                  DOUBLE PRECISION NOT NULL DEFAULT 0,
  recommendations_per_hour            DOUBLE PRECISION NOT NULL DEFAULT 0,
  avg_approval_rate                   DOUBLE PRECISION,
  avg_recommendation_latency_seconds  DOUBLE PRECISION,
  extra                               JSONB NOT NULL DEFAULT '{}'::jsonb
);

CREATE TABLE IF NOT EXISTS agentic_hmi.agent_recommendations (
  recommendation_id   TEXT PRIMARY KEY,
  equipment_id        TEXT NOT NULL,
  area                TEXT NOT NULL DEFAULT 'default',
  issue_type          TEXT NOT NULL,
  severity            TEXT NOT NULL,
  anomaly_score       DOUBLE PRECISION NOT NULL,
  confidence_score    DOUBLE PRECISION NOT NULL,
  recommendation_text TEXT NOT NULL,
  explanation         JSONB NOT NULL DEFAULT '[]'::jsonb,
  proposed_action     JSONB,
  status              TEXT NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending','approved','deferred','rejected','executed','failed','expired')),
  created_timestamp   TIMESTAMPTZ NOT NULL DEFAULT now(),
  anomaly_timestamp   TIMESTAMPTZ NOT NULL,
  last_seen_timestamp TIMESTAMPTZ NOT NULL,
  occurrence_count    INTEGER NOT NULL DEFAULT 1,
  max_anomaly_score   DOUBLE PRECISION NOT NULL,
  decided_by          TEXT,
  decided_at          TIMESTAMPTZ,
  deferred_until      TIMESTAMPTZ,
  operator_notes      TEXT,
  write_result        JSONB,
  anomaly_event_ids   TEXT[] NOT NULL DEFAULT '{}',
  version             INTEGER NOT NULL DEFAULT 1,
  dedup_key           TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS agent_recommendations_status_idx ON agentic_hmi.agent_recommendations (status, created_timestamp);

-- Append-only audit of every status change and every write.
CREATE TABLE IF NOT EXISTS agentic_hmi.recommendation_audit (
  audit_id          BIGSERIAL PRIMARY KEY,
  recommendation_id TEXT NOT NULL,
  action            TEXT NOT NULL,
  actor             TEXT NOT NULL,
  actor_roles       TEXT[] NOT NULL DEFAULT '{}',
  from_status       TEXT,
  to_status         TEXT,
  before_value      JSONB,
  after_value       JSONB,
  note              TEXT,
  at                TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS recommendation_audit_rec_idx ON agentic_hmi.recommendation_audit (recommendation_id, audit_id);
