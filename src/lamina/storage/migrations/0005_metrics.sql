-- Per-minute aggregates of CloudWatch-style metrics (AWS/Lambda): one row per metric,
-- dimension set (canonical JSON) and minute (epoch seconds at the start of the minute).
CREATE TABLE metric_data (
    scope        TEXT NOT NULL,
    namespace    TEXT NOT NULL,
    metric       TEXT NOT NULL,
    dimensions   TEXT NOT NULL,
    minute       INTEGER NOT NULL,
    unit         TEXT NOT NULL,
    sample_count REAL NOT NULL,
    total        REAL NOT NULL,
    minimum      REAL NOT NULL,
    maximum      REAL NOT NULL,
    PRIMARY KEY (scope, namespace, metric, dimensions, minute)
)
