-- PostgreSQL's twin of ../099_host_signature_styles.sql (same number, same table).
-- The HTTP signature style a host took after a double-knock (draft-cavage after a 400/401 to RFC 9421, or back),
-- kept in the database so every process and worker signs for that host the way it accepts at the first try.
CREATE TABLE host_signature_styles (
    host TEXT PRIMARY KEY,
    style TEXT NOT NULL,
    learned_at TEXT NOT NULL
);
