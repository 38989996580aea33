-- The asynchronous invocation queue: one row per accepted event, kept after it settles
-- so that its outcome (and why) can be read back.
CREATE TABLE async_events (
    request_id     TEXT PRIMARY KEY,
    scope          TEXT NOT NULL,
    function_name  TEXT NOT NULL,
    qualifier      TEXT,
    payload        BLOB NOT NULL,
    trace_id       TEXT NOT NULL,
    enqueued_at    REAL NOT NULL,
    due_at         REAL NOT NULL,
    lease_until    REAL,
    attempts       INTEGER NOT NULL DEFAULT 0,
    throttles      INTEGER NOT NULL DEFAULT 0,
    last_result    TEXT,
    outcome        TEXT,
    reason         TEXT,
    delivered      INTEGER NOT NULL DEFAULT 0,
    settled_at     REAL
);
CREATE INDEX async_events_due ON async_events (outcome, due_at);
CREATE INDEX async_events_undelivered ON async_events (delivered, outcome);
