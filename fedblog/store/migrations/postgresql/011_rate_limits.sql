-- PostgreSQL's twin of ../011_rate_limits.sql (same number, same tables; ids are identities a copy may set).
-- Rate-limit hits (comment form, admin login) kept in the database: shared by every process on this file and
-- kept across restarts, so neither a second process nor a restart gives a client a fresh allowance.
CREATE TABLE rate_limit_hits (
    scope TEXT NOT NULL,
    client TEXT NOT NULL,
    hit_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_limit_hits_by_client ON rate_limit_hits (scope, client, hit_at);
CREATE INDEX rate_limit_hits_by_time ON rate_limit_hits (hit_at);
