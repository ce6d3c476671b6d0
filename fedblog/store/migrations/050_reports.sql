-- Reports (Flag activities) from other servers' moderators: one row per reported thing of ours, for the admin only.
-- comment_id is the reported comment, or NULL for a report about the blog itself (its actor or a post).
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL,
    reporter_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    comment_id INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    UNIQUE (activity_id, subject_id)
);
CREATE INDEX reports_by_date ON reports (received_at);
