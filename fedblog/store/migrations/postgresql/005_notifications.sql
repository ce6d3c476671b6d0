-- PostgreSQL's twin of ../005_notifications.sql (same number, same tables; ids are identities a copy may set).
-- The e-mail notifier's durable state. One high-water mark per stream ('comments', 'followers'): the last rowid
-- announced and a stamp of that row (a deleted-then-reused rowid shows as a different stamp). Moved only after the
-- SMTP server accepted the digest, so nothing is lost or sent twice across restarts.
CREATE TABLE notification_marks (
    stream TEXT PRIMARY KEY,
    last_id BIGINT NOT NULL,
    last_stamp TEXT,
    updated_at TEXT NOT NULL
);

-- One row: when the last digest went out and the last failure (shown on the admin dashboard, no secrets).
CREATE TABLE notification_status (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_sent_at TEXT,
    last_items BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at TEXT
);
