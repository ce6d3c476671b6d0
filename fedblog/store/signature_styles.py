"""The HTTP signature style each remote host took (services/http.py's double-knock), shared by every process.
Only what a double-knock taught is stored: a host without a row gets the default style first."""

from __future__ import annotations

from functools import partial

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Database, SyncConnection


class SignatureStyleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def style_of(self, host: str) -> str | None:
        value = await self.db.fetch_value("SELECT style FROM host_signature_styles WHERE host = ?", (host,))
        return None if value is None else str(value)

    async def styles_of(self, hosts: list[str]) -> dict[str, str]:
        """host → style, for those of `hosts` that have one stored (one query for a claim's hosts)."""
        if not hosts:
            return {}
        marks = ", ".join("?" * len(hosts))
        rows = await self.db.fetch_all(f"SELECT host, style FROM host_signature_styles WHERE host IN ({marks})", hosts)
        return {str(row[0]): str(row[1]) for row in rows}

    async def remember(self, host: str, style: str) -> None:
        await self.db.run_transaction(partial(_remember_sync, host, style, to_text(utcnow())))


def _remember_sync(host: str, style: str, learned_at: str, raw: SyncConnection) -> None:
    raw.execute(
        "INSERT INTO host_signature_styles (host, style, learned_at) VALUES (?, ?, ?)"
        " ON CONFLICT (host) DO UPDATE SET style = excluded.style, learned_at = excluded.learned_at",
        (host, style, learned_at),
    )
