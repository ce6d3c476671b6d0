"""Inbound activities by id: the record that makes processing idempotent and survives restarts."""

from __future__ import annotations

import aiosqlite

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Database, Row

RECEIVED = "received"
PROCESSED = "processed"
FAILED = "failed"
IGNORED = "ignored"


class InboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, conn: aiosqlite.Connection, activity_id: str, actor_id: str, kind: str, object_id: str | None, body: str
    ) -> bool:
        """Store the activity; False when its id was already seen (a duplicate, not to be processed again)."""
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO inbox_activities (id, actor_id, type, object_id, body, status, received_at) "
            "VALUES (?, ?, ?, ?, ?, 'received', ?)",
            (activity_id, actor_id, kind, object_id, body, to_text(utcnow())),
        )
        return cursor.rowcount > 0

    async def set_status(self, conn: aiosqlite.Connection, activity_id: str, status: str, error: str = "") -> None:
        await conn.execute(
            "UPDATE inbox_activities SET status = ?, error = ? WHERE id = ?", (status, error[:500] or None, activity_id)
        )

    async def get(self, activity_id: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM inbox_activities WHERE id = ?", (activity_id,))

    async def list_unprocessed(self, limit: int = 500) -> list[Row]:
        return await self.db.fetch_all(
            "SELECT * FROM inbox_activities WHERE status = 'received' ORDER BY received_at, rowid LIMIT ?", (limit,)
        )

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT status, COUNT(*) FROM inbox_activities GROUP BY status")
        return {row[0]: row[1] for row in rows}
