-- The queue service: queues, their messages (absolute visibility deadlines, epoch ms) and
-- the FIFO deduplication window.
CREATE TABLE sqs_queues (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account    TEXT NOT NULL,
    region     TEXT NOT NULL,
    name       TEXT NOT NULL,
    attributes TEXT NOT NULL,
    tags       TEXT NOT NULL,
    created    REAL NOT NULL,
    modified   REAL NOT NULL,
    UNIQUE (account, region, name)
);
CREATE TABLE sqs_messages (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id         INTEGER NOT NULL,
    message_id       TEXT NOT NULL,
    body             TEXT NOT NULL,
    attributes       TEXT,
    md5_body         TEXT NOT NULL,
    md5_attributes   TEXT,
    sent_ms          INTEGER NOT NULL,
    visible_ms       INTEGER NOT NULL,
    receive_count    INTEGER NOT NULL DEFAULT 0,
    first_receive_ms INTEGER,
    receipt          TEXT,
    sender_id        TEXT NOT NULL,
    trace_header     TEXT,
    group_id         TEXT,
    dedup_id         TEXT,
    source_arn       TEXT
);
CREATE INDEX sqs_messages_visible ON sqs_messages (queue_id, visible_ms, seq);
CREATE INDEX sqs_messages_group ON sqs_messages (queue_id, group_id, visible_ms);
CREATE INDEX sqs_messages_sent ON sqs_messages (queue_id, sent_ms);
CREATE TABLE sqs_deduplication (
    queue_id   INTEGER NOT NULL,
    scope      TEXT NOT NULL,
    dedup_id   TEXT NOT NULL,
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL,
    PRIMARY KEY (queue_id, scope, dedup_id)
)
