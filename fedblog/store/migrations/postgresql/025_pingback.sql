-- PostgreSQL's twin of ../025_pingback.sql (same number, same tables; ids are identities a copy may set).
-- Pingback and Trackback share the webmention queues: a row says by which protocol it came or went.
ALTER TABLE webmentions_sent ADD COLUMN protocol TEXT NOT NULL DEFAULT 'webmention'
    CHECK (protocol IN ('webmention', 'pingback'));
ALTER TABLE webmentions_received ADD COLUMN protocol TEXT NOT NULL DEFAULT 'webmention'
    CHECK (protocol IN ('webmention', 'pingback', 'trackback'));
-- What a trackback's sender says of its page (title, excerpt, blog name), plain text, shown once verified.
ALTER TABLE webmentions_received ADD COLUMN claimed_title TEXT;
ALTER TABLE webmentions_received ADD COLUMN claimed_excerpt TEXT;
ALTER TABLE webmentions_received ADD COLUMN claimed_blog_name TEXT;
