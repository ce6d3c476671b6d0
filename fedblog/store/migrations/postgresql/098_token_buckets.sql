-- PostgreSQL's twin of ../098_token_buckets.sql (same number, same table).
-- The inbox's token buckets (senders not known yet: per host, per key, per post) kept in the database, so every
-- process takes from the same buckets. A row exists while its bucket is not full; full_at is when it is again.
CREATE TABLE token_buckets (
    scope TEXT NOT NULL,
    bucket_key TEXT NOT NULL,
    tokens DOUBLE PRECISION NOT NULL,
    counted_at DOUBLE PRECISION NOT NULL,
    full_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (scope, bucket_key)
);
CREATE INDEX token_buckets_by_full_at ON token_buckets (full_at);
