"""What a post page shows around the post: the previous (older) and next (newer) published posts (a post dated
in the future is not out yet)."""

from __future__ import annotations

from datetime import datetime

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Database


class ReadingStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def neighbours(self, post_id: int, published_at: datetime) -> tuple[tuple[str, str] | None, ...]:
        """((slug, title) of the older post or None, (slug, title) of the newer post or None), in the order of
        the home page (date, then id); pages are not among them."""
        stamp, now = to_text(published_at), to_text(utcnow())
        older = await self.db.fetch_one(
            "SELECT slug, title FROM posts WHERE draft = 0 AND kind = 'post' AND published_at <= ? "
            "AND (published_at < ? OR (published_at = ? AND id < ?)) ORDER BY published_at DESC, id DESC LIMIT 1",
            (now, stamp, stamp, post_id),
        )
        newer = await self.db.fetch_one(
            "SELECT slug, title FROM posts WHERE draft = 0 AND kind = 'post' AND published_at <= ? "
            "AND (published_at > ? OR (published_at = ? AND id > ?)) ORDER BY published_at ASC, id ASC LIMIT 1",
            (now, stamp, stamp, post_id),
        )
        return tuple(None if row is None else (row[0], row[1]) for row in (older, newer))
