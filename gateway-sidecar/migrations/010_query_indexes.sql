-- 010: indexes for the seed's monitoring queries (docs/queries.md): recommendations by creation
-- time ("Check AI recommendations", "Track model effectiveness", the sync-lag query).
CREATE INDEX IF NOT EXISTS ai_recommendations_gold_created_idx
  ON mining_operations.ai_recommendations_gold (created_timestamp);
CREATE INDEX IF NOT EXISTS agent_recommendations_created_idx
  ON agentic_hmi.agent_recommendations (created_timestamp);
