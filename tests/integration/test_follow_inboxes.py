"""A follower's inboxes must be its own: a Follow naming the blog itself or another server as its inbox is refused
(a Reject where one of its inboxes is acceptable), never recorded, and nothing is delivered there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import eventually


@pytest.fixture
async def remote(site: LiveSite) -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    yield server
    await server.close()


def with_inbox(remote: RemoteInstance, inbox: str) -> None:
    """alice's actor document names `inbox` as her inbox (her shared inbox stays on her server)."""
    original = remote.actor_document

    def document(name: str) -> dict[str, Any]:
        return original(name) | ({"inbox": inbox} if name == "alice" else {})

    remote.actor_document = document  # type: ignore[method-assign]


async def queued_inboxes(site: LiveSite) -> list[str]:
    return [row[0] for row in await site.ctx.db.fetch_all("SELECT inbox FROM deliveries")]


@pytest.mark.parametrize("where", ["the blog's own inbox", "another server", "the blog's shared inbox"])
async def test_follow__an_inbox_that_is_not_the_actors_is_refused(
    site: LiveSite, remote: RemoteInstance, where: str
) -> None:
    inbox = {
        "the blog's own inbox": f"{site.url}/actor/inbox",
        "another server": "http://127.0.0.9:1/users/victim/inbox",
        "the blog's shared inbox": f"{site.url}/inbox",
    }[where]
    with_inbox(remote, inbox)
    follow = follow_activity(remote, "alice", f"{site.url}/actor")

    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)

    assert status == 202  # verified and recorded; the Follow itself is refused
    assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is None
    # The Reject goes to her shared inbox (on her own server), never to the named inbox
    from fedblog.services.delivery import DeliveryWorker

    await eventually(lambda: queued_inboxes(site), "the Reject queued")
    assert await queued_inboxes(site) == [f"{remote.base}/inbox"]

    async def rejects() -> list[dict[str, Any]]:
        await DeliveryWorker(site.ctx).run_once()
        return [r.activity for r in remote.received_at("/inbox") if r.activity["type"] == "Reject"]

    received = await eventually(rejects, "the Reject delivered")
    assert len(received) == 1 and received[0]["object"]["id"] == follow["id"]
    assert not [r for r in remote.received if r.activity["type"] == "Accept"]


async def test_follow__its_own_inboxes_are_accepted(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    assert status == 202
    stored = await eventually(lambda: FollowerStore(site.ctx.db).get(remote.actor_id("alice")), "alice recorded")
    assert stored.inbox == remote.inbox("alice")
