-- Full-text search on PostgreSQL (store/search.py; SQLite has the FTS5 index of 004 and 031): a tsvector per post,
-- in its language's configuration, kept current by triggers as FTS5's is, with a GIN index.
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Accents aside, as FTS5's remove_diacritics: each configuration fedblog uses is a copy of PostgreSQL's own with
-- unaccent before its stemmer; `fedblog_simple` (no stemming) for languages PostgreSQL has none for.
DO $$
DECLARE
    source record;
BEGIN
    FOR source IN
        SELECT c.cfgname, (SELECT d.dictname FROM pg_ts_config_map m JOIN pg_ts_dict d ON d.oid = m.mapdict
            WHERE m.mapcfg = c.oid AND m.maptokentype = 1 ORDER BY m.mapseqno DESC LIMIT 1) AS stemmer
        FROM pg_ts_config c WHERE c.cfgnamespace = 'pg_catalog'::regnamespace
    LOOP
        EXECUTE format('CREATE TEXT SEARCH CONFIGURATION %I (COPY = pg_catalog.%I)',
            'fedblog_' || source.cfgname, source.cfgname);
        EXECUTE format('ALTER TEXT SEARCH CONFIGURATION %I ALTER MAPPING FOR hword, hword_part, word '
            'WITH unaccent, %I', 'fedblog_' || source.cfgname, source.stemmer);
    END LOOP;
END $$;

-- A post's language (BCP 47: 'en', 'fr', 'pt-BR'…) to its configuration.
CREATE FUNCTION fedblog_search_config(language text) RETURNS regconfig LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT c.oid::regconfig FROM pg_ts_config c WHERE c.cfgname = 'fedblog_' || CASE
        lower(split_part(COALESCE(language, ''), '-', 1))
        WHEN 'ar' THEN 'arabic' WHEN 'hy' THEN 'armenian' WHEN 'eu' THEN 'basque' WHEN 'ca' THEN 'catalan'
        WHEN 'da' THEN 'danish' WHEN 'nl' THEN 'dutch' WHEN 'en' THEN 'english' WHEN 'fi' THEN 'finnish'
        WHEN 'fr' THEN 'french' WHEN 'de' THEN 'german' WHEN 'el' THEN 'greek' WHEN 'hi' THEN 'hindi'
        WHEN 'hu' THEN 'hungarian' WHEN 'id' THEN 'indonesian' WHEN 'ga' THEN 'irish' WHEN 'it' THEN 'italian'
        WHEN 'lt' THEN 'lithuanian' WHEN 'ne' THEN 'nepali' WHEN 'no' THEN 'norwegian' WHEN 'nb' THEN 'norwegian'
        WHEN 'nn' THEN 'norwegian' WHEN 'pt' THEN 'portuguese' WHEN 'ro' THEN 'romanian' WHEN 'ru' THEN 'russian'
        WHEN 'sr' THEN 'serbian' WHEN 'es' THEN 'spanish' WHEN 'sv' THEN 'swedish' WHEN 'ta' THEN 'tamil'
        WHEN 'tr' THEN 'turkish' WHEN 'yi' THEN 'yiddish' ELSE 'simple' END), 'fedblog_simple'::regconfig)
$$;

-- Title (A), tags (B), body (C), each in the post's configuration and again in fedblog_simple: the simple words
-- match a query as FTS5 does (whole words, or prefixes), the stemmed ones add the other forms of a word.
CREATE FUNCTION fedblog_search_document(config regconfig, title text, tags text, body text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
    SELECT setweight(to_tsvector(config, COALESCE(title, '')), 'A')
        || setweight(to_tsvector('fedblog_simple', COALESCE(title, '')), 'A')
        || setweight(to_tsvector(config, COALESCE(tags, '')), 'B')
        || setweight(to_tsvector('fedblog_simple', COALESCE(tags, '')), 'B')
        || setweight(to_tsvector(config, COALESCE(body, '')), 'C')
        || setweight(to_tsvector('fedblog_simple', COALESCE(body, '')), 'C')
$$;

CREATE FUNCTION fedblog_post_tags(post bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(tag, ' ' ORDER BY tag) FROM post_tags WHERE post_id = post
$$;

-- search_document and its GIN index come from 004's twin (kept here too, should it change).
ALTER TABLE posts ADD COLUMN IF NOT EXISTS search_config regconfig;
ALTER TABLE posts ADD COLUMN IF NOT EXISTS search_document tsvector;
CREATE INDEX IF NOT EXISTS posts_search_document ON posts USING gin (search_document);

CREATE FUNCTION fedblog_post_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_config := fedblog_search_config(NEW.language);
    NEW.search_document := fedblog_search_document(NEW.search_config, NEW.title, fedblog_post_tags(NEW.id),
        COALESCE(NEW.body_text, NEW.body_markdown));
    RETURN NEW;
END $$;
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF title, body_markdown, body_text, language ON posts
    FOR EACH ROW EXECUTE FUNCTION fedblog_post_search();

CREATE FUNCTION fedblog_post_tags_search() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    post bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.post_id ELSE NEW.post_id END;
BEGIN
    UPDATE posts SET search_document = fedblog_search_document(search_config, title, fedblog_post_tags(id),
        COALESCE(body_text, body_markdown)) WHERE id = post;
    RETURN NULL;
END $$;
CREATE TRIGGER post_tags_search AFTER INSERT OR DELETE ON post_tags
    FOR EACH ROW EXECUTE FUNCTION fedblog_post_tags_search();

-- Posts written before this migration.
UPDATE posts SET search_config = fedblog_search_config(language);
UPDATE posts SET search_document = fedblog_search_document(search_config, title, fedblog_post_tags(id),
    COALESCE(body_text, body_markdown));

-- For the query of a search (store/search.py): every term must match (AND of the terms), a term as its simple
-- form or as its stem in any configuration the posts use (OR of the configurations).
CREATE AGGREGATE fedblog_tsquery_all(tsquery) (SFUNC = tsquery_and, STYPE = tsquery);
CREATE AGGREGATE fedblog_tsquery_any(tsquery) (SFUNC = tsquery_or, STYPE = tsquery);
