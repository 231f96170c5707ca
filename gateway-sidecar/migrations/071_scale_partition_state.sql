-- 071: scale-out partition checkpoints with their state snapshot (docs/scale-out.md).
-- One row per (stream, partition): the last stream sequence whose effects all committed, the
-- partition state (feature windows, alarm gates, validator order, critical latches) as it was
-- right after that sequence, written together in one statement, so a new owner restores exactly
-- that state and resumes at seq + 1. While the partition is idle (its consumer has nothing pending
-- or unacknowledged) seq moves up to the stream's last sequence with the same state, so the
-- takeover delivery-hole check (stream sequences missing after seq) does not trip on other
-- partitions' messages aging out behind an idle partition.
CREATE TABLE IF NOT EXISTS agentic_hmi.scale_partition_checkpoints (
  stream        TEXT NOT NULL,
  partition_no  INTEGER NOT NULL CHECK (partition_no >= 0),
  seq           BIGINT NOT NULL CHECK (seq >= 0),
  state         BYTEA NOT NULL,
  instance_id   TEXT NOT NULL,
  updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, partition_no)
);

-- Sequences a new owner found missing from the stream after the checkpoint (deleted,
-- purged, or dropped by max_age / max_msgs / max_bytes before they were processed). Operators
-- read them here (and in the worker's error log and metrics); a row is never silently cleared.
CREATE TABLE IF NOT EXISTS agentic_hmi.scale_delivery_holes (
  id            BIGSERIAL PRIMARY KEY,
  stream        TEXT NOT NULL,
  partition_no  INTEGER NOT NULL,
  from_seq      BIGINT NOT NULL,
  to_seq        BIGINT NOT NULL,
  instance_id   TEXT NOT NULL,
  detected_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (to_seq >= from_seq),
  UNIQUE (stream, partition_no, from_seq, to_seq)
);
