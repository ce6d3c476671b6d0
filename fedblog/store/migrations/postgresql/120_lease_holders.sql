-- PostgreSQL's twin of ../120_lease_holders.sql (same number, same column).
-- A process that holds leases on inbox activities (a web process still processing one it acknowledged) is a row of
-- delivery_workers too, with its heartbeat: any process, on any machine, tells from it whether the holder is alive
-- (services/delivery_workers.py). `role`: what the row holds leases on, `deliveries` or `inbox`. An inbox lease's
-- `locked_by` is now that row's id; a lease written before this migration names no row and is free at once.
ALTER TABLE delivery_workers ADD COLUMN role TEXT NOT NULL DEFAULT 'deliveries';
