-- The whole schema of fedblog's first release: the blog, the one comment thread per post,
-- and the federation state (actors, followers, inbox, delivery queue).

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    draft INTEGER NOT NULL DEFAULT 0,
    published_at TEXT NOT NULL,
    updated_at TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX posts_published ON posts (draft, published_at DESC);

CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (post_id, tag)
);
CREATE INDEX post_tags_tag ON post_tags (tag);

-- Posts deleted after publication: their ids answer 410 with a Tombstone.
CREATE TABLE tombstones (
    object_id TEXT PRIMARY KEY,
    former_type TEXT NOT NULL,
    deleted_at TEXT NOT NULL
);

-- Whoever wrote a comment: a web visitor (name, email), a remote fediverse account, or the blog's author.
CREATE TABLE comment_authors (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('visitor', 'remote', 'owner')),
    name TEXT NOT NULL,
    email TEXT,
    website TEXT,
    actor_id TEXT UNIQUE,
    handle TEXT,
    avatar_url TEXT,
    profile_url TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX comment_authors_email ON comment_authors (email);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES comment_authors (id),
    origin TEXT NOT NULL CHECK (origin IN ('web', 'fediverse', 'webmention', 'author')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam')),
    visibility TEXT NOT NULL DEFAULT 'public'
        CHECK (visibility IN ('public', 'unlisted', 'followers', 'direct')),
    content_html TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    sensitive INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    attachments_json TEXT NOT NULL DEFAULT '[]',
    -- The remote object's id for fediverse comments; NULL for local ones (they use /comments/<id>).
    remote_id TEXT UNIQUE,
    remote_url TEXT,
    ip TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    approved_at TEXT
);
CREATE INDEX comments_post ON comments (post_id, status, created_at);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_author ON comments (author_id, status);

-- Remote actors as last fetched (fediverse commenters, followers, key owners).
CREATE TABLE remote_actors (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    handle TEXT,
    name TEXT NOT NULL DEFAULT '',
    icon_url TEXT,
    url TEXT,
    public_key_id TEXT,
    public_key_pem TEXT,
    fetched_at TEXT NOT NULL
);
CREATE INDEX remote_actors_key ON remote_actors (public_key_id);

CREATE TABLE followers (
    actor_id TEXT PRIMARY KEY,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    handle TEXT,
    name TEXT NOT NULL DEFAULT '',
    follow_activity_id TEXT NOT NULL,
    follow_json TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted')),
    created_at TEXT NOT NULL
);
CREATE INDEX followers_status ON followers (status);

-- Every inbound activity id seen, for idempotence, with its processing state.
CREATE TABLE inbox_activities (
    id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    type TEXT NOT NULL,
    object_id TEXT,
    body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
    error TEXT,
    received_at TEXT NOT NULL
);

-- Objects deleted before we saw them (a Delete arriving before its Create), so a late Create is ignored.
CREATE TABLE remote_tombstones (
    object_id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    deleted_at TEXT NOT NULL
);

CREATE TABLE reactions (
    activity_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'announce')),
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (kind, post_id, actor_id)
);

-- Undo activities that arrived before what they undo.
CREATE TABLE undone_activities (
    activity_id TEXT PRIMARY KEY,
    actor_id TEXT NOT NULL,
    undone_at TEXT NOT NULL
);

CREATE TABLE blocks (
    kind TEXT NOT NULL CHECK (kind IN ('domain', 'actor')),
    value TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);

-- Activities the blog sent, so that their ids dereference.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    object_id TEXT,
    body TEXT NOT NULL,
    public INTEGER NOT NULL DEFAULT 1,
    published_at TEXT NOT NULL
);
CREATE INDEX outbox_published ON outbox (public, published_at DESC);

-- The delivery queue: one row per (activity, inbox).
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);

CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    paused_until TEXT,
    last_success_at TEXT,
    last_failure_at TEXT
);

CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
