-- Web commenters who asked to be told by e-mail (the form's two boxes). An address gets nothing but its
-- confirmation until it is confirmed (double opt-in); it is never shown anywhere.
CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    confirmed_at TEXT,
    confirmation_sent_at TEXT,
    created_at TEXT NOT NULL
);

-- 'replies': answers to one comment; 'post': every new comment of a post (one digest per period).
CREATE TABLE subscriptions (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('replies', 'post')),
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    comment_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    last_digest_at TEXT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX subscriptions_replies ON subscriptions (subscriber_id, comment_id) WHERE kind = 'replies';
CREATE UNIQUE INDEX subscriptions_post ON subscriptions (subscriber_id, post_id) WHERE kind = 'post';
CREATE INDEX subscriptions_comment ON subscriptions (comment_id);
CREATE INDEX subscriptions_by_post ON subscriptions (post_id, kind);

-- Every time a comment becomes published (inserted approved, or approved later), whatever wrote it: the web form,
-- the inbox's one-trip path, webmentions, the admin, the CLI. The subscriber notifier reads past its high-water mark
-- (notification_marks, stream 'publications'), so no code path needs a hook.
CREATE TABLE comment_publications (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL,
    published_at TEXT NOT NULL
);
CREATE TRIGGER comment_published_on_insert AFTER INSERT ON comments WHEN NEW.status = 'approved'
BEGIN
    INSERT INTO comment_publications (comment_id, published_at)
    VALUES (NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
CREATE TRIGGER comment_published_on_approval AFTER UPDATE OF status ON comments
WHEN NEW.status = 'approved' AND OLD.status != 'approved'
BEGIN
    INSERT INTO comment_publications (comment_id, published_at)
    VALUES (NEW.id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

-- The commenters' e-mails, one row per message to send: a queue like the deliveries (state, next attempt, attempts,
-- last error). A row is marked sent right after the SMTP server accepted it, so a restart resends nothing that went
-- and loses nothing that did not; a stopped subscription takes its pending rows with it.
CREATE TABLE subscriber_mails (
    id INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    subscription_id INTEGER REFERENCES subscriptions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('confirm', 'reply', 'digest')),
    comment_id INTEGER,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE UNIQUE INDEX subscriber_mails_once ON subscriber_mails (subscription_id, comment_id)
    WHERE comment_id IS NOT NULL;
CREATE INDEX subscriber_mails_due ON subscriber_mails (status, next_attempt_at);
CREATE INDEX subscriber_mails_sent ON subscriber_mails (subscriber_id, status, sent_at);
