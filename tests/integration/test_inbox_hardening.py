"""The inbox under hostile input, on the real app: clear 4xx answers, never a 5xx, nothing recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import LiveSite
from tests.integration.fake_remote import FakeRemote, follow_activity

AS2 = "application/activity+json"


@pytest.fixture
async def remote(site: LiveSite) -> AsyncIterator[FakeRemote]:
    server = await FakeRemote(blog_public_key_pem=site.ctx.public_key_pem).start()
    yield server
    await server.close()


async def post_raw(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"Content-Type": AS2, **(headers or {})}) as response,
    ):
        return response.status, await response.text()


async def recorded(site: LiveSite) -> list[Any]:
    return await site.ctx.db.fetch_all("SELECT id, status FROM inbox_activities")


@pytest.mark.parametrize("path", ["/actor/inbox", "/inbox"])
@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "\\ud800", "type": "Follow", "actor": "http://127.0.0.1:9/users/x", "object": "x"}',
        b'{"id": "http://127.0.0.1:9/1", "type": "Follow", "actor": "http://127.0.0.1:9/\\udfff", "object": "x"}',
    ],
)
async def test_inbox__lone_surrogate_unsigned_is_400(site: LiveSite, path: str, body: bytes) -> None:
    status, text = await post_raw(site.url + path, body)
    assert status == 400
    assert "surrogate" in text
    assert await recorded(site) == []


async def test_inbox__lone_surrogate_in_a_signed_note_is_400_before_anything_is_recorded(
    site: LiveSite, remote: FakeRemote
) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    body = (
        b'{"id": "%s/c1", "type": "Create", "actor": "%s", "object": {"id": "%s/n1", "type": "Note", '
        b'"content": "<p>hi \\ud800</p>", "summary": "\\udc00", "attributedTo": "%s"}}'
        % (remote.base.encode(), follow["actor"].encode(), remote.base.encode(), follow["actor"].encode())
    )
    status, text = await remote.post_signed("alice", f"{site.url}/inbox", {}, body=body)
    assert status == 400
    assert "surrogate" in text
    assert await recorded(site) == []
