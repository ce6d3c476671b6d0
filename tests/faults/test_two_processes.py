"""Two `fedblog serve` processes on one database (and the CLI as a third): every comment sent to either is stored
once, and every post reaches every follower exactly once, whichever worker claims it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from fedblog.assembly import open_context
from tests.conftest import free_port
from tests.faults.support import InboxFarm, ServedBlog, add_followers, fault_site, publish_offline, run_cli, wait_until
from tests.integration.blog_support import CSRF_RE

POST_MD = "---\ntitle: From the CLI {n}\nslug: cli-{n}\n---\nPosted while two servers run.\n"


@pytest.fixture
async def farm() -> AsyncIterator[InboxFarm]:
    farm = await InboxFarm(hosts=10, delay=0.02).start()
    yield farm
    await farm.close()


async def comment(url: str, number: int) -> int:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{url}/posts/shared") as response:
            match = CSRF_RE.search(await response.text())
        assert match
        form = {
            "name": f"Reader {number}",
            "email": "reader@example.org",
            "website": "",
            "nickname": "",
            "parent_id": "",
            "message": f"comment number {number}",
            "csrf_token": match.group(1),
        }
        async with session.post(f"{url}/posts/shared/comments", data=form, allow_redirects=False) as response:
            return response.status


@pytest.mark.timeout(120)
async def test_two_processes_on_one_database__nothing_lost_nothing_doubled(tmp_path: Path, farm: InboxFarm) -> None:
    # Given one site (50 followers on 10 servers) served by two processes on the same SQLite file
    port_a, port_b = free_port(), free_port()
    settings = fault_site(tmp_path / "site", port_a, comments={"moderation": "open", "rate_limit_per_minute": 10_000})
    await add_followers(settings, farm.inboxes(5))
    await publish_offline(settings, "Shared")
    first = await ServedBlog(settings, port_a).start()
    second = await ServedBlog(settings, port_b).start()
    try:
        # When 20 visitors comment at once through both, and the CLI publishes two posts meanwhile
        sent = asyncio.gather(*(comment(blog.url, n) for n in range(20) for blog in [(first, second)[n % 2]]))
        for n in range(2):
            (tmp_path / f"post{n}.md").write_text(POST_MD.replace("{n}", str(n)))
            code, out = await run_cli(settings, "post", "publish", str(tmp_path / f"post{n}.md"))
            assert code == 0, out
        statuses = await sent
        assert set(statuses) == {303}
        # Then every post reaches each of the 50 inboxes exactly once, whichever process delivered it
        await wait_until(lambda: len(farm.arrivals) >= 150, "three posts to 50 inboxes", timeout=60)
        await asyncio.sleep(1)  # a duplicate, if any, would arrive now
    finally:
        await first.stop()
        await second.stop()
    per_activity_and_inbox = Counter((a.activity_id, a.inbox) for a in farm.arrivals)
    assert len({activity for activity, _ in per_activity_and_inbox}) == 3
    assert set(per_activity_and_inbox.values()) == {1}
    assert len(per_activity_and_inbox) == 150
    # And every comment is stored once
    async with open_context(settings) as ctx:
        rows = await ctx.db.fetch_all("SELECT content_html FROM comments WHERE content_html LIKE '%comment number%'")
        states = await ctx.db.fetch_all("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
    numbers = Counter(int(row[0].split("comment number ")[1].split("<")[0].split()[0]) for row in rows)
    assert numbers == Counter(range(20))
    assert {row[0]: row[1] for row in states} == {"delivered": 150}
