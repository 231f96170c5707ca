-- 060: change data capture of mining_operations.sensor_data without polling.
-- An AFTER INSERT trigger sends the new row id on channel 'sensor_data_cdc' (delivered at commit);
-- the CDC source keeps the last processed id per consumer in agentic_hmi.cdc_offsets and on start
-- or reconnect re-reads every row after it, so nothing is missed while no listener was connected.
CREATE TABLE IF NOT EXISTS agentic_hmi.cdc_offsets (
  consumer    TEXT PRIMARY KEY,
  last_id     BIGINT NOT NULL,
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE OR REPLACE FUNCTION mining_operations.sensor_data_cdc_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sensor_data_cdc', NEW.id::text);
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS sensor_data_cdc ON mining_operations.sensor_data;
CREATE TRIGGER sensor_data_cdc AFTER INSERT ON mining_operations.sensor_data
  FOR EACH ROW EXECUTE FUNCTION mining_operations.sensor_data_cdc_notify();
