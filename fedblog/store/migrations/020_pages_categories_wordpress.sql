-- Moving a WordPress blog here (docs/WORDPRESS.md): pages, categories, HTML bodies, other authors' names,
-- WordPress ids for idempotent re-import, old permalinks, and pingbacks/trackbacks as comments.

-- A post is a blog post or a page: a page has its own URL /SLUG/, is not in the home list, the feeds or the
-- outbox, and is linked from the site navigation when in_menu = 1, ordered by menu_order (then title).
ALTER TABLE posts ADD COLUMN kind TEXT NOT NULL DEFAULT 'post' CHECK (kind IN ('post', 'page'));
ALTER TABLE posts ADD COLUMN menu_order INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN in_menu INTEGER NOT NULL DEFAULT 0;
-- body_markdown holds the post's source in body_format: Markdown (rendered to body_html) or HTML (imported;
-- body_html is that HTML sanitized with the same rules as rendered Markdown).
ALTER TABLE posts ADD COLUMN body_format TEXT NOT NULL DEFAULT 'markdown' CHECK (body_format IN ('markdown', 'html'));
-- The display name of another author ("by NAME" on the page); NULL for the blog's own author. The fediverse actor
-- is always the blog's.
ALTER TABLE posts ADD COLUMN author_name TEXT;
-- A hand-written excerpt (WordPress's post_excerpt), shown in lists instead of the body's first words. Not the
-- content warning (that is `summary`).
ALTER TABLE posts ADD COLUMN excerpt TEXT NOT NULL DEFAULT '';
-- The WordPress post id it was imported from: re-importing matches on it, /?p=ID and /?page_id=ID redirect by it.
ALTER TABLE posts ADD COLUMN wp_post_id INTEGER;
CREATE UNIQUE INDEX posts_wp_post_id ON posts (wp_post_id) WHERE wp_post_id IS NOT NULL;
CREATE INDEX posts_kind ON posts (kind, draft, published_at DESC);

-- Categories beside tags: hierarchical (parent_id), each with a page /category/SLUG/ and a feed; a post has any
-- number of them. On the fediverse a category goes out as a Hashtag, like a tag.
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE post_categories (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    category_id INTEGER NOT NULL REFERENCES categories (id) ON DELETE CASCADE,
    PRIMARY KEY (post_id, category_id)
);
CREATE INDEX post_categories_category ON post_categories (category_id, post_id);

-- Old links: a path (with its query, e.g. '/2009/03/14/mon-billet/' or '/?p=12') a previous site answered, and
-- where it lives now: a post (post_id) or another local path (target, e.g. a tag page or a downloaded image).
-- Matched before the 404 and answered with a 301 (web/old_links.py).
CREATE TABLE old_links (
    path TEXT PRIMARY KEY,
    post_id INTEGER REFERENCES posts (id) ON DELETE CASCADE,
    target TEXT,
    CHECK ((post_id IS NULL) != (target IS NULL))
);
CREATE INDEX old_links_post ON old_links (post_id);

-- A comment is a comment, or a pingback / trackback (another site's link to the post): shown as WordPress shows
-- them, the author's name being the source's title, the author's website its URL, the content its excerpt
-- between "[...]". Orthogonal to origin: imported ones are 'web', received ones 'webmention' (the same queue).
ALTER TABLE comments ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment' CHECK (kind IN ('comment', 'pingback', 'trackback'));
-- The WordPress comment id it was imported from (re-import matches on it). Imported comments are not federated.
ALTER TABLE comments ADD COLUMN wp_comment_id INTEGER;
CREATE UNIQUE INDEX comments_wp_comment_id ON comments (wp_comment_id) WHERE wp_comment_id IS NOT NULL;
