"""Which domain blocks came from which imported list (see migration 037), so a re-sync can undo its own."""

from __future__ import annotations

from collections.abc import Iterable

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Connection, Database


class BlocklistStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def entries(self, source: str) -> set[str]:
        rows = await self.db.fetch_all("SELECT domain FROM blocklist_entries WHERE source = ?", (source,))
        return {row[0] for row in rows}

    async def entries_of_other_sources(self, source: str) -> set[str]:
        rows = await self.db.fetch_all("SELECT domain FROM blocklist_entries WHERE source != ?", (source,))
        return {row[0] for row in rows}

    async def sources(self) -> list[tuple[str, str, int]]:
        rows = await self.db.fetch_all("SELECT source, synced_at, domains FROM blocklist_sources ORDER BY source")
        return [(row[0], row[1], row[2]) for row in rows]

    async def replace(self, conn: Connection, source: str, domains: Iterable[str]) -> None:
        kept = sorted(set(domains))
        await conn.execute(
            "INSERT INTO blocklist_sources (source, synced_at, domains) VALUES (?, ?, ?) ON CONFLICT (source) "
            "DO UPDATE SET synced_at = excluded.synced_at, domains = excluded.domains",
            (source, to_text(utcnow()), len(kept)),
        )
        await conn.execute("DELETE FROM blocklist_entries WHERE source = ?", (source,))
        await conn.executemany(
            "INSERT INTO blocklist_entries (source, domain) VALUES (?, ?)", [(source, domain) for domain in kept]
        )
