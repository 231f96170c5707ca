-- 030: per-source ingest checkpoints (exactly-once resume for replayable sources).
-- source_timestamp: the largest source timestamp of the last batch whose effects all committed.
CREATE TABLE IF NOT EXISTS agentic_hmi.source_checkpoints (
  source_name       TEXT PRIMARY KEY,
  source_timestamp  TIMESTAMPTZ NOT NULL,
  source_ts_ms      BIGINT NOT NULL,
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
