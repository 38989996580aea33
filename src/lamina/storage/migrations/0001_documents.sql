-- Resource records as JSON documents, addressed by kind, scope (account/region) and key.
CREATE TABLE documents (
    kind  TEXT NOT NULL,
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (kind, scope, key)
);
