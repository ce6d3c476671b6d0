"""What the two webmention workers share: drain a durable queue table a bounded batch at a time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from fedblog.clock import utcnow
from fedblog.store.webmentions import WebmentionStore

if TYPE_CHECKING:
    from fedblog.context import Context

Job = TypeVar("Job")


class QueueWorker(Generic[Job]):
    """`run()` lives inside `fedblog serve`: woken when work is queued, else polling (jobs queued by the CLI);
    `run_once()` claims and handles one batch (tests, tools). A claimed job is locked for `lock_duration`: a crash
    or a restart loses nothing."""

    concurrency = 4
    lock_duration = timedelta(minutes=5)
    poll_seconds = 5.0

    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ctx
        self.clock = clock
        self.store = WebmentionStore(ctx.db)

    async def claim(self, now: datetime, locked_until: datetime, limit: int) -> list[Job]:
        raise NotImplementedError

    async def process(self, job: Job) -> None:
        raise NotImplementedError

    def wakeup(self) -> asyncio.Event:
        raise NotImplementedError

    async def run_once(self) -> int:
        now = self.clock()
        jobs = await self.claim(now, now + self.lock_duration, self.concurrency)
        await asyncio.gather(*(self.process(job) for job in jobs))
        return len(jobs)

    async def run(self) -> None:
        wakeup = self.wakeup()
        while True:
            wakeup.clear()
            if await self.run_once():
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self.poll_seconds)
