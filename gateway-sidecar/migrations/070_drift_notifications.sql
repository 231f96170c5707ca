-- 070: drift alerts of the learning loop (PSI per feature at or above learning.driftPsiAlert) go
-- through the notification routing as kind 'drift_alert' (docs/learning.md "Drift").

ALTER TABLE agentic_hmi.notifications DROP CONSTRAINT IF EXISTS notifications_kind_check;
ALTER TABLE agentic_hmi.notifications
  ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('critical_alert', 'recommendation_pending', 'drift_alert'));
