-- Webmentions received: one row per (source, target). The row is the verification queue (state, next attempt,
-- lock) and, once verified, points at the comment shown on the post (origin 'webmention').
CREATE TABLE webmentions_received (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    source_host TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'rejected', 'failed')),
    kind TEXT NOT NULL DEFAULT 'mention' CHECK (kind IN ('reply', 'like', 'repost', 'bookmark', 'mention')),
    author_key TEXT,
    comment_id INTEGER REFERENCES comments (id) ON DELETE SET NULL,
    ip TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    received_at TEXT NOT NULL,
    verified_at TEXT,
    UNIQUE (source, target)
);
CREATE INDEX webmentions_received_due ON webmentions_received (state, next_attempt_at);
CREATE INDEX webmentions_received_comment ON webmentions_received (comment_id);
CREATE INDEX webmentions_received_host ON webmentions_received (source_host, state);

-- Webmentions sent for our posts: one row per (source post URL, target link), retried a few times.
CREATE TABLE webmentions_sent (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'no_endpoint')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    endpoint TEXT,
    last_status INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (source, target)
);
CREATE INDEX webmentions_sent_due ON webmentions_sent (state, next_attempt_at);
