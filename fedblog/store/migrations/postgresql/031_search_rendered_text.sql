-- PostgreSQL's twin of 031: posts.body_text is the plain text of body_html, written by the store with every insert
-- and update (search snippets come from it). SQLite's view and triggers have no counterpart here (see 004).
ALTER TABLE posts ADD COLUMN body_text TEXT;
