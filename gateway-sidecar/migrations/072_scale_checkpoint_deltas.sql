-- 072: incremental partition checkpoints (docs/scale-out.md, "Partition state and checkpoints").
-- scale_partition_checkpoints.state stays the full base snapshot; seq is the partition's checkpoint
-- (the chain's tip), base_seq the sequence of that base (NULL in rows written before 072: base = seq).
-- The deltas lead from the base to seq, one row per checkpoint, each naming the sequence it applies
-- to (prev_seq). A new base deletes the partition's chain in the same statement; a delta is only
-- stored (in the same statement that moves seq) when the tip is still the sequence it applies to.
ALTER TABLE agentic_hmi.scale_partition_checkpoints ADD COLUMN IF NOT EXISTS base_seq BIGINT CHECK (base_seq >= 0);

CREATE TABLE IF NOT EXISTS agentic_hmi.scale_partition_checkpoint_deltas (
  stream        TEXT NOT NULL,
  partition_no  INTEGER NOT NULL CHECK (partition_no >= 0),
  base_seq      BIGINT NOT NULL CHECK (base_seq >= 0),
  prev_seq      BIGINT NOT NULL CHECK (prev_seq >= base_seq),
  seq           BIGINT NOT NULL CHECK (seq >= prev_seq),
  delta         BYTEA NOT NULL,
  instance_id   TEXT NOT NULL,
  created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, partition_no, seq)
);
