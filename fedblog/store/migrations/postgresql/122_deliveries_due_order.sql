-- A delivery claim reads the due jobs in (next_attempt_at, id) order (store/postgresql/deliveries.CLAIM). With the
-- index on (status, next_attempt_at) alone every due row was read and sorted for each claim (the jobs of a fan-out
-- share one next_attempt_at): 4.3-6.8 ms of the server per claim with 10,000 due, 1.3-1.9 ms in index order.
-- SQLite's index carries the rowid (the id) already: its twin changes nothing.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at, id);
