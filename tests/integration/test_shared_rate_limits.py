"""The comment and login rate limits live in the database: a second process on the same file, or the same blog
restarted, gives a client no fresh allowance."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from tests.conftest import LiveSite, SiteFactory, bound_socket, serve_site
from tests.integration.blog_support import new_session, post_form, publish, submit_comment

VALID = {"name": "Dominique", "email": "dom@example.org", "message": "Nice post."}
Twin = Callable[[LiveSite], Awaitable[LiveSite]]


@pytest.fixture
async def twin() -> AsyncIterator[Twin]:
    """Another app (its own database connection, as another process has) on the same site and database file,
    on its own port; stopped at the end."""
    runners: list[web.AppRunner] = []

    async def start(site: LiveSite) -> LiveSite:
        sock = bound_socket()
        port = int(sock.getsockname()[1])
        settings = dataclasses.replace(
            site.settings, site=dataclasses.replace(site.settings.site, base_url=f"http://127.0.0.1:{port}")
        )
        return await serve_site(settings, sock, runners)

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_comment_rate_limit__holds_across_processes_and_restarts(site_factory: SiteFactory, twin: Twin) -> None:
    first = await site_factory(overrides={"comments": {"rate_limit_per_minute": 2}})
    await publish(first, "Post", slug="post")
    async with new_session() as session:
        assert (await submit_comment(first, "post", session, **VALID)).status == 303
    # A second process on the same database counts that comment
    second = await twin(first)
    async with new_session() as session:
        assert (await submit_comment(second, "post", session, **VALID)).status == 303
        third = await submit_comment(second, "post", session, **VALID)
    assert third.status == 429 and int(third.headers["Retry-After"]) > 0
    # The first one stopped and started again: still over the limit
    await first.runner.cleanup()
    restarted = await twin(first)
    async with new_session() as session:
        assert (await submit_comment(restarted, "post", session, **VALID)).status == 429
    assert len(await second.ctx.comments.list_by_status()) == 2


async def test_login_rate_limit__holds_across_processes_and_restarts(site: LiveSite, twin: Twin) -> None:
    async with new_session() as session:
        for _ in range(3):
            assert (await post_form(site, "/admin/login", {"password": "guess"}, session)).status == 401
    other = await twin(site)
    async with new_session() as session:
        for _ in range(2):
            assert (await post_form(other, "/admin/login", {"password": "guess"}, session)).status == 401
        assert (await post_form(other, "/admin/login", {"password": "guess"}, session)).status == 429
    await site.runner.cleanup()
    restarted = await twin(site)
    async with new_session() as session:
        page = await post_form(restarted, "/admin/login", {"password": "guess"}, session)
    assert page.status == 429 and "Too many failed login attempts" in page.text
