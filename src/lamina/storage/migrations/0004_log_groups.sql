-- Log groups as CloudWatch Logs lists them (created on a function's first log line or by
-- CreateLogGroup), with their retention. Events are also searched by time within a group.
CREATE TABLE log_groups (
    scope          TEXT NOT NULL,
    log_group      TEXT NOT NULL,
    created        INTEGER NOT NULL,
    retention_days INTEGER,
    PRIMARY KEY (scope, log_group)
);
INSERT OR IGNORE INTO log_groups (scope, log_group, created)
    SELECT scope, log_group, MIN(created) FROM log_streams GROUP BY scope, log_group;
CREATE INDEX log_events_by_time ON log_events (scope, log_group, timestamp, id)
