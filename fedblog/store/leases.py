"""Named leases: work that must run in one worker at a time, whichever process and machine it is.

The author's digest and the fan-out of publications into queued mails each read past one high-water mark and
move it after; two workers doing it at once would send one digest twice. A lease row (`mail_leases`, migration 115)
names its holder and when it lapses: taken when free or lapsed (or already ours), released when done (`held`: also
when the work is cancelled, as a worker stopping on SIGTERM cancels it), and left to lapse by a worker that is
killed. On PostgreSQL the upsert locks the row, and a second taker re-reads it after the
first commits, so two takers never both win; on SQLite writers take turns.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

from fedblog.clock import to_text
from fedblog.store.db import Database

_TAKE = (
    "INSERT INTO mail_leases (name, holder, locked_until) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, locked_until = excluded.locked_until "
    "WHERE mail_leases.locked_until <= ? OR mail_leases.holder = excluded.holder"
)


class LeaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def take(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """The lease `name` for `holder` until `until`, when nobody else holds it at `now`; whether it is ours."""
        async with self.db.transaction() as conn:
            await conn.execute(_TAKE, (name, holder, to_text(until), to_text(now)))
            return await conn.fetch_value("SELECT holder FROM mail_leases WHERE name = ?", (name,)) == holder

    @contextlib.asynccontextmanager
    async def held(self, name: str, holder: str, now: datetime, until: datetime) -> AsyncIterator[bool]:
        """`async with leases.held(...) as ours:` the lease `name` for the block when nobody else holds it (True),
        released when the block ends, however it ends: the next taker need not wait for it to lapse."""
        if not await self.take(name, holder, now, until):
            yield False
            return
        try:
            yield True
        finally:
            await self.release(name, holder)

    async def release(self, name: str, holder: str) -> None:
        """Free at once for the next taker (only if still ours: a lapsed lease may have passed to another)."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM mail_leases WHERE name = ? AND holder = ?", (name, holder))
