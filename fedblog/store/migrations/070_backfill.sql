-- Thread backfill: one crawl job per fediverse comment whose sub-thread (its `replies`, its `context`) is read, and
-- the comments such crawls found (the admin says so). A job done is due again while its thread stays active.
CREATE TABLE backfill_jobs (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL UNIQUE REFERENCES comments (id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    locked_until TEXT,
    last_error TEXT,
    crawled_at TEXT
);
CREATE INDEX backfill_jobs_due ON backfill_jobs (state, next_attempt_at);
CREATE TABLE backfill_found (
    comment_id INTEGER PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    found_at TEXT NOT NULL
);
CREATE INDEX backfill_found_by_post ON backfill_found (post_id);
