-- PostgreSQL's twin of ../030_post_state.sql (same number, same tables; ids are identities a copy may set).
-- A post's state (models.post_state): 'draft' (the author's), 'scheduled' (its date is still to come; the worker
-- publishes it then) or 'published'. The `draft` column keeps meaning "not on the site" (1 unless published): every
-- public query (pages, feeds, sitemap, search, threads) filters on draft = 0 and stays right.
-- first_published_at: when the post first went public; until then its slug (its future Note id) may change.
ALTER TABLE posts ADD COLUMN state TEXT NOT NULL DEFAULT 'published' CHECK (state IN ('draft', 'scheduled', 'published'));
UPDATE posts SET state = 'draft' WHERE draft = 1;
ALTER TABLE posts ADD COLUMN first_published_at TEXT;
UPDATE posts SET first_published_at = published_at WHERE draft = 0;
CREATE INDEX posts_scheduled ON posts (published_at) WHERE state = 'scheduled';
