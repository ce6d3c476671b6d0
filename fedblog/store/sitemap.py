"""What the sitemap lists: every published post's address and last change, without loading the posts' bodies."""

from __future__ import annotations

from datetime import datetime

from fedblog.clock import from_text
from fedblog.store.db import Database


async def list_published_post_dates(db: Database) -> list[tuple[str, datetime, bool]]:
    """(slug, last modified, is a page) of every published post and page, newest first."""
    rows = await db.fetch_all(
        "SELECT slug, COALESCE(updated_at, published_at), kind = 'page' FROM posts WHERE draft = 0 "
        "ORDER BY published_at DESC, id DESC"
    )
    return [(row[0], from_text(row[1]), bool(row[2])) for row in rows]  # type: ignore[misc]
