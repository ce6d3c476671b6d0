-- PostgreSQL's twin of ../121_assertion_keys.sql (same number, same table).
-- The FEP-8b32 assertion keys of remote actors (services/integrity.py), read from the actor's document and shared
-- by every process (they were kept a day by each process, and an actor's Update or Delete retired only the copy of
-- the process that heard it): kept a day, dropped by any process that hears the actor's Update or Delete.
CREATE TABLE actor_assertion_keys (
    actor_id TEXT PRIMARY KEY,
    keys TEXT NOT NULL,
    read_at TEXT NOT NULL
);
