"""What remote peers deleted or undid before we saw it, so that late arrivals change nothing.

A Delete can overtake its Create, an Undo its Like: both are remembered here (by object or activity id and
the actor who sent them) and consulted before anything is stored. They are forgotten once older than any late
arrival can be (`forget_before`, from the worker's housekeeping: services/housekeeping.py).
"""

from __future__ import annotations

from datetime import datetime

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Connection, Database, SyncConnection


class RemoteObjectStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add_tombstone(self, conn: Connection, object_id: str, actor_id: str, at: datetime | None = None) -> None:
        await conn.execute(
            "INSERT INTO remote_tombstones (object_id, actor_id, deleted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (object_id, actor_id, to_text(at or utcnow())),
        )

    async def is_tombstoned(self, object_id: str) -> bool:
        value = await self.db.fetch_value("SELECT 1 FROM remote_tombstones WHERE object_id = ?", (object_id,))
        return value is not None

    @staticmethod
    def is_tombstoned_sync(raw: SyncConnection, object_id: str) -> bool:
        """is_tombstoned() with the raw connection, for Database.run (several reads in one trip)."""
        return raw.execute("SELECT 1 FROM remote_tombstones WHERE object_id = ?", (object_id,)).fetchone() is not None

    async def add_undone(self, conn: Connection, activity_id: str, actor_id: str, at: datetime | None = None) -> None:
        await conn.execute(
            "INSERT INTO undone_activities (activity_id, actor_id, undone_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (activity_id, actor_id, to_text(at or utcnow())),
        )

    async def is_undone(self, activity_id: str) -> bool:
        value = await self.db.fetch_value("SELECT 1 FROM undone_activities WHERE activity_id = ?", (activity_id,))
        return value is not None

    async def forget_before(self, moment: datetime) -> int:
        """Forget the deletes and undos remembered before `moment`: how many."""
        cutoff = to_text(moment)
        async with self.db.transaction() as conn:
            tombstones = await conn.execute("DELETE FROM remote_tombstones WHERE deleted_at < ?", (cutoff,))
            undone = await conn.execute("DELETE FROM undone_activities WHERE undone_at < ?", (cutoff,))
        return tombstones.rowcount + undone.rowcount
