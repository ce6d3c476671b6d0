"""kill -9 of one of two `fedblog worker` processes in the middle of a fan-out to 1,000 inboxes on 25 hosts: every
inbox gets the Create, the few sent twice are at most what the dead worker had in flight (its concurrency), all with
the same activity id, and the survivor takes the dead worker's leases once its heartbeat is stale, not when the
five-minute leases run out.

PostgreSQL only: several workers on one database is the PostgreSQL deployment (issue 12's "any number of workers,
on any machine"). Both workers run on this machine but neither frees the other's leases by its process id (that is
done once, when a worker starts): the takeover goes through the heartbeat, as for a worker on another machine.
SQLite's crash and restart of the one process is tests/faults/test_crash_recovery.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedblog.assembly import open_context
from fedblog.services.delivery import LOCK_DURATION
from tests.conftest import free_port
from tests.faults.support import (
    InboxFarm,
    WorkerProcess,
    add_followers,
    delivery_states,
    fault_site,
    publish_offline,
    wait_until,
)

pytestmark = pytest.mark.postgresql_only

HOSTS, PER_HOST = 25, 40  # 1,000 followers, each with its own inbox
CONCURRENCY = 16


@pytest.fixture
async def farm() -> AsyncIterator[InboxFarm]:
    farm = await InboxFarm(hosts=HOSTS, delay=0.2).start()
    yield farm
    await farm.close()


@pytest.mark.timeout(120)
async def test_kill_9_of_one_worker__the_other_takes_its_leases_in_seconds_and_nothing_is_lost(
    tmp_path: Path, farm: InboxFarm
) -> None:
    # Given a post queued for 1,000 followers on 25 hosts, and two workers on the site's database
    # (a worker silent for 6 s is taken for dead: federation.heartbeat_stale_seconds, 15 by default)
    federation = {"delivery_concurrency": CONCURRENCY, "heartbeat_stale_seconds": 6}
    settings = fault_site(tmp_path / "site", free_port(), federation)
    await add_followers(settings, farm.inboxes(PER_HOST))
    await publish_offline(settings, "Fan-out")
    expected = {inbox for _, inbox in farm.inboxes(PER_HOST)}
    doomed, survivor = WorkerProcess(settings), WorkerProcess(settings)
    async with open_context(settings) as ctx:
        try:
            await doomed.start()
            await survivor.start()
            # When one of them is killed with SIGKILL while the fan-out runs (a quarter delivered)
            await wait_until(lambda: len(farm.arrivals) >= 250, "a quarter of the fan-out delivered", timeout=60)
            await doomed.kill()
            killed_at = time.monotonic()
            at_kill = len(farm.arrivals)
            assert at_kill < len(expected), "the fan-out finished before the kill: the test proves nothing"
            dead = await ctx.db.fetch_value("SELECT id FROM delivery_workers WHERE pid = ?", (doomed.pid,))
            assert dead is not None, "the killed worker had claimed nothing: the test proves nothing"
            left = "SELECT COUNT(*) FROM deliveries WHERE locked_by = ? AND status = 'pending'"
            orphaned = int(await ctx.db.fetch_value(left, (dead,)))
            assert orphaned > 0, "the killed worker held no lease: the test proves nothing"

            # Then the survivor takes over the dead worker's leases once its heartbeat is stale, in seconds
            taken_over = None
            while time.monotonic() - killed_at < 60:
                if not await ctx.db.fetch_value(left, (dead,)):
                    taken_over = time.monotonic() - killed_at
                    break
                await asyncio.sleep(0.2)
            assert taken_over is not None, "the dead worker's leases were never taken over"
            # its last beat, then the survivor's next claim (busy CI)
            bound = settings.federation.heartbeat_stale_seconds + 10
            assert taken_over < bound < LOCK_DURATION.total_seconds() / 10, f"taken over after {taken_over:.1f} s"

            # And every inbox gets the post
            await wait_until(lambda: set(farm.per_inbox()) >= expected, "every inbox reached", timeout=40)
            await asyncio.sleep(0.5)  # a late duplicate, if any, would arrive now
        finally:
            await doomed.kill()
            await survivor.stop()
    per_inbox = farm.per_inbox()
    assert set(per_inbox) == expected
    # Sent twice: at most what the dead worker had sent and not yet recorded (its slots), all with the same id
    duplicates = sum(count - 1 for count in per_inbox.values())
    assert duplicates <= CONCURRENCY, f"{duplicates} duplicates"
    assert len({a.activity_id for a in farm.arrivals}) == 1
    assert await delivery_states(settings) == {"delivered": len(expected)}
    print(f"killed at {at_kill} arrivals, {orphaned} leases orphaned, taken over after {taken_over:.1f} s, "
          f"{duplicates} duplicate(s)")  # fmt: skip
