-- Search snippets come from the rendered text, not the Markdown source: no "**", "[text](url)" or "#" in a
-- snippet, the words as a reader sees them. posts.body_text is the plain text of body_html, written by the store
-- with every insert and update; rows written before this migration keep their Markdown in the index (COALESCE)
-- until the server fills body_text at its next start (PostStore.fill_missing_text).
-- The update triggers now also watch body_text; the view changes, so the index is rebuilt from it.
ALTER TABLE posts ADD COLUMN body_text TEXT;

DROP TRIGGER post_search_post_before_update;
DROP TRIGGER post_search_post_after_update;
DROP VIEW post_search_source;

CREATE VIEW post_search_source AS
SELECT p.id AS id, p.title AS title, COALESCE(p.body_text, p.body_markdown) AS body,
    (SELECT group_concat(tag, ' ') FROM (SELECT tag FROM post_tags t WHERE t.post_id = p.id ORDER BY tag)) AS tags
FROM posts p;

CREATE TRIGGER post_search_post_before_update BEFORE UPDATE OF title, body_markdown, body_text ON posts BEGIN
    INSERT INTO post_search (post_search, rowid, title, body, tags) SELECT 'delete', id, title, body, tags FROM post_search_source WHERE id = old.id; END;

CREATE TRIGGER post_search_post_after_update AFTER UPDATE OF title, body_markdown, body_text ON posts BEGIN
    INSERT INTO post_search (rowid, title, body, tags) SELECT id, title, body, tags FROM post_search_source WHERE id = new.id; END;

INSERT INTO post_search (post_search) VALUES ('rebuild');
