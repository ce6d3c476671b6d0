"""Likes and boosts of posts by remote actors, with the faces to show (from the remote actor cache)."""

from __future__ import annotations

from dataclasses import dataclass

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Connection, Database

KINDS = ("like", "announce")


@dataclass(frozen=True)
class Reaction:
    activity_id: str
    kind: str
    post_id: int
    actor_id: str
    name: str
    handle: str | None
    icon_url: str | None
    profile_url: str | None
    author_id: int | None = None  # their comment_authors row: the face the blog serves (/faces/remote/<id>)


@dataclass(frozen=True)
class StoredReaction:
    activity_id: str
    kind: str
    post_id: int
    actor_id: str


class ReactionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, conn: Connection, activity_id: str, kind: str, post_id: int, actor_id: str) -> bool:
        """Record a reaction; False when this activity or the same (kind, post, actor) is already there."""
        cursor = await conn.execute(
            "INSERT INTO reactions (activity_id, kind, post_id, actor_id, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (activity_id, kind, post_id, actor_id, to_text(utcnow())),
        )
        return cursor.rowcount > 0

    async def get(self, activity_id: str) -> StoredReaction | None:
        row = await self.db.fetch_one(
            "SELECT activity_id, kind, post_id, actor_id FROM reactions WHERE activity_id = ?", (activity_id,)
        )
        return None if row is None else StoredReaction(row[0], row[1], row[2], row[3])

    async def remove(self, conn: Connection, activity_id: str) -> None:
        await conn.execute("DELETE FROM reactions WHERE activity_id = ?", (activity_id,))

    async def remove_matching(self, conn: Connection, kind: str, post_id: int, actor_id: str) -> None:
        await conn.execute(
            "DELETE FROM reactions WHERE kind = ? AND post_id = ? AND actor_id = ?", (kind, post_id, actor_id)
        )

    async def remove_by_actor(self, conn: Connection, actor_id: str) -> None:
        await conn.execute("DELETE FROM reactions WHERE actor_id = ?", (actor_id,))

    async def list_for_post(self, post_id: int, kind: str, limit: int = 40) -> list[Reaction]:
        rows = await self.db.fetch_all(
            "SELECT r.activity_id, r.kind, r.post_id, r.actor_id, COALESCE(a.name, '') AS name, a.handle, "
            "a.icon_url, a.url, ca.id FROM reactions r LEFT JOIN remote_actors a ON a.id = r.actor_id "
            "LEFT JOIN comment_authors ca ON ca.actor_id = r.actor_id "
            "WHERE r.post_id = ? AND r.kind = ? ORDER BY r.created_at, r.activity_id LIMIT ?",
            (post_id, kind, limit),
        )
        return [Reaction(*row) for row in rows]

    async def counts_for_post(self, post_id: int) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT kind, COUNT(*) FROM reactions WHERE post_id = ? GROUP BY kind", (post_id,)
        )
        found = {kind: 0 for kind in KINDS}
        found.update({row[0]: row[1] for row in rows})
        return found
