"""Post categories: hierarchical, each with a slug (its page /category/SLUG/); a post has any number of them."""

from __future__ import annotations

from fedblog.clock import to_text, utcnow
from fedblog.models import Category, Post
from fedblog.store.db import Connection, Database, Row
from fedblog.store.posts import ONLY_POSTS, post_columns, row_to_post


def row_to_category(row: Row) -> Category:
    return Category(
        id=row["id"], slug=row["slug"], name=row["name"], parent_id=row["parent_id"], description=row["description"]
    )


# A category by slug: created, or given a new name, a parent when one is known and a description when one is given.
UPSERT_CATEGORY = (
    "INSERT INTO categories (slug, name, parent_id, description, created_at) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (slug) DO UPDATE SET name = excluded.name, "
    "parent_id = COALESCE(excluded.parent_id, categories.parent_id), "
    "description = CASE WHEN excluded.description != '' THEN excluded.description "
    "ELSE categories.description END"
)

# A category and its subcategories (the parameter: its id; CAST: PostgreSQL cannot guess a lone parameter's type).
_TREE = (
    "WITH RECURSIVE tree(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT k.id FROM categories k "
    "JOIN tree ON k.parent_id = tree.id)"
)
_PUBLISHED_IN_TREE = (
    f"p.draft = 0 AND {ONLY_POSTS} AND EXISTS (SELECT 1 FROM post_categories pc WHERE pc.post_id = p.id "
    "AND pc.category_id IN (SELECT id FROM tree))"
)


class CategoryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_by_slug(self, slug: str) -> Category | None:
        row = await self.db.fetch_one("SELECT * FROM categories WHERE slug = ?", (slug,))
        return None if row is None else row_to_category(row)

    async def list_categories(self) -> list[tuple[Category, int]]:
        """Every category with its number of published posts, by name."""
        rows = await self.db.fetch_all(
            "SELECT k.*, (SELECT COUNT(*) FROM post_categories pc JOIN posts p ON p.id = pc.post_id "
            f"WHERE pc.category_id = k.id AND p.draft = 0 AND {ONLY_POSTS}) AS used FROM categories k ORDER BY k.name"
        )
        return [(row_to_category(row), row["used"]) for row in rows]

    async def list_posts(self, category_id: int, limit: int, offset: int = 0) -> list[Post]:
        """Published posts of a category and of its subcategories, newest first."""
        rows = await self.db.fetch_all(
            f"{_TREE} SELECT {post_columns(self.db.dialect)} FROM posts p WHERE {_PUBLISHED_IN_TREE} "
            "ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?",
            (category_id, limit, offset),
        )
        return [row_to_post(row) for row in rows]

    async def count_posts(self, category_id: int) -> int:
        return int(
            await self.db.fetch_value(
                f"{_TREE} SELECT COUNT(*) FROM posts p WHERE {_PUBLISHED_IN_TREE}",
                (category_id,),
            )
        )

    async def upsert(
        self, conn: Connection, slug: str, name: str, parent_id: int | None = None, description: str = ""
    ) -> int:
        """The category with this slug (created if new, its name, parent and description updated); its id."""
        await conn.execute(
            UPSERT_CATEGORY,
            (slug, name, parent_id, description, to_text(utcnow())),
        )
        row = await conn.fetch_one("SELECT id FROM categories WHERE slug = ?", (slug,))
        assert row is not None
        return int(row[0])
