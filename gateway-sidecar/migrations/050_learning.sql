-- 050: continuous learning: the model registry, outcome checks of executed writes, and drift
-- snapshots. Labels are not copied: they are derived from agent_recommendations on demand, joined
-- to the recommendation's own anomaly events (anomaly_event_ids), so they never go stale.

CREATE TABLE IF NOT EXISTS agentic_hmi.model_registry (
  version         TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  created_at      TIMESTAMPTZ NOT NULL,
  training_from   TIMESTAMPTZ,
  training_to     TIMESTAMPTZ,
  metrics         JSONB NOT NULL DEFAULT '{}'::jsonb,
  gate            JSONB,
  status          TEXT NOT NULL CHECK (status IN ('candidate', 'active', 'retired', 'rejected')),
  path            TEXT NOT NULL,
  sha256          TEXT NOT NULL,
  status_changed_at TIMESTAMPTZ NOT NULL
);
-- At most one active version.
CREATE UNIQUE INDEX IF NOT EXISTS model_registry_one_active ON agentic_hmi.model_registry ((status)) WHERE status = 'active';

-- What happened after an executed write (one row per recommendation; also mirrored on the row).
CREATE TABLE IF NOT EXISTS agentic_hmi.recommendation_outcomes (
  recommendation_id TEXT PRIMARY KEY,
  equipment_id      TEXT NOT NULL,
  issue_type        TEXT NOT NULL,
  outcome           TEXT NOT NULL CHECK (outcome IN ('effective', 'not_effective', 'worse')),
  written_at        TIMESTAMPTZ NOT NULL,
  checked_at        TIMESTAMPTZ NOT NULL,
  window_minutes    INTEGER NOT NULL,
  before_activity   JSONB NOT NULL,
  after_activity    JSONB NOT NULL,
  reverted          BOOLEAN NOT NULL DEFAULT false
);

ALTER TABLE agentic_hmi.agent_recommendations ADD COLUMN IF NOT EXISTS outcome JSONB;

CREATE TABLE IF NOT EXISTS agentic_hmi.drift_snapshots (
  snapshot_id   BIGSERIAL PRIMARY KEY,
  at            TIMESTAMPTZ NOT NULL,
  model_version TEXT NOT NULL,
  rows          INTEGER NOT NULL,
  psi           JSONB NOT NULL,
  alerts        JSONB NOT NULL DEFAULT '[]'::jsonb
);
