-- 080: a rejection no longer hides a different, later anomaly (docs/recommendations.md "Reopening").
-- top_tags: the top contributing tag (first explanation contribution) of every anomaly batch
-- recorded on the row. decided_*: what the row showed when an operator decided it (severity, max
-- score, top tags), written by the decision UPDATE and never by later events, so the engine can
-- tell a later, different-looking anomaly from the pattern the operator rejected.
-- reopened_from / reopen_reason: a row raised because a rejected one was bypassed links back to it.
ALTER TABLE agentic_hmi.agent_recommendations
  ADD COLUMN IF NOT EXISTS top_tags TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN IF NOT EXISTS decided_severity TEXT,
  ADD COLUMN IF NOT EXISTS decided_max_score DOUBLE PRECISION,
  ADD COLUMN IF NOT EXISTS decided_top_tags TEXT[],
  ADD COLUMN IF NOT EXISTS reopened_from TEXT,
  ADD COLUMN IF NOT EXISTS reopen_reason TEXT;

-- Rows stored before this migration: the best available record is the row's first explanation.
UPDATE agentic_hmi.agent_recommendations
   SET top_tags = ARRAY[explanation -> 0 ->> 'tagPath']
 WHERE explanation -> 0 ->> 'tagPath' IS NOT NULL AND top_tags = '{}';

-- Decided rows stored before this migration: their current values stand in for the decision-time
-- ones (events that landed after the decision are included; nothing better is recorded).
UPDATE agentic_hmi.agent_recommendations
   SET decided_severity = severity, decided_max_score = max_anomaly_score, decided_top_tags = top_tags
 WHERE decided_at IS NOT NULL AND decided_severity IS NULL;
