SELECT alert_timestamp, level, sensor_type, sensor_value, threshold, message, acknowledged_by
FROM mining_operations.critical_alerts
WHERE equipment_id = :equipmentId
  AND alert_timestamp > now() - (:minutes * INTERVAL '1 minute')
ORDER BY alert_timestamp DESC
LIMIT 200
