-- PostgreSQL's twin of ../036_site_settings.sql (same number, same tables; ids are identities a copy may set).
-- Settings changed from the admin (JSON values by dotted key, e.g. "site.title"); they win over fedblog.toml.
CREATE TABLE site_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
