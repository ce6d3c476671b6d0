"""Sliding-window rate limits in the database (one row per hit): every process sees the same counts, and a
restart forgets nothing. Times are wall-clock seconds (shared by processes, unlike a monotonic clock)."""

from __future__ import annotations

import hashlib
from functools import partial

from fedblog.store.db import Database, SyncConnection

# Hits older than this are deleted whatever their scope: no window is longer.
MAX_WINDOW_SECONDS = 24 * 3600.0


class RateLimitStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def hit(self, scope: str, client: str, limit: int, window: float, now: float) -> int:
        """Count one hit when the client is under its limit and return 0; else count nothing and return the seconds
        until a hit leaves the window. One transaction: two processes cannot both take the last place."""
        return await self.db.run_transaction(partial(_hit_sync, scope, client, limit, window, now))

    async def retry_after(self, scope: str, client: str, limit: int, window: float, now: float) -> int:
        """0 when the client may try again now, else the seconds to wait (nothing counted)."""
        return await self.db.run(partial(_retry_after_sync, scope, client, limit, window, now))

    async def reset(self, scope: str, client: str) -> None:
        await self.db.run_transaction(
            lambda raw: raw.execute("DELETE FROM rate_limit_hits WHERE scope = ? AND client = ?", (scope, client))
        )


def _retry_after_sync(scope: str, client: str, limit: int, window: float, now: float, raw: SyncConnection) -> int:
    rows = raw.execute(
        "SELECT hit_at FROM rate_limit_hits WHERE scope = ? AND client = ? AND hit_at > ? ORDER BY hit_at LIMIT ?",
        (scope, client, now - window, limit),
    ).fetchall()
    if len(rows) < limit:
        return 0
    return max(1, int(rows[0][0] + window - now) + 1)


def _hit_sync(scope: str, client: str, limit: int, window: float, now: float, raw: SyncConnection) -> int:
    if raw.dialect == "postgresql":
        # SQLite runs one write transaction at a time; PostgreSQL runs them side by side, and two processes could
        # both count the client under its limit: the count and the hit are serialized per client.
        raw.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(scope, client),))
    raw.execute("DELETE FROM rate_limit_hits WHERE hit_at <= ?", (now - MAX_WINDOW_SECONDS,))
    wait = _retry_after_sync(scope, client, limit, window, now, raw)
    if wait == 0:
        raw.execute("INSERT INTO rate_limit_hits (scope, client, hit_at) VALUES (?, ?, ?)", (scope, client, now))
    return wait


def _lock_key(scope: str, client: str) -> int:
    """A signed 64-bit advisory lock key for one client of one scope (the same in every process)."""
    digest = hashlib.blake2b(f"rate-limit\0{scope}\0{client}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
