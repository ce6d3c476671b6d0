"""Posts and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import BodyFormat, Category, Post, PostKind, PostState
from fedblog.rendering import html_to_text
from fedblog.store.connection import Dialect
from fedblog.store.db import Connection, Database, Row
from fedblog.store.webmentions import NOT_A_MENTION

# A post's tags and categories in one column each (joined by \x1f, a category's fields by \x1e): one query per list.
_AGGREGATES: dict[Dialect, tuple[str, str]] = {
    "sqlite": (
        "(SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM post_tags t WHERE t.post_id = p.id ORDER BY tag))",
        "(SELECT group_concat(c.id || char(30) || c.slug || char(30) || c.name, char(31)) FROM (SELECT k.id, k.slug, "
        "k.name FROM post_categories pc JOIN categories k ON k.id = pc.category_id WHERE pc.post_id = p.id "
        "ORDER BY k.name) c)",
    ),
    "postgresql": (
        "(SELECT string_agg(t.tag, chr(31) ORDER BY t.tag) FROM post_tags t WHERE t.post_id = p.id)",
        "(SELECT string_agg(k.id || chr(30) || k.slug || chr(30) || k.name, chr(31) ORDER BY k.name) "
        "FROM post_categories pc JOIN categories k ON k.id = pc.category_id WHERE pc.post_id = p.id)",
    ),
}
_POST_COLUMNS = {
    dialect: f"""p.id, p.slug, p.title, p.body_markdown, p.body_html, p.summary, p.language, p.draft,
    p.published_at, p.updated_at, p.comments_open, p.state, p.first_published_at, p.created_at,
    p.kind, p.menu_order, p.in_menu, p.body_format, p.author_name, p.excerpt,
    {tags} AS tags, {categories} AS categories,
    (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id AND c.status = 'approved'
        AND c.visibility IN ('public', 'unlisted') AND {NOT_A_MENTION}) AS comment_count"""
    for dialect, (tags, categories) in _AGGREGATES.items()
}


def post_columns(dialect: Dialect) -> str:
    """The columns row_to_post reads, from `posts p`, in this dialect."""
    return _POST_COLUMNS[dialect]


@dataclass(frozen=True)
class PostFields:
    slug: str
    title: str
    body_markdown: str
    body_html: str
    summary: str
    language: str
    state: PostState
    published_at: datetime
    tags: tuple[str, ...]
    comments_open: bool = True
    first_published_at: datetime | None = None
    kind: PostKind = PostKind.POST
    menu_order: int = 0
    in_menu: bool = False
    body_format: BodyFormat = BodyFormat.MARKDOWN
    author_name: str | None = None
    excerpt: str = ""
    category_ids: tuple[int, ...] = ()
    wp_post_id: int | None = None

    @property
    def draft(self) -> bool:
        """The stored `draft` column: 1 unless the post is on the site (see migration 030)."""
        return self.state is not PostState.PUBLISHED


# Lists of blog posts (home, tags, archives, feeds) leave pages out.
ONLY_POSTS = "p.kind = 'post'"


def _categories(value: str | None) -> tuple[Category, ...]:
    if not value:
        return ()
    found = []
    for item in value.split("\x1f"):
        category_id, slug, name = item.split("\x1e", 2)
        found.append(Category(id=int(category_id), slug=slug, name=name))
    return tuple(found)


def row_to_post(row: Row) -> Post:
    tags = tuple(row["tags"].split("\x1f")) if row["tags"] else ()
    return Post(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        body_markdown=row["body_markdown"],
        body_html=row["body_html"],
        summary=row["summary"],
        language=row["language"],
        draft=bool(row["draft"]),
        published_at=from_text(row["published_at"]),  # type: ignore[arg-type]
        updated_at=from_text(row["updated_at"]),
        tags=tags,
        comment_count=row["comment_count"],
        comments_open=bool(row["comments_open"]),
        state=PostState(row["state"]),
        first_published_at=from_text(row["first_published_at"]),
        created_at=from_text(row["created_at"]),
        kind=PostKind(row["kind"]),
        menu_order=row["menu_order"],
        in_menu=bool(row["in_menu"]),
        body_format=BodyFormat(row["body_format"]),
        author_name=row["author_name"],
        excerpt=row["excerpt"],
        categories=_categories(row["categories"]),
    )


class PostStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._columns = post_columns(db.dialect)

    async def get_post_by_slug(self, slug: str, include_drafts: bool = False) -> Post | None:
        sql = f"SELECT {self._columns} FROM posts p WHERE p.slug = ?"
        if not include_drafts:
            sql += " AND p.draft = 0"
        row = await self.db.fetch_one(sql, (slug,))
        return None if row is None else row_to_post(row)

    async def get_post_by_wp_id(self, wp_post_id: int) -> Post | None:
        """The post or page imported from this WordPress id."""
        row = await self.db.fetch_one(f"SELECT {self._columns} FROM posts p WHERE p.wp_post_id = ?", (wp_post_id,))
        return None if row is None else row_to_post(row)

    async def list_menu_pages(self) -> list[tuple[str, str]]:
        """(slug, title) of the published pages linked from the site navigation, in menu order."""
        rows = await self.db.fetch_all(
            "SELECT slug, title FROM posts WHERE kind = 'page' AND in_menu = 1 AND draft = 0 "
            "ORDER BY menu_order, title, id"
        )
        return [(row[0], row[1]) for row in rows]

    async def get_post_by_id(self, post_id: int) -> Post | None:
        row = await self.db.fetch_one(f"SELECT {self._columns} FROM posts p WHERE p.id = ?", (post_id,))
        return None if row is None else row_to_post(row)

    async def list_published(self, limit: int, offset: int = 0) -> list[Post]:
        rows = await self.db.fetch_all(
            f"SELECT {self._columns} FROM posts p WHERE p.draft = 0 AND {ONLY_POSTS} "
            "ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [row_to_post(row) for row in rows]

    async def list_all(self) -> list[Post]:
        rows = await self.db.fetch_all(f"SELECT {self._columns} FROM posts p ORDER BY p.published_at DESC, p.id DESC")
        return [row_to_post(row) for row in rows]

    async def count_published(self) -> int:
        return int(await self.db.fetch_value(f"SELECT COUNT(*) FROM posts p WHERE p.draft = 0 AND {ONLY_POSTS}"))

    async def list_by_tag(self, tag: str, limit: int, offset: int = 0) -> list[Post]:
        rows = await self.db.fetch_all(
            f"SELECT {self._columns} FROM posts p JOIN post_tags t ON t.post_id = p.id "
            f"WHERE t.tag = ? AND p.draft = 0 AND {ONLY_POSTS} "
            "ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?",
            (tag, limit, offset),
        )
        return [row_to_post(row) for row in rows]

    async def count_by_tag(self, tag: str) -> int:
        return int(
            await self.db.fetch_value(
                "SELECT COUNT(*) FROM posts p JOIN post_tags t ON t.post_id = p.id WHERE t.tag = ? AND p.draft = 0 "
                f"AND {ONLY_POSTS}",
                (tag,),
            )
        )

    async def list_by_month(self, year: int, month: int) -> list[Post]:
        prefix = f"{year:04d}-{month:02d}-"
        rows = await self.db.fetch_all(
            f"SELECT {self._columns} FROM posts p WHERE p.draft = 0 AND {ONLY_POSTS} "
            "AND substr(p.published_at, 1, 8) = ? "
            "ORDER BY p.published_at DESC, p.id DESC",
            (prefix,),
        )
        return [row_to_post(row) for row in rows]

    async def list_months(self) -> list[tuple[int, int, int]]:
        """(year, month, number of posts), newest first."""
        rows = await self.db.fetch_all(
            "SELECT CAST(substr(published_at, 1, 4) AS INTEGER), CAST(substr(published_at, 6, 2) AS INTEGER), "
            "COUNT(*) FROM posts WHERE draft = 0 AND kind = 'post' GROUP BY 1, 2 ORDER BY 1 DESC, 2 DESC"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def list_tags(self) -> list[tuple[str, int]]:
        rows = await self.db.fetch_all(
            "SELECT t.tag, COUNT(*) FROM post_tags t JOIN posts p ON p.id = t.post_id "
            "WHERE p.draft = 0 AND p.kind = 'post' "
            "GROUP BY t.tag ORDER BY COUNT(*) DESC, t.tag"
        )
        return [(row[0], row[1]) for row in rows]

    async def slug_exists(self, slug: str) -> bool:
        return await self.db.fetch_value("SELECT 1 FROM posts WHERE slug = ?", (slug,)) is not None

    async def insert_post(self, conn: Connection, fields: PostFields) -> int:
        post_id = int(await conn.fetch_value(INSERT_POST, post_row(fields)))
        await self._set_tags(conn, post_id, fields.tags)
        await self._set_categories(conn, post_id, fields.category_ids)
        return post_id

    async def update_post(
        self, conn: Connection, post_id: int, fields: PostFields, updated_at: datetime | None
    ) -> None:
        await conn.execute(
            "UPDATE posts SET slug = ?, title = ?, body_markdown = ?, body_html = ?, summary = ?, language = ?, "
            "draft = ?, published_at = ?, updated_at = ?, comments_open = ?, state = ?, first_published_at = ?, "
            "body_text = ?, kind = ?, menu_order = ?, in_menu = ?, body_format = ?, author_name = ?, excerpt = ? "
            "WHERE id = ?",
            (*_post_values(fields, to_text(updated_at) if updated_at else None), post_id),
        )
        await self._set_tags(conn, post_id, fields.tags)
        await self._set_categories(conn, post_id, fields.category_ids)

    async def list_due_scheduled(self, now: datetime) -> list[Post]:
        """Scheduled posts whose time has come, oldest first."""
        rows = await self.db.fetch_all(
            f"SELECT {self._columns} FROM posts p WHERE p.state = 'scheduled' AND p.published_at <= ? "
            "ORDER BY p.published_at, p.id",
            (to_text(now),),
        )
        return [row_to_post(row) for row in rows]

    async def next_scheduled_at(self) -> datetime | None:
        value = await self.db.fetch_value("SELECT MIN(published_at) FROM posts WHERE state = 'scheduled'")
        return from_text(value) if value else None

    async def mark_published(self, conn: Connection, post_id: int, now: datetime) -> bool:
        """A scheduled post goes public; False when it is no longer scheduled (published or edited meanwhile)."""
        cursor = await conn.execute(
            "UPDATE posts SET state = 'published', draft = 0, first_published_at = COALESCE(first_published_at, ?) "
            "WHERE id = ? AND state = 'scheduled'",
            (to_text(now), post_id),
        )
        return cursor.rowcount == 1

    async def fill_missing_text(self) -> int:
        """Posts written before body_text existed (migration 031) get it, so search snippets read as the page does."""
        rows = await self.db.fetch_all("SELECT id, body_html FROM posts WHERE body_text IS NULL")
        if rows:
            async with self.db.transaction() as conn:
                await conn.executemany(
                    "UPDATE posts SET body_text = ? WHERE id = ?", [(html_to_text(row[1]), row[0]) for row in rows]
                )
        return len(rows)

    async def delete_post(self, conn: Connection, post_id: int) -> None:
        await conn.execute("DELETE FROM posts WHERE id = ?", (post_id,))

    async def add_tombstone(self, conn: Connection, object_id: str, former_type: str) -> None:
        await conn.execute(
            "INSERT INTO tombstones (object_id, former_type, deleted_at) VALUES (?, ?, ?) ON CONFLICT (object_id) "
            "DO UPDATE SET former_type = excluded.former_type, deleted_at = excluded.deleted_at",
            (object_id, former_type, to_text(utcnow())),
        )

    async def remove_tombstone(self, conn: Connection, object_id: str) -> None:
        await conn.execute("DELETE FROM tombstones WHERE object_id = ?", (object_id,))

    async def get_tombstone(self, object_id: str) -> tuple[str, datetime] | None:
        row = await self.db.fetch_one(
            "SELECT former_type, deleted_at FROM tombstones WHERE object_id = ?", (object_id,)
        )
        return None if row is None else (row[0], from_text(row[1]))  # type: ignore[return-value]

    async def _set_categories(self, conn: Connection, post_id: int, category_ids: Sequence[int]) -> None:
        await conn.execute("DELETE FROM post_categories WHERE post_id = ?", (post_id,))
        await conn.executemany(
            "INSERT INTO post_categories (post_id, category_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(post_id, category_id) for category_id in category_ids],
        )

    async def _set_tags(self, conn: Connection, post_id: int, tags: Sequence[str]) -> None:
        await conn.execute("DELETE FROM post_tags WHERE post_id = ?", (post_id,))
        await conn.executemany(
            "INSERT INTO post_tags (post_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(post_id, tag) for tag in tags],
        )


def _wordpress_fields(fields: PostFields) -> tuple[object, ...]:
    """kind, menu_order, in_menu, body_format, author_name, excerpt: the columns of migration 020, in that order."""
    return (
        fields.kind.value,
        fields.menu_order,
        int(fields.in_menu),
        fields.body_format.value,
        fields.author_name,
        fields.excerpt,
    )


# One posts row, for the services' inserts and the WordPress import's (which runs on the raw connection).
INSERT_POST = (
    "INSERT INTO posts (slug, title, body_markdown, body_html, summary, language, draft, published_at, "
    "created_at, comments_open, state, first_published_at, body_text, kind, menu_order, in_menu, body_format, "
    "author_name, excerpt, wp_post_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "RETURNING id"
)


def post_row(fields: PostFields) -> tuple[object, ...]:
    return (*_post_values(fields, to_text(utcnow())), fields.wp_post_id)


def _post_values(fields: PostFields, stamp: str | None) -> tuple[object, ...]:
    """The columns an insert and an update both write, in INSERT_POST's order; `stamp` is created_at for an
    insert, updated_at for an update (the ninth column either way)."""
    return (
        fields.slug,
        fields.title,
        fields.body_markdown,
        fields.body_html,
        fields.summary,
        fields.language,
        int(fields.draft),
        to_text(fields.published_at),
        stamp,
        int(fields.comments_open),
        fields.state.value,
        to_text(fields.first_published_at) if fields.first_published_at else None,
        html_to_text(fields.body_html),
        *_wordpress_fields(fields),
    )
