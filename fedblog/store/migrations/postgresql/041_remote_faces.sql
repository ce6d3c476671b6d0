-- PostgreSQL's twin of ../041_remote_faces.sql (same number, same tables; ids are identities a copy may set).
-- Fediverse commenters' icons, fetched once (through the SSRF guard), resized and served from the blog, so readers'
-- browsers never load them from remote servers. `source_url` is the icon they were made from: when the author's
-- actor names another icon, it is fetched again. A failed fetch is remembered, and retried a day later.
CREATE TABLE remote_faces (
    author_id BIGINT PRIMARY KEY REFERENCES comment_authors (id) ON DELETE CASCADE,
    source_url TEXT NOT NULL,
    media_type TEXT,
    image BYTEA,
    fetched_at TEXT NOT NULL,
    error TEXT
);
