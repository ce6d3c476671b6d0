-- The leases workers hold now, by worker: a claim counts other workers' leases per host (store/deliveries.py),
-- so a host's limit of deliveries at once holds across workers. Partial: a finished job's lease is cleared.
CREATE INDEX deliveries_leased ON deliveries (locked_by, host) WHERE locked_by IS NOT NULL;
