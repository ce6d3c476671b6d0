"""The PostgreSQL server gone for 30 seconds (stopped, then started again) while `fedblog serve` serves pages and a
fan-out runs: every page answers 503 with the clear "try again" page, a comment sent meanwhile comes back with its
text in the form, the log has no traceback, and once the server is back every queued delivery goes out, none lost.

PostgreSQL only: it is the database server that goes away (SQLite's storage failures are test_disk_full.py's). The
test stops a cluster of its own, not the session's shared one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests import postgres
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
from tests.integration.blog_support import CSRF_RE

pytestmark = pytest.mark.postgresql_only

OUTAGE_SECONDS = 30  # issue 12's figure
HOSTS, PER_HOST = 10, 30
CONCURRENCY = 8
KEPT = "Written while the database was away."


@pytest.fixture
def own_cluster() -> Iterator[postgres.Cluster]:
    with postgres.own_cluster() as cluster:
        yield cluster


@pytest.fixture
async def farm() -> AsyncIterator[InboxFarm]:
    farm = await InboxFarm(hosts=HOSTS, delay=0.3).start()
    yield farm
    await farm.close()


async def page(session: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
    async with session.get(url, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers.get("Retry-After", "")


@pytest.mark.timeout(150)
async def test_database_away_for_30_s__pages_503_comment_kept_and_every_delivery_goes_out(
    tmp_path: Path, own_cluster: postgres.Cluster, farm: InboxFarm
) -> None:
    # Given a served blog whose new post is being delivered to 300 followers on 10 hosts
    port = free_port()
    settings = fault_site(
        tmp_path / "site",
        port,
        {"delivery_concurrency": CONCURRENCY},
        comments={"moderation": "open", "rate_limit_per_minute": 100},
        database_url=own_cluster.fresh_database(),
    )
    await add_followers(settings, farm.inboxes(PER_HOST))
    slug = await publish_offline(settings, "Fan-out")
    expected = {inbox for _, inbox in farm.inboxes(PER_HOST)}
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as log:
        blog = await ServedBlog(settings, port).start(stderr=log)
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                status, html, _ = await page(session, f"{blog.url}/posts/{slug}")
                assert status == 200
                token = CSRF_RE.search(html)
                assert token
                form = {"name": "Ana", "email": "ana@example.org", "website": "", "nickname": "", "parent_id": ""}
                form |= {"message": KEPT, "csrf_token": token.group(1)}
                await wait_until(lambda: len(farm.arrivals) >= 30, "the fan-out under way", timeout=60)

                # When the database server stops for 30 seconds
                await asyncio.to_thread(own_cluster.stop_server)
                stopped_at = time.monotonic()
                at_stop = len(farm.arrivals)
                assert at_stop < len(expected), "the fan-out finished before the outage: the test proves nothing"
                # Then every page answers 503 with the clear page, all along (cached pages are not trusted either)
                answers = []
                while time.monotonic() - stopped_at < OUTAGE_SECONDS:
                    for path in ("/", f"/posts/{slug}"):
                        answers.append(await page(session, blog.url + path))
                    await asyncio.sleep(2)
                assert {status for status, _, _ in answers} == {503}
                assert all("cannot reach its database" in text for _, text, _ in answers)
                assert all(retry.isdigit() for _, _, retry in answers)
                # And a comment sent meanwhile is refused with its text kept, to send again
                async with session.post(f"{blog.url}/posts/{slug}/comments", data=form) as response:
                    refused, refused_html = response.status, await response.text()
                assert refused == 503 and "cannot reach its database" in refused_html
                assert f">{KEPT}</textarea>" in refused_html
                # And nothing more was delivered: the worker claims nothing it cannot record
                sent_while_down = len(farm.arrivals) - at_stop
                assert sent_while_down <= 2 * CONCURRENCY
                await asyncio.to_thread(own_cluster.start_server)

                # When it is back: Then pages are served again, the comment goes through and shows
                await wait_until_served(session, blog.url + "/")
                async with session.post(f"{blog.url}/posts/{slug}/comments", data=form) as response:
                    assert response.status == 200 and KEPT in await response.text()
                # And every queued delivery goes out, none lost, none sent twice beyond what was in flight
                await wait_until(lambda: set(farm.per_inbox()) >= expected, "every inbox reached", timeout=60)
                await asyncio.sleep(0.5)
        finally:
            await blog.stop()
    per_inbox = farm.per_inbox()
    assert set(per_inbox) == expected
    assert sum(count - 1 for count in per_inbox.values()) <= CONCURRENCY
    assert len({a.activity_id for a in farm.arrivals}) == 1
    assert await delivery_states(settings) == {"delivered": len(expected)}
    # And the log tells of the outage in plain lines, never a traceback
    text = log_file.read_text()
    assert "unreachable" in text
    assert "Traceback" not in text, text[text.find("Traceback") - 300 :][:3000]


async def wait_until_served(session: aiohttp.ClientSession, url: str) -> None:
    """The server is back and the site reconnected (its next call connects again): a page answers 200."""
    for _ in range(150):
        status, _, _ = await page(session, url)
        if status == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} not served again within 15 s of the database's return")
