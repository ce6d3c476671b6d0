"""Fediverse commenters' icons as fetched and resized (services/faces.py), and which ones are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import to_text
from fedblog.store.db import Database


@dataclass(frozen=True)
class FaceToFetch:
    author_id: int
    actor_id: str | None  # None for a webmention's author (an h-card photo)
    icon_url: str


@dataclass(frozen=True)
class StoredFace:
    media_type: str
    image: bytes


class FaceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def due(self, retry_before: datetime, limit: int, author_id: int | None = None) -> list[FaceToFetch]:
        """Remote authors (fediverse accounts, webmention h-cards) with an icon never fetched, changed since, or
        failed before `retry_before`."""
        rows = await self.db.fetch_all(
            "SELECT a.id, a.actor_id, a.avatar_url FROM comment_authors a "
            "LEFT JOIN remote_faces f ON f.author_id = a.id WHERE a.kind = 'remote' AND a.avatar_url IS NOT NULL "
            "AND (CAST(? AS BIGINT) IS NULL OR a.id = ?) "
            "AND (f.author_id IS NULL OR f.source_url != a.avatar_url OR (f.image IS NULL AND f.fetched_at < ?)) "
            "ORDER BY a.id LIMIT ?",
            (author_id, author_id, to_text(retry_before), limit),
        )
        return [FaceToFetch(row[0], row[1], row[2]) for row in rows]

    async def save(
        self, author_id: int, source_url: str, now: datetime, image: bytes | None, media_type: str | None, error: str
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO remote_faces (author_id, source_url, media_type, image, fetched_at, error) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (author_id) DO UPDATE SET source_url = excluded.source_url, "
                "media_type = excluded.media_type, image = excluded.image, fetched_at = excluded.fetched_at, "
                "error = excluded.error",
                (author_id, source_url, media_type, image, to_text(now), error or None),
            )

    async def face(self, author_id: int) -> StoredFace | None:
        row = await self.db.fetch_one(
            "SELECT f.media_type, f.image FROM remote_faces f JOIN comment_authors a ON a.id = f.author_id "
            "WHERE f.author_id = ? AND f.image IS NOT NULL AND f.source_url = a.avatar_url",
            (author_id,),
        )
        return None if row is None else StoredFace(row[0], bytes(row[1]))

    async def seed_of(self, author_id: int) -> str | None:
        """What a remote author's stand-in identicon is drawn from (their actor, else their profile page)."""
        value = await self.db.fetch_value(
            "SELECT COALESCE(actor_id, profile_url, name) FROM comment_authors WHERE id = ? AND kind = 'remote'",
            (author_id,),
        )
        return None if value is None else str(value)
