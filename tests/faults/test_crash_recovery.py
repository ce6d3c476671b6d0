"""kill -9 in the middle of a fan-out: nothing lost, duplicates bounded by what was in flight, and the restarted
process resumes within seconds (it frees the dead process's leases instead of waiting minutes for them)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.faults.support import (
    InboxFarm,
    ServedBlog,
    add_followers,
    delivery_states,
    fault_site,
    publish_offline,
    wait_until,
)

HOSTS, PER_HOST = 50, 6  # 300 followers on 50 servers, each with its own inbox
CONCURRENCY = 32


@pytest.fixture
async def farm() -> AsyncIterator[InboxFarm]:
    farm = await InboxFarm(hosts=HOSTS, delay=0.05).start()
    yield farm
    await farm.close()


@pytest.mark.timeout(120)
async def test_kill_9_during_fan_out__nothing_lost_duplicates_bounded_resumed_in_seconds(
    tmp_path: Path, farm: InboxFarm
) -> None:
    # Given a blog whose new post is queued for 300 followers on 50 servers
    port = free_port()
    settings = fault_site(tmp_path / "site", port, {"delivery_concurrency": CONCURRENCY})
    await add_followers(settings, farm.inboxes(PER_HOST))
    await publish_offline(settings, "Fan-out")
    expected = {inbox for _, inbox in farm.inboxes(PER_HOST)}
    # When `fedblog serve` is killed with SIGKILL while the fan-out runs (a third delivered)
    blog = await ServedBlog(settings, port).start()
    try:
        await wait_until(lambda: len(farm.arrivals) >= 100, "a third of the fan-out delivered", timeout=60)
        await blog.kill()
    finally:
        await blog.kill()
    at_kill = len(farm.arrivals)
    assert at_kill < len(expected), "the fan-out finished before the kill: the test proves nothing"
    # And started again
    restarted_at = time.monotonic()
    blog = await ServedBlog(settings, port).start()
    try:
        await wait_until(lambda: set(farm.per_inbox()) >= expected, "every inbox reached after the restart", 60)
    finally:
        await blog.stop()
    # Then delivery resumed within 10 s of the restart (not after the 5-minute leases)
    first_after = min(a.at for a in farm.arrivals[at_kill:])
    assert first_after - restarted_at < 10
    # And no follower lost the post; the few sent twice were those in flight at the kill, with the same id
    per_inbox = farm.per_inbox()
    assert set(per_inbox) == expected
    duplicates = sum(count - 1 for count in per_inbox.values())
    assert duplicates <= CONCURRENCY
    assert len({a.activity_id for a in farm.arrivals}) == 1
    assert await delivery_states(settings) == {"delivered": len(expected)}
