"""The hostile-input corpus (cases.py) against the real app on a real port: each case is one test, named
family/case; every answer is the safe one, never a 5xx, and nothing hostile reaches a page or a private address."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.abc import AbstractResolver
from yarl import URL

from fedblog.protocol.addresses import UnsafeURL, check_url_shape, is_public_address
from fedblog.services.http import FetchError, HttpClient
from fedblog.services.inbox import wait_for_processing
from fedblog.store.webmentions import WebmentionStore
from tests.conftest import ADMIN_PASSWORD
from tests.fakes.remote import actor_key
from tests.hostile.active import active_content
from tests.hostile.cases import (
    CASES,
    POST_PAGE,
    Address,
    Burst,
    Case,
    Comment,
    KeyAt,
    Login,
    Mention,
    Profile,
    Raw,
    Rebind,
    Redirect,
)
from tests.hostile.cases import Signed as SignedProbe
from tests.hostile.signing import signed_post
from tests.hostile.world import World, as_json, open_world
from tests.integration.blog_support import CSRF_RE

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Answer:
    status: int
    text: str = ""
    location: str = ""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async for opened in open_world(Path(tmp_path_factory.mktemp("hostile"))):
        for path in (POST_PAGE, "/", "/search?q=baseline", "/actor/followers?page=1"):
            page = await _get(opened, path)
            for marker, count in active_content(page.text).items():
                opened.markers[marker] = max(opened.markers.get(marker, 0), count)
        yield opened


async def _get(world: World, path: str, base: str = "") -> Answer:
    async with (
        aiohttp.ClientSession() as session,
        session.get(URL((base or world.site.url) + path, encoded=True), allow_redirects=False) as response,
    ):
        return Answer(response.status, await response.text(errors="replace"), response.headers.get("Location", ""))


async def _post(url: str, body: bytes, headers: dict[str, str], session: aiohttp.ClientSession | None = None) -> Answer:
    own = session is None
    session = session or aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        async with session.post(url, data=io.BytesIO(body), headers=headers, allow_redirects=False) as response:
            text = await response.text(errors="replace")
            return Answer(response.status, text, response.headers.get("Location", ""))
    finally:
        if own:
            await session.close()


# -- one runner per kind of probe ------------------------------------------------------------------------------


async def run_raw(world: World, probe: Raw, token: str) -> Answer:
    if probe.method == "GET":
        return await _get(world, world.fill(probe.path, token))
    body = world.fill(probe.body.decode(), token).encode()
    return await _post(world.site.url + probe.path, body, probe.headers)


async def run_signed(world: World, probe: SignedProbe, token: str, actor: str = "alice") -> Answer:
    url = world.site.url + probe.path
    for before in probe.before:
        assert await world.remote.send(actor, world.fill(before, token, actor), wait=True) == 202
    if probe.body is not None:
        text = world.fill(probe.body.decode("utf-8", "surrogateescape"), token, actor)
        body = text.encode("utf-8", "surrogateescape")
    else:
        body = as_json(world.fill(probe.activity, token, actor))
    key = actor_key("bob" if probe.tweak == "bobs-key" else actor)
    key_id = world.fill(probe.key_id, token, actor) or f"{world.remote.actor_id(actor)}#main-key"
    headers, body = signed_post(key, key_id, url, body, probe.content_type, probe.tweak)
    answer = await _post(url, body, headers)
    if probe.twice:
        again = await _post(url, body, headers)
        assert again.status < 500, again.text
    await wait_for_processing(world.site.ctx)
    return answer


async def run_comment(world: World, probe: Comment, token: str) -> Answer:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(world.site.url + POST_PAGE) as response:
            match = CSRF_RE.search(await response.text())
        assert match, "the post page has no comment form"
        url = world.site.url + POST_PAGE + "/comments"
        if probe.raw_body is not None:
            body = probe.raw_body + b"&csrf_token=" + match.group(1).encode()
            return await _post(url, body, {"Content-Type": probe.content_type}, session)
        fields = {
            "name": f"Visitor {token}",
            "email": "visitor@example.org",
            "website": "",
            "nickname": "",
            "parent_id": "",
            "message": f"hello {token}",
        }
        fields.update(world.fill(probe.fields, token))
        if not probe.no_token:
            fields["csrf_token"] = match.group(1)
        return await _post(url, urlencode(fields).encode(), {"Content-Type": probe.content_type}, session)


async def run_profile(world: World, probe: Profile, token: str) -> Answer:
    actor = f"p{token}"  # a new actor: its hostile document is fetched now
    world.remote.extra[actor] = world.fill(probe.actor, token, actor)
    from tests.hostile.cases import create_note

    activity = probe.activity or create_note(**{"content": f"reply {token}", **probe.note})
    return await run_signed(world, SignedProbe(activity, path="/inbox"), token, actor)


async def run_mention(world: World, probe: Mention, token: str) -> Answer:
    target = world.site.ctx.urls.post(world.post.slug)
    source = f"{world.pages.base}/mention/{token}"
    world.pages.pages[f"/mention/{token}"] = world.fill(
        '<!doctype html><html><body><article class="h-entry">'
        f'<span class="p-author h-card">{probe.card}</span>'
        f'<a class="u-in-reply-to" href="{target}">the post</a>'
        f'<div class="e-content">{probe.content}</div></article></body></html>',
        token,
    )
    answer = await _post(
        world.site.url + "/webmention",
        urlencode({"source": source, "target": target}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    store = WebmentionStore(world.site.ctx.db)
    for _ in range(400):  # the worker verifies it in the background (bounded: 20 s)
        state = await store.received_state(source, target)
        if state is not None and state[0] != "pending":
            break
        await asyncio.sleep(0.05)
    return answer


async def run_burst(world: World, probe: Burst, token: str) -> Answer:
    crowd, note = world.crowd, world.site.ctx.urls.note(world.second_post.slug)

    async def like(number: int) -> tuple[int, str]:
        actor = f"b{token}{number}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{crowd.actor_id(actor)}#likes/{token}",
            "type": "Like",
            "actor": crowd.actor_id(actor),
            "object": note,
        }
        url = world.site.ctx.urls.shared_inbox()
        headers, body = signed_post(
            actor_key(actor), f"{crowd.actor_id(actor)}#main-key", url, as_json(activity), "application/activity+json"
        )
        async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
            return response.status, response.headers.get("Retry-After", "")

    answers = await asyncio.gather(*(like(n) for n in range(probe.count)))
    await wait_for_processing(world.site.ctx)
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {202, 429}, statuses
    assert all(retry.isdigit() and int(retry) > 0 for status, retry in answers if status == 429)
    return Answer(429 if 429 in statuses else 202, str(statuses))


async def run_key_at(world: World, probe: KeyAt, token: str) -> Answer:
    url = world.guarded.url + "/actor/inbox"
    activity = world.fill(
        {"id": "{alice}/ssrf/{token}", "type": "Follow", "actor": "{alice}", "object": world.guarded.url + "/actor"},
        token,
    )
    headers, body = signed_post(
        actor_key("alice"), world.fill(probe.url, token), url, as_json(activity), "application/activity+json"
    )
    return await _post(url, body, headers)


async def run_address(world: World, probe: Address, token: str) -> Answer:
    try:
        check_url_shape(probe.url)
    except UnsafeURL:
        return Answer(0, "refused")
    host = urlsplit(probe.url).hostname or ""
    return Answer(0, "refused" if not is_public_address(host) else "allowed")


async def run_redirect(world: World, probe: Redirect, token: str) -> Answer:
    world.counter.redirect_to = world.fill(probe.to, token)
    client = HttpClient(world.guarded.ctx, address_allowed=lambda ip: ip == "127.0.0.2")
    try:
        await client.get_json(f"http://127.0.0.2:{world.counter.public_port}/r/{probe.hops}", signed=False)
    except FetchError as error:
        return Answer(0, f"refused: {error}")
    finally:
        await client.close()
    return Answer(0, "fetched")


class ChangingResolver(AbstractResolver):
    """Answers each question about rebind.test with the next of `answers` (the last one again when they run out)."""

    def __init__(self, answers: tuple[tuple[str, ...], ...]) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        addresses = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [
            {"hostname": host, "host": ip, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}
            for ip in addresses
        ]

    async def close(self) -> None:
        return None


async def run_rebind(world: World, probe: Rebind, token: str) -> Answer:
    resolver = ChangingResolver(probe.answers)
    url = f"http://rebind.test:{world.counter.port}/actor"  # 127.0.0.2 and 127.0.0.1 both listen on that port
    public_before = len(world.counter.public_hits)
    refused = 0
    for _ in range(3):  # a new client each time: the name is resolved again, and each answer is checked
        client = HttpClient(world.guarded.ctx, address_allowed=lambda ip: ip == "127.0.0.2", name_resolver=resolver)
        try:
            await client.get_json(url, signed=False)
        except FetchError as error:
            refused += error.status is None  # refused before any answer (a 404 from 127.0.0.2 is an answer)
        finally:
            await client.close()
    if probe.answers[0] == ("127.0.0.2",):
        assert len(world.counter.public_hits) > public_before, "the public answer was not the address connected to"
    return Answer(0, "refused" if refused else "fetched")


async def run_login(world: World, probe: Login, token: str) -> Answer:
    body = urlencode({"password": ADMIN_PASSWORD, "next": probe.next}).encode()
    return await _post(world.site.url + "/admin/login", body, {"Content-Type": "application/x-www-form-urlencoded"})


RUNNERS = {
    Raw: run_raw,
    SignedProbe: run_signed,
    Comment: run_comment,
    Profile: run_profile,
    Mention: run_mention,
    Burst: run_burst,
    KeyAt: run_key_at,
    Address: run_address,
    Redirect: run_redirect,
    Rebind: run_rebind,
    Login: run_login,
}


def _active_beyond_the_blogs_own(world: World, html: str) -> list[str]:
    """Active content (elements, handlers, script URLs) beyond what the blog's own pages have."""
    return [marker for marker, count in active_content(html).items() if count > world.markers.get(marker, 0)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
async def test_hostile_input(world: World, case: Case) -> None:
    token = f"t{CASES.index(case):03d}x"
    hits_before = len(world.counter.hits)
    answer = await asyncio.wait_for(RUNNERS[type(case.probe)](world, case.probe, token), timeout=45)
    safe = case.answer
    assert answer.status < 500, f"{case.id}: answered {answer.status}: {answer.text[:300]}"
    if answer.status:
        assert answer.status in safe.status, f"{case.id}: answered {answer.status}: {answer.text[:300]}"
    if safe.refused:
        assert answer.text == "refused", f"{case.id}: the guard let {case.probe} through"
    if safe.no_fetch:
        assert answer.text != "fetched", f"{case.id}: the redirect was followed"
        assert world.counter.hits[hits_before:] == [], f"{case.id}: a private address was reached"
    for marker in (world.fill(m, token) for m in safe.lacks):
        assert marker not in answer.text, f"{case.id}: the answer contains {marker!r}"
    if safe.inert:
        assert not _active_beyond_the_blogs_own(world, answer.text), f"{case.id}: active content in the answer"
    if safe.local_location and answer.location:
        location = answer.location
        parts = urlsplit(location)
        assert not parts.scheme and not parts.netloc, f"{case.id}: redirected to {location}"
        assert location.startswith("/") and not location.startswith(("//", "/\\")), f"{case.id}: to {location}"
    if safe.recorded is False and isinstance(case.probe, SignedProbe) and case.probe.activity:
        activity_id = world.fill(case.probe.activity, token)["id"]
        row = await world.site.ctx.db.fetch_one("SELECT status FROM inbox_activities WHERE id = ?", (activity_id,))
        assert row is None, f"{case.id}: the activity was recorded ({row[0]})"
    if safe.page:
        page = await _get(world, world.fill(safe.page, token))
        assert page.status == safe.page_status, f"{case.id}: {safe.page} answered {page.status}"
        for marker in (world.fill(m, token) for m in safe.lacks):
            assert marker not in page.text, f"{case.id}: {safe.page} shows {marker!r}"
        if safe.inert:
            active = _active_beyond_the_blogs_own(world, page.text)
            assert not active, f"{case.id}: {safe.page} has active content: {active}"
        for shown in (world.fill(m, token) for m in safe.shows):
            assert shown in page.text, f"{case.id}: {safe.page} does not show {shown!r}"
