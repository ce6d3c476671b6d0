-- PostgreSQL's twin of 010: inbound activities are deduplicated by (id, signer), never by id alone: an id another
-- server sent first (a forward, a squat) must not make the real owner's activity a "duplicate". The table is made
-- again as on SQLite, so that both have their columns in the same order.
CREATE TABLE inbox_activities_by_signer (
    id TEXT NOT NULL,
    signer_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    type TEXT NOT NULL,
    object_id TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
    error TEXT,
    received_at TEXT NOT NULL,
    PRIMARY KEY (id, signer_id)
);
INSERT INTO inbox_activities_by_signer (id, signer_id, actor_id, type, object_id, body, status, error, received_at)
    SELECT id, actor_id, actor_id, type, object_id, body, status, error, received_at FROM inbox_activities
    ORDER BY received_at;
DROP TABLE inbox_activities;
ALTER TABLE inbox_activities_by_signer RENAME TO inbox_activities;
CREATE INDEX inbox_activities_status ON inbox_activities (status, received_at);
