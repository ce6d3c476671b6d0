"""What the exports read: every post and page (drafts too) a batch at a time, their comments of every origin and
state, the categories and the tags. Read-only; no transaction is held between batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from fedblog.models import Category, Comment, Post
from fedblog.store.comments import _SELECT as COMMENT_SELECT
from fedblog.store.comments import PUBLIC_VISIBILITIES, row_to_comment
from fedblog.store.db import Database
from fedblog.store.posts import post_columns, row_to_post

BATCH = 200


@dataclass(frozen=True)
class ExportedPost:
    post: Post
    wp_post_id: int | None  # the WordPress id it was imported with, if any


@dataclass(frozen=True)
class ExportedComment:
    comment: Comment
    mention_kind: str | None  # a webmention's kind (reply, like, repost, bookmark, mention); None otherwise


class ExportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def iter_posts(self) -> AsyncIterator[ExportedPost]:
        """Every post and page, drafts included, oldest id first, read BATCH at a time."""
        last = 0
        while True:
            rows = await self.db.fetch_all(
                f"SELECT {post_columns(self.db.dialect)}, p.wp_post_id AS wp_post_id FROM posts p WHERE p.id > ? "
                "ORDER BY p.id LIMIT ?",
                (last, BATCH),
            )
            for row in rows:
                yield ExportedPost(row_to_post(row), row["wp_post_id"])
            if len(rows) < BATCH:
                return
            last = rows[-1]["id"]

    async def wp_post_ids(self) -> set[int]:
        rows = await self.db.fetch_all("SELECT wp_post_id FROM posts WHERE wp_post_id IS NOT NULL")
        return {int(row[0]) for row in rows}

    async def wp_comment_ids(self) -> set[int]:
        rows = await self.db.fetch_all("SELECT wp_comment_id FROM comments WHERE wp_comment_id IS NOT NULL")
        return {int(row[0]) for row in rows}

    async def max_ids(self) -> tuple[int, int]:
        """The largest post and comment ids, WordPress's or ours: new ids are chosen above them."""
        row = await self.db.fetch_one(
            "SELECT (SELECT MAX(CASE WHEN COALESCE(wp_post_id, 0) > id THEN wp_post_id ELSE id END) FROM posts), "
            "(SELECT MAX(CASE WHEN COALESCE(wp_comment_id, 0) > id THEN wp_comment_id ELSE id END) FROM comments)"
        )
        return (int(row[0] or 0), int(row[1] or 0)) if row is not None else (0, 0)

    async def list_comments(self, post_id: int) -> list[ExportedComment]:
        """A post's public comments of every origin and state (private mentions stay private), oldest first."""
        rows = await self.db.fetch_all(
            f"{COMMENT_SELECT} WHERE c.post_id = ? AND c.visibility IN {PUBLIC_VISIBILITIES} "
            "ORDER BY c.created_at, c.id",
            (post_id,),
        )
        mentions = await self.db.fetch_all(
            "SELECT comment_id, kind FROM webmentions_received WHERE post_id = ? AND comment_id IS NOT NULL", (post_id,)
        )
        kinds = {row[0]: row[1] for row in mentions}
        return [ExportedComment(row_to_comment(row), kinds.get(row["id"])) for row in rows]

    async def list_categories(self) -> list[Category]:
        rows = await self.db.fetch_all("SELECT id, slug, name, parent_id, description FROM categories ORDER BY id")
        return [Category(id=r[0], slug=r[1], name=r[2], parent_id=r[3], description=r[4]) for r in rows]

    async def list_tags(self) -> list[str]:
        return [row[0] for row in await self.db.fetch_all("SELECT DISTINCT tag FROM post_tags ORDER BY tag")]
