-- PostgreSQL's twin of ../100_inbox_leases.sql (same number, same columns).
-- An inbox activity recorded `received` and being processed is leased by the process working on it (`locked_by`:
-- machine and process id, `locked_until`): another process takes it once the lease runs out or that process is gone
-- (killed), and never while it works on it. No lease (NULL): left to retry at the next start, as before.
ALTER TABLE inbox_activities ADD COLUMN locked_until TEXT;
ALTER TABLE inbox_activities ADD COLUMN locked_by TEXT;
