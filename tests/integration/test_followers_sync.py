"""Followers collection synchronization (FEP-8fcf) against loopback servers: a delivery addressed to the followers
carries the digest of the receiving server's followers, and the partial collection it names lists exactly those
followers, to that server's signed GET only."""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp

from fedblog.context import Context
from fedblog.protocol.addresses import host_of
from fedblog.protocol.httpsig import sign_request
from fedblog.services.followers_sync import FollowerDigests
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import eventually


async def follow(ctx: Context, remote: RemoteInstance, name: str) -> None:
    async with ctx.db.transaction() as conn:
        await FollowerStore(ctx.db).upsert(
            conn, actor_id=remote.actor_id(name), inbox=remote.inbox(name), shared_inbox=f"{remote.base}/inbox",
            handle=f"@{name}@{remote.host}", name=name, follow_activity_id=f"{remote.base}/follows/{name}",
            follow_json="{}", status="accepted",
        )  # fmt: skip


def xor_of_sha256(ids: list[str]) -> str:
    """FEP-8fcf's digest, written out independently of fedblog's."""
    digest = bytearray(32)
    for actor_id in ids:
        for index, byte in enumerate(hashlib.sha256(actor_id.encode()).digest()):
            digest[index] ^= byte
    return digest.hex()


async def test_delivery__carries_the_receiving_servers_followers_digest(
    site: LiveSite, remotes: list[RemoteInstance]
) -> None:
    # Given two followers on one server and one on another
    mastodon = await RemoteInstance(host="127.0.0.1", blog_public_key_pem=site.ctx.public_key_pem).start()
    other = await RemoteInstance(host="127.0.0.2", blog_public_key_pem=site.ctx.public_key_pem).start()
    remotes += [mastodon, other]
    for remote, name in ((mastodon, "alice"), (mastodon, "bob"), (other, "carol")):
        await follow(site.ctx, remote, name)

    # When a post is published
    await PostService(site.ctx).publish(PostInput(title="Synchronized", body_markdown="Body"))
    await eventually(lambda: _received(mastodon, other), "both deliveries")

    # Then each server gets the digest of its own followers, and where to read them
    header = mastodon.received[0].headers["Collection-Synchronization"]
    assert f'collectionId="{site.url}/actor/followers"' in header
    assert f'url="{site.url}/actor/followers_synchronization"' in header
    expected = xor_of_sha256([mastodon.actor_id("alice"), mastodon.actor_id("bob")])
    assert f'digest="{expected}"' in header
    assert (
        f'digest="{xor_of_sha256([other.actor_id("carol")])}"'
        in other.received[0].headers["Collection-Synchronization"]
    )
    assert mastodon.received[0].verified, mastodon.received[0].reason


async def _received(first: RemoteInstance, second: RemoteInstance) -> bool:
    return bool(first.received and second.received)


async def test_partial_collection__lists_the_signers_servers_followers_to_a_signed_get_only(
    site: LiveSite, remotes: list[RemoteInstance]
) -> None:
    mastodon = await RemoteInstance(host="127.0.0.1", blog_public_key_pem=site.ctx.public_key_pem).start()
    remotes.append(mastodon)
    await follow(site.ctx, mastodon, "alice")
    await follow(site.ctx, mastodon, "bob")
    async with site.ctx.db.transaction() as conn:  # a follower elsewhere, never listed to this server
        await FollowerStore(site.ctx.db).upsert(
            conn, actor_id="https://elsewhere.example/users/zed", inbox="https://elsewhere.example/inbox",
            shared_inbox=None, handle=None, name="zed", follow_activity_id="https://elsewhere.example/f",
            follow_json="{}", status="accepted",
        )  # fmt: skip
    url = f"{site.url}/actor/followers_synchronization"
    accept = {"Accept": "application/activity+json"}
    signed = sign_request(
        private_key=mastodon.key("alice"), key_id=f"{mastodon.actor_id('alice')}#main-key", method="GET", url=url,
        headers=accept,
    )  # fmt: skip

    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers=accept) as response:
            assert response.status == 401
        async with session.get(url, headers=signed) as response:
            assert response.status == 200
            collection = await response.json(content_type=None)

    assert collection["type"] == "OrderedCollection" and collection["id"] == url
    assert sorted(collection["orderedItems"]) == sorted([mastodon.actor_id("alice"), mastodon.actor_id("bob")])


async def test_digests__deliveries_asking_at_once_read_the_followers_once(site: LiveSite) -> None:
    # Given 40 followers on 8 servers, and digests not computed yet (a worker just started)
    actor_ids = [f"http://127.0.0.{n % 8 + 1}:8000/users/u{n}" for n in range(40)]
    async with site.ctx.db.transaction() as conn:
        for actor_id in actor_ids:
            await FollowerStore(site.ctx.db).upsert(
                conn, actor_id=actor_id, inbox=f"{actor_id}/inbox", shared_inbox="", handle=actor_id, name="",
                follow_activity_id=f"{actor_id}#follow", follow_json="{}", status="accepted",
            )  # fmt: skip
    digests = FollowerDigests(site.ctx)
    statements: list[str] = []
    await site.ctx.db.reader.set_trace_callback(statements.append)
    body = json.dumps({"type": "Create", "cc": [site.ctx.urls.followers()]}).encode()
    hosts = sorted({host_of(actor_id) for actor_id in actor_ids})

    # When the first deliveries of a fan-out ask for their host's digest at once
    try:
        headers = await asyncio.gather(*(digests.headers_for(host, body) for host in hosts * 4))
    finally:
        await site.ctx.db.reader.set_trace_callback(None)

    # Then the followers were read once (not once per delivery), and each host got its own followers' digest
    assert sum("FROM followers" in statement for statement in statements) == 1
    for host, header in zip(hosts * 4, headers, strict=True):
        expected = xor_of_sha256(sorted(a for a in actor_ids if host_of(a) == host))
        assert f'digest="{expected}"' in header["Collection-Synchronization"]
