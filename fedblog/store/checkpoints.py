"""SQLite's WAL checkpoints on a connection of their own, so that the write path never waits for one.

By default the connection that commits copies the WAL back into the database file once the WAL passes 1,000 pages,
inside that commit: with the inbox's group commit, every waiting reply waited for the copy too (the commits'
p99 went from ~10 to 40–60 ms). Here the write connection checkpoints itself only past WAL_LIMIT_PAGES (a
safety net, when this connection cannot keep up); a passive checkpoint runs on its own thread after commits,
at most every INTERVAL_SECONDS. Passive: it copies what no reader still needs and never blocks a writer or a reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fedblog.store.connection import Connection, DatabaseError

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 0.5
# 64 MiB of SQLite's default 4 KiB pages: past this the write connection checkpoints as SQLite does by default.
WAL_LIMIT_PAGES = 16_384
WRITE_PRAGMA = f"PRAGMA wal_autocheckpoint={WAL_LIMIT_PAGES}"


class Checkpointer:
    """Asked after every commit that changed rows (`committed`); runs at most one checkpoint per interval."""

    def __init__(self, connection: Connection, interval: float = INTERVAL_SECONDS) -> None:
        self._connection = connection
        self._interval = interval
        self._last = float("-inf")  # the loop's time of the last checkpoint's start
        self._timer: asyncio.TimerHandle | None = None
        self._running: asyncio.Task[None] | None = None
        self._again = False  # a commit came while a checkpoint ran: one more after it
        self.done = 0  # checkpoints run (tests)

    @classmethod
    async def open(cls, path: str) -> Checkpointer:
        return cls(await Connection.open(path, (), "fedblog-db-checkpoint"))

    def committed(self) -> None:
        if self._running is not None:
            self._again = True
            return
        if self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._last + self._interval - loop.time())
        self._timer = loop.call_later(delay, self._start)

    def _start(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        self._last = loop.time()
        self._running = loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self.done += 1
        except DatabaseError as error:  # the storage refused (disk full…): the write path reports that itself
            log.debug("WAL checkpoint failed: %s", error)
        finally:
            self._running = None
        if self._again:
            self._again = False
            self.committed()

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._again = False
        if self._running is not None:
            with contextlib.suppress(Exception):
                await self._running
        await self._connection.close()
