-- PostgreSQL's twin of ../015_delivery_workers.sql (same number, same tables; ids are identities a copy may set).
-- Delivery workers and their heartbeats: a job's lease names the worker holding it, and a lease whose worker's
-- heartbeat stopped (a killed process) is free at once instead of after `locked_until`.
CREATE TABLE delivery_workers (
    id TEXT PRIMARY KEY,
    machine TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
);

ALTER TABLE deliveries ADD COLUMN locked_by TEXT;
