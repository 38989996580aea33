-- Function log events, one row per line, grouped into streams as CloudWatch Logs does.
CREATE TABLE log_streams (
    scope       TEXT NOT NULL,
    log_group   TEXT NOT NULL,
    log_stream  TEXT NOT NULL,
    created     INTEGER NOT NULL,
    first_event INTEGER,
    last_event  INTEGER,
    PRIMARY KEY (scope, log_group, log_stream)
);
CREATE TABLE log_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    scope      TEXT NOT NULL,
    log_group  TEXT NOT NULL,
    log_stream TEXT NOT NULL,
    timestamp  INTEGER NOT NULL,
    ingestion  INTEGER NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX log_events_by_stream ON log_events (scope, log_group, log_stream, id);
