"""Old links: paths a previous site answered (WordPress permalinks, ?p=ID, uploads) and where they live now."""

from __future__ import annotations

from collections.abc import Iterable

from fedblog.store.db import Connection, Database


class OldLinkStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def find(self, path: str) -> tuple[int | None, str | None] | None:
        """(id of the post it moved to, or None; local target path, or None), or None for an unknown path."""
        row = await self.db.fetch_one("SELECT post_id, target FROM old_links WHERE path = ?", (path,))
        return None if row is None else (row[0], row[1])

    async def record_for_post(self, conn: Connection, post_id: int, paths: Iterable[str]) -> None:
        """Remember `paths` as old links of a post; a path already known keeps its first owner."""
        await conn.executemany(
            "INSERT INTO old_links (path, post_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(path, post_id) for path in paths],
        )

    async def record_target(self, conn: Connection, path: str, target: str) -> None:
        await conn.execute(
            "INSERT INTO old_links (path, target) VALUES (?, ?) "
            "ON CONFLICT (path) DO UPDATE SET post_id = NULL, target = excluded.target",
            (path, target),
        )
