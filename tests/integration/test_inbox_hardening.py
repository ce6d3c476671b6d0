"""The inbox under hostile input, on the real app: clear 4xx answers, never a 5xx, nothing recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance, follow_activity

AS2 = "application/activity+json"


@pytest.fixture
async def remote(site: LiveSite) -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
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
    site: LiveSite, remote: RemoteInstance
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


async def post_signed_for(remote: RemoteInstance, inbox: str, signed_url: str, activity: dict[str, Any], **extra: str):
    """POST to `inbox` a request signed for `signed_url` (its Host sent as signed), as a replay would be."""
    import json

    from fedblog.protocol.httpsig import sign_request

    body = json.dumps(activity).encode()
    headers = sign_request(
        private_key=remote.key("alice"),
        key_id=f"{remote.actor_id('alice')}#main-key",
        method="POST",
        url=signed_url,
        body=body,
        headers={"Content-Type": AS2},
    )
    return await post_raw(inbox, body, headers | extra)


async def test_inbox__a_request_signed_for_another_host_is_401_and_not_recorded(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a Follow signed for evil.example (captured there) and sent here with that Host
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, text = await post_signed_for(remote, f"{site.url}/actor/inbox", "http://evil.example/actor/inbox", follow)
    # Then it is refused, and nothing happens
    assert status == 401
    assert "Host" in text
    assert await recorded(site) == []
    # The same Follow signed for the blog's own host is taken
    status, _ = await post_signed_for(remote, f"{site.url}/actor/inbox", f"{site.url}/actor/inbox", follow)
    assert status == 202


async def test_inbox__behind_a_proxy_the_forwarded_host_is_the_signed_one(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"server": {"behind_proxy": True}})
    remote = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    try:
        follow = follow_activity(remote, "alice", f"{site.url}/actor")
        # A proxy that rewrote Host keeps the original in X-Forwarded-Host: that one must be the blog's
        evil = await post_signed_for(
            remote, f"{site.url}/inbox", "http://evil.example/inbox", follow, **{"X-Forwarded-Host": "evil.example"}
        )
        assert evil[0] == 401
        own_host = site.url.removeprefix("http://")
        ok = await post_signed_for(
            remote, f"{site.url}/inbox", f"http://{own_host}/inbox", follow,
            **{"Host": "127.0.0.1:1", "X-Forwarded-Host": own_host},
        )  # fmt: skip
        assert ok[0] == 202
    finally:
        await remote.close()


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "EchoRequest"}',
        b"{}",
        b'{"id": 5, "type": ["Follow"], "actor": {}}',
        b'{"id": "http://127.0.0.1:9/1", "type": "Follow", "actor": "http://127.0.0.1:9/users/x", "object": "x"}',
    ],
)
async def test_inbox__an_unsigned_post_is_401_whatever_its_body(site: LiveSite, body: bytes) -> None:
    for path in ("/actor/inbox", "/inbox"):
        status, text = await post_raw(site.url + path, body)
        assert status == 401, (path, text)
    assert await recorded(site) == []


async def test_inbox__a_signed_post_that_is_not_an_activity_is_400(site: LiveSite, remote: RemoteInstance) -> None:
    status, text = await remote.post_signed("alice", f"{site.url}/inbox", {"type": "EchoRequest"})
    assert status == 400
    assert "needs string id, type and actor" in text
    assert await recorded(site) == []
