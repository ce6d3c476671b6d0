"""The comments that the comments feeds list: approved, public, on published posts (webmention likes/reposts are
reactions, not comments, and stay out), newest first."""

from __future__ import annotations

from fedblog.models import Comment
from fedblog.store.comments import _SELECT, row_to_comment
from fedblog.store.db import Database
from fedblog.store.webmentions import NOT_A_MENTION

# Unlisted comments are readable on the post page but kept out of feeds, as Mastodon keeps them out of public
# timelines; followers-only and direct ones are never public.
_FEED_FILTER = f"c.status = 'approved' AND c.visibility = 'public' AND p.draft = 0 AND {NOT_A_MENTION}"
_ORDER = "ORDER BY c.created_at DESC, c.id DESC LIMIT ?"


async def list_latest_public_comments(db: Database, limit: int) -> list[Comment]:
    rows = await db.fetch_all(f"{_SELECT} WHERE {_FEED_FILTER} {_ORDER}", (limit,))
    return [row_to_comment(row) for row in rows]


async def list_latest_public_comments_of_post(db: Database, post_id: int, limit: int) -> list[Comment]:
    rows = await db.fetch_all(f"{_SELECT} WHERE c.post_id = ? AND {_FEED_FILTER} {_ORDER}", (post_id, limit))
    return [row_to_comment(row) for row in rows]
