-- Full-text search over posts (GET /search): an FTS5 index whose content is the post_search_source view (title,
-- Markdown body, tags), kept current by triggers so that every writer (the server, the CLI) updates it.
-- External content: the index stores only tokens; snippets read the text back through the view.
-- Each trigger first removes a post's row as the view shows it BEFORE the change, then adds it as the view shows it
-- AFTER (FTS5 must be told the exact old values to remove them). Drafts are indexed too: queries join posts and
-- keep draft = 0 only, so publishing a draft needs no special case.
-- Each trigger body stays on one line with its END: db.split_statements splits statements at ';' line ends.

CREATE VIEW post_search_source AS
SELECT p.id AS id, p.title AS title, p.body_markdown AS body,
    (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM post_tags t WHERE t.post_id = p.id ORDER BY tag)) AS tags
FROM posts p;

CREATE VIRTUAL TABLE post_search USING fts5(
    title, body, tags,
    content = 'post_search_source', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER post_search_post_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search (rowid, title, body, tags) SELECT id, title, body, tags FROM post_search_source WHERE id = new.id; END;

CREATE TRIGGER post_search_post_before_update BEFORE UPDATE OF title, body_markdown ON posts BEGIN
    INSERT INTO post_search (post_search, rowid, title, body, tags) SELECT 'delete', id, title, body, tags FROM post_search_source WHERE id = old.id; END;

CREATE TRIGGER post_search_post_after_update AFTER UPDATE OF title, body_markdown ON posts BEGIN
    INSERT INTO post_search (rowid, title, body, tags) SELECT id, title, body, tags FROM post_search_source WHERE id = new.id; END;

CREATE TRIGGER post_search_post_delete BEFORE DELETE ON posts BEGIN
    INSERT INTO post_search (post_search, rowid, title, body, tags) SELECT 'delete', id, title, body, tags FROM post_search_source WHERE id = old.id; END;

-- INSERT OR IGNORE of a tag the post already has: no row changes, so nothing to remove (the AFTER trigger won't run).
CREATE TRIGGER post_search_tag_before_insert BEFORE INSERT ON post_tags
WHEN NOT EXISTS (SELECT 1 FROM post_tags WHERE post_id = new.post_id AND tag = new.tag) BEGIN
    INSERT INTO post_search (post_search, rowid, title, body, tags) SELECT 'delete', id, title, body, tags FROM post_search_source WHERE id = new.post_id; END;

CREATE TRIGGER post_search_tag_after_insert AFTER INSERT ON post_tags BEGIN
    INSERT INTO post_search (rowid, title, body, tags) SELECT id, title, body, tags FROM post_search_source WHERE id = new.post_id; END;

CREATE TRIGGER post_search_tag_before_delete BEFORE DELETE ON post_tags BEGIN
    INSERT INTO post_search (post_search, rowid, title, body, tags) SELECT 'delete', id, title, body, tags FROM post_search_source WHERE id = old.post_id; END;

CREATE TRIGGER post_search_tag_after_delete AFTER DELETE ON post_tags BEGIN
    INSERT INTO post_search (rowid, title, body, tags) SELECT id, title, body, tags FROM post_search_source WHERE id = old.post_id; END;

-- Posts written before this migration.
INSERT INTO post_search (post_search) VALUES ('rebuild');
