"""Activities the blog sent (so their ids dereference) and the outbox collection's items."""

from __future__ import annotations

from datetime import datetime

from fedblog.clock import from_text, to_text
from fedblog.store.db import Connection, Database


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        conn: Connection,
        activity_id: str,
        kind: str,
        object_id: str | None,
        body: str,
        public: bool,
        published_at: datetime,
    ) -> None:
        await conn.execute(
            "INSERT INTO outbox (id, type, object_id, body, public, published_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (activity_id, kind, object_id, body, int(public), to_text(published_at)),
        )

    async def get_body(self, activity_id: str) -> str | None:
        value = await self.db.fetch_value("SELECT body FROM outbox WHERE id = ?", (activity_id,))
        return None if value is None else str(value)

    async def get_bodies(self, activity_ids: list[str]) -> dict[str, str]:
        if not activity_ids:
            return {}
        marks = ",".join("?" * len(activity_ids))
        rows = await self.db.fetch_all(f"SELECT id, body FROM outbox WHERE id IN ({marks})", activity_ids)
        return {row[0]: row[1] for row in rows}

    async def latest_body(self, kind: str, object_id: str) -> str | None:
        value = await self.db.fetch_value(
            "SELECT body FROM outbox WHERE type = ? AND object_id = ? ORDER BY published_at DESC, rowid DESC LIMIT 1",
            (kind, object_id),
        )
        return None if value is None else str(value)

    async def count_public_creates(self) -> int:
        return int(await self.db.fetch_value("SELECT COUNT(*) FROM outbox WHERE public = 1 AND type = 'Create'"))

    async def list_public_creates(self, limit: int, offset: int) -> list[str]:
        """Bodies of the public Create activities, newest first."""
        rows = await self.db.fetch_all(
            "SELECT body FROM outbox WHERE public = 1 AND type = 'Create' ORDER BY published_at DESC, rowid DESC "
            "LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [row[0] for row in rows]

    async def forget_object(self, conn: Connection, object_id: str) -> None:
        """A deleted object's Create/Update leave the outbox, and their undelivered copies the queue."""
        await conn.execute("DELETE FROM outbox WHERE object_id = ? AND type IN ('Create', 'Update')", (object_id,))

    async def site_created_at(self) -> datetime | None:
        """When the site's database was made (the actor's `published`)."""
        value = await self.db.fetch_value("SELECT MIN(applied_at) FROM schema_migrations")
        return from_text(str(value).replace(" ", "T")) if value else None
