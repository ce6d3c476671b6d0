"""Two `fedblog serve` processes on one database share their limits: the search, remote-interaction and webmention
rate limits and the inbox's token buckets cannot be dodged by reaching the other process, and the signature style
a host took after a double-knock is known to the other process at its first request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from fedblog.protocol.httpsig import sign_request
from fedblog.services.inbox_limits import UNKNOWN_KEY
from fedblog.web.interaction import LOOKUPS_PER_MINUTE
from fedblog.web.search import SEARCHES_PER_MINUTE
from fedblog.web.webmention import PER_SOURCE_HOST_PER_MINUTE
from tests.conftest import free_port
from tests.fakes.remote import remote_key
from tests.faults.support import ServedBlog, add_followers, fault_site, publish_offline, run_cli, wait_until

POST_MD = "---\ntitle: Second\nslug: second\n---\nSent by the other process.\n"


@pytest.fixture
async def two_blogs(tmp_path: Path) -> AsyncIterator[tuple[ServedBlog, ServedBlog]]:
    port_a, port_b = free_port(), free_port()
    settings = fault_site(tmp_path / "site", port_a)
    await publish_offline(settings, "Shared")
    first = await ServedBlog(settings, port_a).start()
    second = await ServedBlog(settings, port_b).start()
    yield first, second
    await first.stop()
    await second.stop()


async def status_of(method: str, url: str, **kwargs: object) -> tuple[int, str | None]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, response.headers.get("Retry-After")


@pytest.mark.timeout(120)
async def test_rate_limits__a_client_over_its_limit_on_one_process_is_refused_by_the_other(
    two_blogs: tuple[ServedBlog, ServedBlog],
) -> None:
    first, second = two_blogs
    # Searches: the whole allowance spent on the first process, one more asked of the second
    for number in range(SEARCHES_PER_MINUTE):
        assert (await status_of("GET", f"{first.url}/search", params={"q": f"word{number}"}))[0] == 200
    status, retry_after = await status_of("GET", f"{second.url}/search", params={"q": "one more"})
    assert status == 429 and retry_after is not None and int(retry_after) > 0

    # Remote-interaction lookups (each would cost a fetch from the visitor's server)
    form = {"handle": "not a handle", "follow": "1"}
    for _ in range(LOOKUPS_PER_MINUTE):
        assert (await status_of("POST", f"{first.url}/interact", data=form))[0] == 400
    assert (await status_of("POST", f"{second.url}/interact", data=form))[0] == 429

    # Webmentions from one source host
    mention = {"source": "https://spam.example/page", "target": "https://elsewhere.example/"}
    for _ in range(PER_SOURCE_HOST_PER_MINUTE):
        assert (await status_of("POST", f"{first.url}/webmention", data=mention))[0] == 400  # not our page
    assert (await status_of("POST", f"{second.url}/webmention", data=mention))[0] == 429


@pytest.mark.timeout(120)
async def test_inbox_token_buckets__an_unknown_key_out_of_tries_on_one_process_is_refused_by_the_other(
    two_blogs: tuple[ServedBlog, ServedBlog],
) -> None:
    first, second = two_blogs
    # A key nobody can fetch (its host does not answer): every try costs the blog a fetch, and is refused (401)
    key_id = f"http://127.0.0.1:{free_port()}/users/ghost#main-key"
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": key_id.replace("#main-key", "#like"),
        "type": "Like",
        "actor": key_id.removesuffix("#main-key"),
        "object": f"{first.url}/posts/shared",
    }

    async def send(blog: ServedBlog) -> tuple[int, str | None]:
        body = json.dumps(activity).encode()
        url = f"{blog.url}/inbox"
        headers = sign_request(
            private_key=remote_key("ghost"), key_id=key_id, method="POST", url=url, body=body,
            headers={"Content-Type": "application/activity+json"},
        )  # fmt: skip
        return await status_of("POST", url, data=body, headers=headers)

    tries = int(UNKNOWN_KEY.capacity)
    answers = [await send((first, second)[n % 2]) for n in range(tries)]
    assert [status for status, _ in answers] == [401] * tries
    # The next try is refused before any fetch, whichever process it reaches
    for blog in (first, second):
        status, retry_after = await send(blog)
        assert status == 429 and retry_after is not None and int(retry_after) > 0


@pytest.fixture
async def cavage_only_inbox() -> AsyncIterator[tuple[str, list[str]]]:
    """A server that takes draft-cavage only (401 to RFC 9421): its inbox URL, and the style of each POST."""
    styles: list[str] = []

    async def inbox(request: web.Request) -> web.Response:
        await request.read()
        styles.append("rfc9421" if "Signature-Input" in request.headers else "cavage")
        return web.Response(status=401 if "Signature-Input" in request.headers else 202)

    app = web.Application()
    app.router.add_post("/users/old/inbox", inbox)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/users/old/inbox", styles
    await runner.cleanup()


@pytest.mark.timeout(120)
async def test_signature_style__learned_by_one_process_is_used_first_by_the_other(
    tmp_path: Path, cavage_only_inbox: tuple[str, list[str]]
) -> None:
    inbox, styles = cavage_only_inbox
    port_a, port_b = free_port(), free_port()
    settings = fault_site(tmp_path / "site", port_a)
    await add_followers(settings, [(inbox.removesuffix("/inbox"), inbox)])
    await publish_offline(settings, "First")
    # Given the first process delivered a post with a double-knock: RFC 9421 refused, draft-cavage taken
    first = await ServedBlog(settings, port_a).start()
    try:
        await wait_until(lambda: styles == ["rfc9421", "cavage"], "the first delivery", timeout=30)
    finally:
        await first.stop()
    # When another process (started afresh, nothing in its memory) delivers the next post
    second = await ServedBlog(settings, port_b).start()
    try:
        (tmp_path / "second.md").write_text(POST_MD)
        code, out = await run_cli(settings, "post", "publish", str(tmp_path / "second.md"))
        assert code == 0, out
        await wait_until(lambda: len(styles) >= 3, "the second delivery", timeout=30)
        await asyncio.sleep(0.5)  # a second knock, if any, would arrive now
    finally:
        await second.stop()
    # Then it signs draft-cavage at the first try
    assert styles == ["rfc9421", "cavage", "cavage"]
