"""This process as the holder of leases on inbox activities: a row of `delivery_workers` (role inbox) with a
heartbeat, as a delivery worker has (services/delivery_workers.py: the one way to tell a dead process).

A lease is written with a heartbeat when the last one is not fresh, and while the process holds leases (an activity
it acknowledged and still processes, or one it took over) it beats every HEARTBEAT_EVERY. Another process, on any
machine, takes a lease over as soon as its holder's heartbeat is older than `federation.heartbeat_stale_seconds`,
or at once when the holder ran on its machine in a process that has ended (a kill -9)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from fedblog.clock import utcnow
from fedblog.services.delivery_workers import HEARTBEAT_EVERY, new_worker
from fedblog.store.db import DatabaseError, StorageUnavailable
from fedblog.store.deliveries import INBOX, DeliveryStore
from fedblog.store.inbox import Lease

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

T = TypeVar("T")

# An activity still processing after the inbox's answer is leased this long: longer than any handler runs (fetch
# timeouts, the thread budget). Its holder's heartbeat, not this, is what ends it when the holder dies.
INBOX_LEASE = timedelta(minutes=2)


class InboxLeases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.worker = new_worker(utcnow(), INBOX)
        self._held = 0  # leases taken and not settled yet
        self._last_beat = -math.inf  # time.monotonic() when the last heartbeat written was sent
        self._beating: asyncio.Task[None] | None = None

    def _beat_due(self) -> bool:
        return time.monotonic() - self._last_beat >= HEARTBEAT_EVERY.total_seconds()

    async def take(self, write: Callable[[Lease], Awaitable[T]], now: datetime | None = None) -> T:
        """`write(lease)` commits a lease in this process's name; the heartbeat goes with it when one is due (a
        lease whose holder has no fresh heartbeat would be free to anyone)."""
        started = time.monotonic()
        lease = Lease(self.worker.id, (now or utcnow()) + INBOX_LEASE, self.worker if self._beat_due() else None)
        result = await write(lease)
        if lease.beat is not None:
            self._last_beat = max(self._last_beat, started)
        return result

    def hold(self, count: int = 1) -> None:
        """`count` leases were taken: beat while any is held."""
        self._held += count
        if self._held > 0 and self._beating is None:
            self._beating = asyncio.create_task(self._keep_beating())

    def release(self, count: int = 1) -> None:
        self._held -= count

    async def _keep_beating(self) -> None:
        try:
            while self._held > 0:
                wait = self._last_beat + HEARTBEAT_EVERY.total_seconds() - time.monotonic()
                await asyncio.sleep(max(0.0, wait))
                if self._held <= 0 or not self._beat_due():
                    continue
                started = time.monotonic()
                try:
                    async with self.ctx.db.transaction() as conn:
                        await DeliveryStore(self.ctx.db).heartbeat(conn, self.worker, utcnow())
                except (StorageUnavailable, DatabaseError) as error:
                    # Leases held through an outage may be taken over by another process: processed twice at most.
                    log.warning("the inbox's heartbeat was not written: %s", error)
                    await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
                    continue
                self._last_beat = started
        finally:
            self._beating = None

    async def close(self) -> None:
        """Once nothing is processing any more (the context closes)."""
        task = self._beating
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def inbox_leases(ctx: Context) -> InboxLeases:
    leases = ctx.runtime.inbox_leases
    if leases is None:
        leases = ctx.runtime.inbox_leases = InboxLeases(ctx)
    return leases
