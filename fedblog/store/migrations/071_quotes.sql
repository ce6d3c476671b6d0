-- Quotes of the blog's posts the blog authorized (FEP-044f): the quoting post, who wrote it, the QuoteRequest
-- answered and the stamp granted (served at /quotes/<token> until revoked). Shown under the post with reactions.
CREATE TABLE quotes (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    quote_id TEXT NOT NULL UNIQUE,
    quote_url TEXT,
    actor_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'accepted',
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX quotes_by_post ON quotes (post_id, state, created_at);
CREATE INDEX quotes_by_actor ON quotes (actor_id);
