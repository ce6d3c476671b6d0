"""Hosts in trouble: one down for a minute gets everything at the first retry (its inboxes failing together are
one failure of the host, not one each), one down for an hour at the first retry after it is back, and one that never
answers holds no worker slot past the timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fedblog.assembly import open_context
from fedblog.clock import from_text
from fedblog.context import Context
from fedblog.services.delivery import DeliveryWorker
from fedblog.services.delivery_policy import next_delay
from fedblog.services.posts import PostInput, PostService
from tests.conftest import free_port
from tests.faults.support import InboxFarm, add_followers, fault_site, wait_until


class Clock:
    """The worker's clock, moved by hand: a minute of outage without waiting a minute."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def farm() -> AsyncIterator[InboxFarm]:
    farm = await InboxFarm(hosts=2).start()
    yield farm
    await farm.close()


@contextlib.asynccontextmanager
async def _site(tmp_path: Path, farm: InboxFarm, per_host: int, **federation: int) -> AsyncIterator[Context]:
    settings = fault_site(tmp_path / "site", free_port(), federation)
    await add_followers(settings, farm.inboxes(per_host))
    async with open_context(settings) as ctx:
        yield ctx


@pytest.mark.parametrize("inboxes", [6, 9])
async def test_host_down_for_a_minute__gets_everything_at_the_first_retry(
    tmp_path: Path, farm: InboxFarm, inboxes: int
) -> None:
    async with _site(tmp_path, farm, inboxes) as ctx:
        # Given a host that is down (503) when the author publishes
        clock = Clock()
        farm.status = 503
        await PostService(ctx).publish(PostInput(title="Outage", body_markdown="Body"))
        worker = DeliveryWorker(ctx, clock=clock)
        assert await worker.run_once() == 2 * inboxes
        # When it is back a minute later (the first retry of the schedule)
        farm.status = 202
        clock.now += next_delay(1)
        assert next_delay(1) == timedelta(minutes=1)
        # Then every inbox gets the post at that retry: the host was not paused for hours
        assert await worker.run_once() == 2 * inboxes
        states = await ctx.db.fetch_all("SELECT status, attempts FROM deliveries WHERE activity_id LIKE '%/create/%'")
        assert {(row[0], row[1]) for row in states} == {("delivered", 2)}
        hosts = await ctx.db.fetch_all("SELECT consecutive_failures, paused_until FROM hosts")
        assert {(row[0], row[1]) for row in hosts} == {(0, None)}


async def test_hanging_host__holds_no_worker_slot_past_the_delivery_timeout(tmp_path: Path, farm: InboxFarm) -> None:
    # Given a worker with ONE slot, and a host that accepts requests and never answers
    async with _site(tmp_path, farm, 3, delivery_concurrency=1, delivery_timeout_seconds=1) as ctx:
        farm.hang.add(farm.host(0))
        await PostService(ctx).publish(PostInput(title="Hang", body_markdown="Body"))
        worker = DeliveryWorker(ctx)
        running = asyncio.create_task(worker.run())
        try:
            # When the worker runs, the healthy host still gets its three posts: the hanging one gave its slot back
            # at each timeout (1 s) instead of holding it
            await wait_until(lambda: len(farm.arrivals) == 3, "the healthy host's three deliveries", timeout=30)
            assert {a.inbox.split("/")[2] for a in farm.arrivals} == {farm.host(1)}

            async def hung_jobs_recorded() -> bool:
                rows = await ctx.db.fetch_all(
                    "SELECT status, attempts, last_error, locked_until FROM deliveries WHERE host = ?",
                    (farm.host(0),),
                )
                return len(rows) == 3 and all(r[0] == "pending" and r[1] == 1 and r[3] is None for r in rows)

            for _ in range(200):
                if await hung_jobs_recorded():
                    break
                await asyncio.sleep(0.05)
            # Then each hanging delivery is a failed attempt, retried later, naming the timeout
            assert await hung_jobs_recorded()
            errors = await ctx.db.fetch_all("SELECT last_error FROM deliveries WHERE host = ?", (farm.host(0),))
            assert all("timeout" in (row[0] or "") for row in errors)
            assert worker.deliveries_in_flight == 0
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)


async def test_host_down_for_an_hour__gets_everything_at_the_first_retry_after_it_is_back(
    tmp_path: Path, farm: InboxFarm
) -> None:
    async with _site(tmp_path, farm, 5) as ctx:
        # Given a host that is down (503) for an hour from the moment the author publishes (the clock injected)
        clock = Clock()
        back_at = clock.now + timedelta(hours=1)
        farm.status = 503
        await PostService(ctx).publish(PostInput(title="Long outage", body_markdown="Body"))
        worker = DeliveryWorker(ctx, clock=clock)
        tries: list[timedelta] = []
        answered_from: int | None = None
        # When the worker runs at each moment a job is due, along the retry schedule (and any pause of the host)
        while True:
            due = await ctx.db.fetch_value(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'pending' AND activity_id LIKE '%/create/%'"
            )
            if due is None:
                break
            clock.now = max(clock.now, from_text(due) or clock.now)
            farm.status = 202 if clock.now >= back_at else 503
            if farm.status == 202 and answered_from is None:
                answered_from = len(farm.arrivals)  # the farm records every POST, refused or taken
            tries.append(clock.now - (back_at - timedelta(hours=1)))
            assert await worker.run_once() > 0
            assert len(tries) < 20, f"still pending after tries at {tries}"
        # Then every inbox got the post once, at the first retry after the host came back, none given up
        assert answered_from is not None
        taken = Counter(arrival.inbox for arrival in farm.arrivals[answered_from:])
        assert taken == {inbox: 1 for _, inbox in farm.inboxes(5)}
        first_after = next(at for at in tries if at >= timedelta(hours=1))
        assert first_after == tries[-1] <= timedelta(hours=1) + next_delay(4)
        states = await ctx.db.fetch_all("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
        assert {row[0]: row[1] for row in states if row[0] != "delivered"} == {}
        hosts = await ctx.db.fetch_all("SELECT consecutive_failures, paused_until FROM hosts")
        assert {(row[0], row[1]) for row in hosts} == {(0, None)}
