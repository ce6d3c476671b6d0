-- PostgreSQL's twin of ../037_blocklist_sources.sql (same number, same tables; ids are identities a copy may set).
-- Domain blocks imported from a list (a Mastodon CSV export, uploaded or fetched from a URL). A re-sync from the
-- same source unblocks the domains the list no longer has, and never touches blocks added by hand.
CREATE TABLE blocklist_sources (
    source TEXT PRIMARY KEY,  -- the URL, or 'upload'
    synced_at TEXT NOT NULL,
    domains BIGINT NOT NULL
);
CREATE TABLE blocklist_entries (
    source TEXT NOT NULL REFERENCES blocklist_sources (source) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    PRIMARY KEY (source, domain)
);
