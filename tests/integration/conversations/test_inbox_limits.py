"""The inbox limits what senders it does not know yet can make it do (each costs a fetch of their actor): token
buckets per post for reactions and per sending host, 429 with Retry-After; known senders and trusted hosts keep
their speed."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from fedblog.protocol.httpsig import sign_request
from fedblog.services.inbox_limits import NEW_ACTORS_PER_HOST, REACTIONS_PER_POST
from tests.conftest import LiveSite, SiteFactory
from tests.fakes import remote as remote_module
from tests.fakes.remote import RemoteInstance, remote_key
from tests.helpers import publish


@pytest.fixture(autouse=True)
def one_key_for_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hundreds of accounts without hundreds of RSA keys: they all use one (each still has its own key id)."""
    monkeypatch.setattr(remote_module, "actor_key", lambda name: remote_key("conversation:crowd"))


async def send(remote: RemoteInstance, actor: str, activity: dict[str, Any]) -> tuple[int, str | None]:
    """POST signed by `actor`: (status, Retry-After)."""
    assert remote.site is not None
    url = remote.site.ctx.urls.shared_inbox()
    body = json.dumps(activity).encode()
    headers = sign_request(
        private_key=remote_key("conversation:crowd"), key_id=f"{remote.actor_id(actor)}#main-key",
        method="POST", url=url, body=body, headers={"Content-Type": "application/activity+json"},
    )  # fmt: skip
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status, response.headers.get("Retry-After")


def like(remote: RemoteInstance, actor: str, object_id: str, number: int = 1) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id(actor)}#likes/{number}",
        "type": "Like",
        "actor": remote.actor_id(actor),
        "object": object_id,
    }


async def test_inbox_limits__reactions_per_post_and_new_actors_per_host(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    note = site.ctx.urls.note(post.slug)
    cap = int(REACTIONS_PER_POST.capacity)
    # Given as many new accounts as a post takes at once: all taken
    for n in range(cap):
        assert (await send(remote, f"new{n}", like(remote, f"new{n}", note)))[0] == 202
    # When one more new account likes it: 429 with Retry-After, nothing stored
    status, retry_after = await send(remote, "late", like(remote, "late", note))
    assert status == 429 and retry_after is not None and int(retry_after) > 0
    assert (await site.ctx.db.fetch_value("SELECT COUNT(*) FROM reactions")) == cap
    # An account already known (its key cached) keeps its speed
    assert (await send(remote, "new0", like(remote, "new0", note, number=2)))[0] == 202

    # New accounts of one host beyond its burst are refused too, whatever they do
    statuses = []
    for n in range(int(NEW_ACTORS_PER_HOST.capacity)):
        statuses.append((await send(remote, f"more{n}", like(remote, f"more{n}", f"{note}?nothing={n}")))[0])
    assert statuses.count(429) >= 1
    assert statuses.count(202) >= int(NEW_ACTORS_PER_HOST.capacity) - cap - 2  # the rest of the burst went through


async def test_inbox_limits__a_trusted_host_is_never_throttled(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides={"federation": {"trusted_hosts": [f"127.0.0.1:{remote.port}"]}})
    remote.site = site
    post = await publish(site)
    note = site.ctx.urls.note(post.slug)
    for n in range(int(REACTIONS_PER_POST.capacity) + 5):
        assert (await send(remote, f"fan{n}", like(remote, f"fan{n}", note)))[0] == 202
