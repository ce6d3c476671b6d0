-- PostgreSQL's twin of 004 (full-text search over posts). SQLite keeps an FTS5 index fed by triggers; PostgreSQL
-- keeps each post's words as a tsvector beside it, with a GIN index. What fills it and how it is queried (the
-- post's language configuration, ranking, highlighting) belongs to the search repository (store/search.py).
ALTER TABLE posts ADD COLUMN search_document tsvector;
CREATE INDEX posts_search_document ON posts USING GIN (search_document);
