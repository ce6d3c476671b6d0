-- PostgreSQL's twin of ../006_comments_open.sql (same number, same tables; ids are identities a copy may set).
-- Comments can be closed per post (the admin form's "Allow comments", front matter `comments: closed`).
ALTER TABLE posts ADD COLUMN comments_open BIGINT NOT NULL DEFAULT 1;
