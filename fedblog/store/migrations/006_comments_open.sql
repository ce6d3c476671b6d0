-- Comments can be closed per post (the admin form's "Allow comments", front matter `comments: closed`).
ALTER TABLE posts ADD COLUMN comments_open INTEGER NOT NULL DEFAULT 1;
