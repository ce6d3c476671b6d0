"""Settings saved from the admin: one JSON value per dotted key, put over fedblog.toml when a context opens."""

from __future__ import annotations

import json
from typing import Any

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Database


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load(self) -> dict[str, Any]:
        rows = await self.db.fetch_all("SELECT key, value FROM site_settings ORDER BY key")
        return {row["key"]: json.loads(row["value"]) for row in rows}

    async def save(self, values: dict[str, Any]) -> None:
        now = to_text(utcnow())
        async with self.db.transaction() as conn:
            for key, value in values.items():
                await conn.execute(
                    "INSERT INTO site_settings (key, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (key, json.dumps(value), now),
                )

    async def forget(self, keys: tuple[str, ...]) -> None:
        async with self.db.transaction() as conn:
            for key in keys:
                await conn.execute("DELETE FROM site_settings WHERE key = ?", (key,))
