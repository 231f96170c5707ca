-- 020: what the recommendation lifecycle needs beyond 001: recorded approvals (two-person rule),
-- flood-summary grouping, the durable change log behind the SSE stream, the exactly-once write
-- claims, shelving and operating modes.

ALTER TABLE agentic_hmi.agent_recommendations
  ADD COLUMN IF NOT EXISTS approvals     JSONB NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN IF NOT EXISTS grouped_items JSONB NOT NULL DEFAULT '[]'::jsonb,
  ADD COLUMN IF NOT EXISTS revert_result JSONB;
CREATE INDEX IF NOT EXISTS agent_recommendations_equipment_idx
  ON agentic_hmi.agent_recommendations (equipment_id, issue_type, created_timestamp DESC);
CREATE INDEX IF NOT EXISTS agent_recommendations_deferred_idx
  ON agentic_hmi.agent_recommendations (deferred_until) WHERE status = 'deferred';

-- Every change a client must see, in commit order; seq is the SSE event id (resume with Last-Event-ID).
CREATE TABLE IF NOT EXISTS agentic_hmi.recommendation_changes (
  seq                BIGSERIAL PRIMARY KEY,
  change_type        TEXT NOT NULL CHECK (change_type IN ('recommendation', 'critical_alert')),
  subject_id         TEXT NOT NULL,
  payload            JSONB NOT NULL,
  at                 TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per write purpose: inserting the row claims the write, so it runs at most once
-- (ON CONFLICT DO NOTHING loses for every concurrent or repeated attempt).
CREATE TABLE IF NOT EXISTS agentic_hmi.recommendation_writes (
  recommendation_id  TEXT NOT NULL,
  purpose            TEXT NOT NULL CHECK (purpose IN ('apply', 'revert')),
  tag_path           TEXT NOT NULL,
  claimed_by         TEXT NOT NULL,
  claimed_at         TIMESTAMPTZ NOT NULL,
  live_value         DOUBLE PRECISION,
  target_value       DOUBLE PRECISION,
  read_back          DOUBLE PRECISION,
  ok                 BOOLEAN,
  reason             TEXT,
  finished_at        TIMESTAMPTZ,
  PRIMARY KEY (recommendation_id, purpose)
);

CREATE TABLE IF NOT EXISTS agentic_hmi.alarm_shelves (
  shelf_id      BIGSERIAL PRIMARY KEY,
  equipment_id  TEXT NOT NULL,
  issue_type    TEXT NOT NULL,
  reason        TEXT NOT NULL CHECK (length(btrim(reason)) > 0),
  shelved_by    TEXT NOT NULL,
  shelved_at    TIMESTAMPTZ NOT NULL,
  until         TIMESTAMPTZ NOT NULL,
  unshelved_by  TEXT,
  unshelved_at  TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS alarm_shelves_active_idx ON agentic_hmi.alarm_shelves (until) WHERE unshelved_at IS NULL;

-- Last known operating mode per equipment (from the mode tag or the API).
CREATE TABLE IF NOT EXISTS agentic_hmi.equipment_modes (
  equipment_id  TEXT PRIMARY KEY,
  mode          TEXT NOT NULL,
  source        TEXT NOT NULL CHECK (source IN ('tag', 'api')),
  set_by        TEXT NOT NULL,
  set_at        TIMESTAMPTZ NOT NULL
);
