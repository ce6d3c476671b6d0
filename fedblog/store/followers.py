"""Followers of the blog's actor: accepted ones receive every post; pending ones wait for the author."""

from __future__ import annotations

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import Follower
from fedblog.store.db import Connection, Database, Row

PENDING = "pending"
ACCEPTED = "accepted"


def row_to_follower(row: Row) -> Follower:
    return Follower(
        actor_id=row["actor_id"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
        handle=row["handle"],
        name=row["name"],
        follow_activity_id=row["follow_activity_id"],
        follow_json=row["follow_json"],
        status=row["status"],
        created_at=from_text(row["created_at"]),  # type: ignore[arg-type]
    )


class FollowerStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def upsert(
        self,
        conn: Connection,
        *,
        actor_id: str,
        inbox: str,
        shared_inbox: str | None,
        handle: str | None,
        name: str,
        follow_activity_id: str,
        follow_json: str,
        status: str,
    ) -> None:
        """Insert, or refresh the addresses and the latest Follow id (Mastodon re-sends Follow with new ids)."""
        await conn.execute(
            "INSERT INTO followers (actor_id, inbox, shared_inbox, handle, name, follow_activity_id, follow_json, "
            "status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET "
            "inbox = excluded.inbox, shared_inbox = excluded.shared_inbox, handle = excluded.handle, "
            "name = excluded.name, follow_activity_id = excluded.follow_activity_id, "
            "follow_json = excluded.follow_json, status = excluded.status",
            (actor_id, inbox, shared_inbox, handle, name, follow_activity_id, follow_json, status, to_text(utcnow())),
        )

    async def get(self, actor_id: str) -> Follower | None:
        row = await self.db.fetch_one("SELECT * FROM followers WHERE actor_id = ?", (actor_id,))
        return None if row is None else row_to_follower(row)

    async def list_by_status(self, status: str | None = None, limit: int = 1000, offset: int = 0) -> list[Follower]:
        if status is None:
            rows = await self.db.fetch_all(
                "SELECT * FROM followers ORDER BY created_at DESC, actor_id LIMIT ? OFFSET ?", (limit, offset)
            )
        else:
            rows = await self.db.fetch_all(
                "SELECT * FROM followers WHERE status = ? ORDER BY created_at DESC, actor_id LIMIT ? OFFSET ?",
                (status, limit, offset),
            )
        return [row_to_follower(row) for row in rows]

    async def count(self, status: str = ACCEPTED) -> int:
        return int(await self.db.fetch_value("SELECT COUNT(*) FROM followers WHERE status = ?", (status,)))

    async def list_accepted_ids(self, limit: int, offset: int) -> list[str]:
        rows = await self.db.fetch_all(
            "SELECT actor_id FROM followers WHERE status = 'accepted' ORDER BY created_at, actor_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [row[0] for row in rows]

    async def accepted_actor_ids(self) -> list[str]:
        """Every accepted follower's actor id (followers collection synchronization, FEP-8fcf)."""
        rows = await self.db.fetch_all("SELECT actor_id FROM followers WHERE status = 'accepted' ORDER BY actor_id")
        return [str(row[0]) for row in rows]

    async def delivery_inboxes(self, conn: Connection | None = None) -> list[str]:
        """One inbox per accepted follower, the shared inbox when the server has one; distinct."""
        sql = (
            "SELECT DISTINCT COALESCE(NULLIF(shared_inbox, ''), inbox) FROM followers "
            "WHERE status = 'accepted' ORDER BY 1"
        )
        if conn is None:
            rows = await self.db.fetch_all(sql)
        else:
            rows = await conn.fetch_all(sql)
        return [row[0] for row in rows]

    async def set_status(self, conn: Connection, actor_id: str, status: str) -> None:
        await conn.execute("UPDATE followers SET status = ? WHERE actor_id = ?", (status, actor_id))

    async def remove(self, conn: Connection, actor_id: str) -> bool:
        cursor = await conn.execute("DELETE FROM followers WHERE actor_id = ?", (actor_id,))
        return cursor.rowcount > 0

    async def remove_by_inbox(self, conn: Connection, inbox: str) -> int:
        """Followers reached through an inbox that answered 410/404: gone."""
        cursor = await conn.execute("DELETE FROM followers WHERE inbox = ? OR shared_inbox = ?", (inbox, inbox))
        return cursor.rowcount
