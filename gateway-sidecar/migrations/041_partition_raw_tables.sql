-- 041: time partitioning of the two large tables, 1-minute aggregates, and the tables that keep raw
-- rows around anomalies after the raw partitions are dropped (docs/retention.md).
--
-- A partitioned table's primary key must contain the partition key. Both tables are partitioned by
-- the event's SOURCE time, which is part of the event id (eventIdOf = '<tagPath>@<sourceMs>'), so a
-- replayed event always lands in the same partition with the same key: the key becomes
-- (event_id, <source time>) and `ON CONFLICT DO NOTHING` stays exactly-once. Partitioning by
-- processed_timestamp (insert time) would let a replay land in another partition as a duplicate.
-- Rows outside every daily partition (old replays, clock errors) land in the DEFAULT partition;
-- the retention job moves them out when it creates the matching day, or prunes them by age.

-- Bronze ---------------------------------------------------------------------------------------
ALTER TABLE mining_operations.sensor_stream_bronze RENAME TO sensor_stream_bronze_unpartitioned;
ALTER INDEX mining_operations.sensor_stream_bronze_pkey RENAME TO sensor_stream_bronze_unpartitioned_pkey;
ALTER INDEX mining_operations.sensor_stream_bronze_processed_idx RENAME TO sensor_stream_bronze_unpartitioned_processed_idx;

CREATE TABLE mining_operations.sensor_stream_bronze
  (LIKE mining_operations.sensor_stream_bronze_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
   PRIMARY KEY (event_id, source_timestamp))
  PARTITION BY RANGE (source_timestamp);
CREATE TABLE mining_operations.sensor_stream_bronze_default
  PARTITION OF mining_operations.sensor_stream_bronze DEFAULT;
CREATE INDEX sensor_stream_bronze_processed_idx ON mining_operations.sensor_stream_bronze (processed_timestamp);
CREATE INDEX sensor_stream_bronze_equipment_ts_idx ON mining_operations.sensor_stream_bronze (equipment_id, source_timestamp);
CREATE INDEX sensor_stream_bronze_ts_idx ON mining_operations.sensor_stream_bronze (source_timestamp);
INSERT INTO mining_operations.sensor_stream_bronze SELECT * FROM mining_operations.sensor_stream_bronze_unpartitioned;
DROP TABLE mining_operations.sensor_stream_bronze_unpartitioned;

-- Silver ---------------------------------------------------------------------------------------
ALTER TABLE mining_operations.anomaly_detection_silver RENAME TO anomaly_detection_silver_unpartitioned;
ALTER INDEX mining_operations.anomaly_detection_silver_pkey RENAME TO anomaly_detection_silver_unpartitioned_pkey;
ALTER INDEX mining_operations.anomaly_detection_silver_ts_idx RENAME TO anomaly_detection_silver_unpartitioned_ts_idx;
ALTER INDEX mining_operations.anomaly_detection_silver_anom_idx RENAME TO anomaly_detection_silver_unpartitioned_anom_idx;

CREATE TABLE mining_operations.anomaly_detection_silver
  (LIKE mining_operations.anomaly_detection_silver_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
   PRIMARY KEY (event_id, timestamp))
  PARTITION BY RANGE (timestamp);
CREATE TABLE mining_operations.anomaly_detection_silver_default
  PARTITION OF mining_operations.anomaly_detection_silver DEFAULT;
CREATE INDEX anomaly_detection_silver_ts_idx ON mining_operations.anomaly_detection_silver (timestamp);
CREATE INDEX anomaly_detection_silver_anom_idx ON mining_operations.anomaly_detection_silver (equipment_id, timestamp) WHERE is_anomaly;
INSERT INTO mining_operations.anomaly_detection_silver SELECT * FROM mining_operations.anomaly_detection_silver_unpartitioned;
DROP TABLE mining_operations.anomaly_detection_silver_unpartitioned;

-- Per-sensor 1-minute aggregates of bronze (kept far longer than raw rows), partitioned by month.
CREATE TABLE IF NOT EXISTS mining_operations.sensor_minute_aggregates (
  tag_path          TEXT NOT NULL,
  minute_timestamp  TIMESTAMPTZ NOT NULL,
  equipment_id      TEXT NOT NULL,
  sensor_type       TEXT NOT NULL,
  sample_count      INTEGER NOT NULL,
  good_count        INTEGER NOT NULL,
  min_value         DOUBLE PRECISION NOT NULL,
  max_value         DOUBLE PRECISION NOT NULL,
  avg_value         DOUBLE PRECISION NOT NULL,
  -- sum of squares lets dashboards compute the standard deviation of any span of minutes.
  sum_squares       DOUBLE PRECISION NOT NULL,
  first_value       DOUBLE PRECISION NOT NULL,
  last_value        DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (tag_path, minute_timestamp)
) PARTITION BY RANGE (minute_timestamp);
CREATE TABLE IF NOT EXISTS mining_operations.sensor_minute_aggregates_default
  PARTITION OF mining_operations.sensor_minute_aggregates DEFAULT;
CREATE INDEX IF NOT EXISTS sensor_minute_aggregates_equipment_idx
  ON mining_operations.sensor_minute_aggregates (equipment_id, minute_timestamp);

-- Raw and scored rows within retention.anomalyContextMinutes of an anomaly or critical alert,
-- copied here before their partition is dropped (same columns, plus when they were kept).
CREATE TABLE IF NOT EXISTS mining_operations.sensor_stream_bronze_anomaly_context
  (LIKE mining_operations.sensor_stream_bronze INCLUDING DEFAULTS,
   kept_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (event_id));
CREATE INDEX IF NOT EXISTS sensor_stream_bronze_anomaly_context_ts_idx
  ON mining_operations.sensor_stream_bronze_anomaly_context (equipment_id, source_timestamp);
CREATE TABLE IF NOT EXISTS mining_operations.anomaly_detection_silver_anomaly_context
  (LIKE mining_operations.anomaly_detection_silver INCLUDING DEFAULTS,
   kept_at TIMESTAMPTZ NOT NULL DEFAULT now(),
   PRIMARY KEY (event_id));
CREATE INDEX IF NOT EXISTS anomaly_detection_silver_anomaly_context_ts_idx
  ON mining_operations.anomaly_detection_silver_anomaly_context (equipment_id, timestamp);
