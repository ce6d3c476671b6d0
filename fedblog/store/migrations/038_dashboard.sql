-- The dashboard's history. Follower gains and losses are recorded by triggers, so every path that changes the
-- followers table (inbox, CLI, admin, blocks) is counted without knowing about the dashboard.
CREATE TABLE follower_events (
    id INTEGER PRIMARY KEY,
    actor_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('gained', 'lost')),
    at TEXT NOT NULL
);
CREATE INDEX follower_events_by_date ON follower_events (at);

CREATE TRIGGER follower_gained_on_insert AFTER INSERT ON followers WHEN NEW.status = 'accepted'
BEGIN
    INSERT INTO follower_events (actor_id, kind, at) VALUES (NEW.actor_id, 'gained', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;

CREATE TRIGGER follower_gained_on_accept AFTER UPDATE OF status ON followers
WHEN OLD.status != 'accepted' AND NEW.status = 'accepted'
BEGIN
    INSERT INTO follower_events (actor_id, kind, at) VALUES (NEW.actor_id, 'gained', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;

CREATE TRIGGER follower_lost_on_delete AFTER DELETE ON followers WHEN OLD.status = 'accepted'
BEGIN
    INSERT INTO follower_events (actor_id, kind, at) VALUES (OLD.actor_id, 'lost', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
END;

-- Page views of posts by day, counted in memory on the read path and written once a minute.
CREATE TABLE post_views (
    slug TEXT NOT NULL,
    day TEXT NOT NULL,
    views INTEGER NOT NULL,
    PRIMARY KEY (slug, day)
);
