"""The inbox with a loopback "remote Mastodon": signatures, refusals, Follow/Accept, manual approval, Undo."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from fedblog.services.delivery import DeliveryWorker
from fedblog.services.followers import FollowerService
from fedblog.store.blocks import BlockStore
from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance, follow_activity, undo_follow_activity
from tests.helpers import eventually
from tests.integration.fed_support import fetch_json


@pytest.fixture
async def remote(site: LiveSite) -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    yield server
    await server.close()


async def stored_activities(site: LiveSite) -> list[Any]:
    return await site.ctx.db.fetch_all("SELECT id, type, status FROM inbox_activities ORDER BY rowid")


async def follower(site: LiveSite, actor_id: str) -> Any:
    return await FollowerStore(site.ctx.db).get(actor_id)


async def answers(remote: RemoteInstance, name: str, kind: str) -> list[dict[str, Any]]:
    return [r.activity for r in remote.received_at(f"/users/{name}/inbox") if r.activity["type"] == kind]


async def test_inbox__signed_follow_is_recorded_and_accepted(site: LiveSite, remote: RemoteInstance) -> None:
    # Given a Follow shaped like Mastodon's, signed with alice's key
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    # When it is POSTed to the blog's inbox
    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    # Then the blog answers 202, records alice with her inboxes and name, and sends a signed Accept
    assert status == 202
    stored = await eventually(lambda: follower(site, remote.actor_id("alice")), "alice recorded")
    assert stored.status == "accepted"
    assert stored.inbox == remote.inbox("alice")
    assert stored.shared_inbox == f"{remote.base}/inbox"
    assert stored.name == "Alice"
    assert stored.follow_activity_id == follow["id"]
    received = await eventually(lambda: answers(remote, "alice", "Accept"), "the Accept")
    accept = received[0]
    assert remote.received_at("/users/alice/inbox")[0].verified
    assert accept["actor"] == f"{site.url}/actor"
    assert accept["id"].startswith(f"{site.url}/")
    assert accept["object"] == {key: value for key, value in follow.items() if key != "@context"}
    # The Accept's id dereferences, and alice is in the followers collection
    assert (await fetch_json(accept["id"]))["object"]["id"] == follow["id"]
    followers = await fetch_json(f"{site.url}/actor/followers")
    assert followers["totalItems"] == 1
    assert (await fetch_json(followers["first"]))["orderedItems"] == [remote.actor_id("alice")]


async def test_inbox__processed_follow_record_keeps_no_body(site: LiveSite, remote: RemoteInstance) -> None:
    # Claimed (recorded with its body, under a lease) before processing; once processed only its id stays.
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    assert status == 202
    await eventually(lambda: follower(site, remote.actor_id("alice")), "alice recorded")
    rows = await site.ctx.db.fetch_all("SELECT status, body FROM inbox_activities WHERE id = ?", (follow["id"],))
    assert [(row["status"], row["body"]) for row in rows] == [("processed", "")]


async def test_inbox__shared_inbox_accepts_follow_too(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "bob", f"{site.url}/actor")
    status, _ = await remote.post_signed(
        "bob",
        f"{site.url}/inbox",
        follow,
        content_type='application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    )
    assert status == 202
    await eventually(lambda: follower(site, remote.actor_id("bob")), "bob recorded")


async def test_inbox__unsigned_post_is_401_and_nothing_stored(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{site.url}/actor/inbox", data=json.dumps(follow), headers={"Content-Type": "application/activity+json"}
        ) as response,
    ):
        assert response.status == 401
        assert "error" in await response.json()
    assert await stored_activities(site) == []
    assert await follower(site, remote.actor_id("alice")) is None


async def test_inbox__body_changed_after_signing_is_401(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, text = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow, tamper=True)
    assert status == 401
    assert "digest" in json.loads(text)["error"].lower()
    assert await stored_activities(site) == []


async def test_inbox__key_of_another_actor_is_401(site: LiveSite, remote: RemoteInstance) -> None:
    # bob signs an activity claiming to be alice's
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, _ = await remote.post_signed("bob", f"{site.url}/actor/inbox", follow)
    assert status == 401
    assert await stored_activities(site) == []


async def test_inbox__oversized_non_json_and_wrong_type_are_refused(site: LiveSite, remote: RemoteInstance) -> None:
    url = f"{site.url}/actor/inbox"
    big = {"type": "Note", "id": "x", "actor": remote.actor_id("alice"), "content": "a" * (1024 * 1024 + 10)}
    status, _ = await remote.post_signed("alice", url, big)
    assert status == 413
    status, _ = await remote.post_signed("alice", url, {}, body=b"this is not json")
    assert status == 400
    status, _ = await remote.post_signed("alice", url, {}, body=b"[1, 2]")
    assert status == 400
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, _ = await remote.post_signed("alice", url, follow, content_type="text/plain")
    assert status == 415
    assert await stored_activities(site) == []


async def test_inbox__unknown_type_is_acknowledged_and_ignored(site: LiveSite, remote: RemoteInstance) -> None:
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.base}/bites/1",
        "type": "Bite",
        "actor": remote.actor_id("alice"),
        "object": f"{site.url}/actor",
    }
    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", activity, content_type="application/json")
    assert status == 202
    rows = await eventually(lambda: _rows_with_status(site, "ignored"), "the activity recorded and ignored")
    assert rows[0]["id"] == activity["id"]


async def _rows_with_status(site: LiveSite, status: str) -> list[Any]:
    return [row for row in await stored_activities(site) if row["status"] == status]


async def test_inbox__duplicate_activity_is_processed_once(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    for _ in range(2):
        status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
        assert status == 202
    await eventually(lambda: answers(remote, "alice", "Accept"), "the Accept")
    await DeliveryWorker(site.ctx).run_once()
    await asyncio.sleep(0.2)  # give a wrongly scheduled second processing the chance to show itself
    await DeliveryWorker(site.ctx).run_once()
    assert len(await answers(remote, "alice", "Accept")) == 1
    assert len(await stored_activities(site)) == 1


async def test_inbox__refollow_with_new_id_is_accepted_again(site: LiveSite, remote: RemoteInstance) -> None:
    first = follow_activity(remote, "alice", f"{site.url}/actor", number=1)
    second = follow_activity(remote, "alice", f"{site.url}/actor", number=2)
    for follow in (first, second):
        assert (await remote.post_signed("alice", f"{site.url}/actor/inbox", follow))[0] == 202
        await eventually(lambda f=follow: _accepted(remote, f["id"]), f"the Accept of {follow['id']}")
    assert (await follower(site, remote.actor_id("alice"))).follow_activity_id == second["id"]


async def _accepted(remote: RemoteInstance, follow_id: str) -> bool:
    return any(a["object"]["id"] == follow_id for a in await answers(remote, "alice", "Accept"))


async def test_inbox__undo_follow_removes_the_follower(site: LiveSite, remote: RemoteInstance) -> None:
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    await eventually(lambda: follower(site, remote.actor_id("alice")), "alice recorded")
    undo = undo_follow_activity(remote, "alice", follow)
    # Someone else's Undo of alice's follow is refused (signer is not the actor)
    assert (await remote.post_signed("bob", f"{site.url}/actor/inbox", undo))[0] == 401
    assert await follower(site, remote.actor_id("alice")) is not None
    assert (await remote.post_signed("alice", f"{site.url}/actor/inbox", undo))[0] == 202
    await eventually(lambda: _gone(site, remote.actor_id("alice")), "alice removed")


async def _gone(site: LiveSite, actor_id: str) -> bool:
    return await follower(site, actor_id) is None


async def test_inbox__blocked_domain_is_403_and_its_follow_is_not_recorded(
    site: LiveSite, remote: RemoteInstance
) -> None:
    async with site.ctx.db.transaction() as conn:
        await BlockStore(site.ctx.db).add(conn, "domain", "127.0.0.1")
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    status, _ = await remote.post_signed("alice", f"{site.url}/actor/inbox", follow)
    assert status == 403
    assert await stored_activities(site) == []
    assert await follower(site, remote.actor_id("alice")) is None


async def test_inbox__manual_approval_waits_then_accepts_or_rejects(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"federation": {"manually_approves_followers": True}})
    remote = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    try:
        follows = {name: follow_activity(remote, name, f"{site.url}/actor", n) for n, name in enumerate(("ann", "ben"))}
        for name, follow in follows.items():
            assert (await remote.post_signed(name, f"{site.url}/actor/inbox", follow))[0] == 202
            stored = await eventually(lambda n=name: follower(site, remote.actor_id(n)), f"{name}'s request")
            assert stored.status == "pending"
        # Pending requests get nothing yet and are not followers
        await DeliveryWorker(site.ctx).run_once()
        assert remote.received == []
        assert (await fetch_json(f"{site.url}/actor/followers"))["totalItems"] == 0
        # The author approves ann from the command line, and rejects ben
        config = str(site.settings.root / "fedblog.toml")
        pending = await run_cli(config, "followers", "pending")
        assert remote.actor_id("ann") in pending and remote.actor_id("ben") in pending
        await run_cli(config, "followers", "approve", remote.actor_id("ann"))
        await FollowerService(site.ctx).reject(remote.actor_id("ben"))
        await DeliveryWorker(site.ctx).run_once()
        accept = (await eventually(lambda: answers(remote, "ann", "Accept"), "ann's Accept"))[0]
        assert accept["object"]["id"] == follows["ann"]["id"]
        reject = (await eventually(lambda: answers(remote, "ben", "Reject"), "ben's Reject"))[0]
        assert reject["object"]["id"] == follows["ben"]["id"]
        assert all(r.verified for r in remote.received)
        assert (await follower(site, remote.actor_id("ann"))).status == "accepted"
        assert await follower(site, remote.actor_id("ben")) is None
        listing = await run_cli(config, "followers", "list")
        assert remote.actor_id("ann") in listing
    finally:
        await remote.close()


async def run_cli(config: str, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fedblog",
        "--config",
        config,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_authorized_fetch__notes_and_collections_need_a_signed_get(site_factory: SiteFactory) -> None:
    from fedblog.protocol.httpsig import sign_request
    from fedblog.services.posts import PostInput, PostService

    site = await site_factory(overrides={"federation": {"authorized_fetch": True}})
    remote = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    try:
        post = await PostService(site.ctx).publish(PostInput(title="Members", body_markdown="Hi"))
        for url in (f"{site.url}/posts/{post.slug}", f"{site.url}/actor/outbox", f"{site.url}/actor/followers"):
            async with aiohttp.ClientSession() as session:
                async with session.get(url, headers={"Accept": "application/activity+json"}) as response:
                    assert response.status == 401, url
                headers = sign_request(
                    private_key=remote.key("alice"),
                    key_id=f"{remote.actor_id('alice')}#main-key",
                    method="GET",
                    url=url,
                    headers={"Accept": "application/activity+json"},
                )
                async with session.get(url, headers=headers) as response:
                    assert response.status == 200, url
                    assert (await response.json())["id"] == url
        # Browsers still read the page, and the actor stays public (peers fetch our key without a loop)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{site.url}/posts/{post.slug}", headers={"Accept": "text/html"}) as response:
                assert response.status == 200
            async with session.get(f"{site.url}/actor", headers={"Accept": "application/activity+json"}) as response:
                assert response.status == 200
    finally:
        await remote.close()


async def test_admin_followers__approve_and_reject_from_the_admin(site_factory: SiteFactory) -> None:
    from tests.integration.blog_support import get, post_form
    from tests.integration.fed_support import admin_session

    site = await site_factory(overrides={"federation": {"manually_approves_followers": True}})
    remote = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    session, csrf = await admin_session(site)
    try:
        for n, name in enumerate(("cleo", "dan")):
            follow = follow_activity(remote, name, f"{site.url}/actor", n)
            assert (await remote.post_signed(name, f"{site.url}/actor/inbox", follow))[0] == 202
            await eventually(lambda n=name: follower(site, remote.actor_id(n)), f"{name}'s request")
        page = await get(site, "/admin/followers", session)
        assert page.status == 200
        assert remote.actor_id("cleo") in page.text and "Follow requests (2)" in page.text
        # Without the CSRF token nothing happens
        refused = await post_form(site, "/admin/followers/approve", {"actor": remote.actor_id("cleo")}, session)
        assert refused.status == 403
        assert (await follower(site, remote.actor_id("cleo"))).status == "pending"
        done = await post_form(
            site, "/admin/followers/approve", {"actor": remote.actor_id("cleo"), "csrf_token": csrf}, session
        )
        assert done.status == 303
        await post_form(site, "/admin/followers/reject", {"actor": remote.actor_id("dan"), "csrf_token": csrf}, session)
        await DeliveryWorker(site.ctx).run_once()
        accept = (await eventually(lambda: answers(remote, "cleo", "Accept"), "cleo's Accept"))[0]
        assert accept["object"]["actor"] == remote.actor_id("cleo")
        reject = (await eventually(lambda: answers(remote, "dan", "Reject"), "dan's Reject"))[0]
        assert reject["object"]["actor"] == remote.actor_id("dan")
        page = await get(site, "/admin/followers", session)
        assert "Follow requests (0)" in page.text and "Followers (1)" in page.text
        # Logged out visitors are sent to the login page
        assert (await get(site, "/admin/followers")).status in (302, 303)
    finally:
        await session.close()
        await remote.close()


def mastodon_sample(name: str, remote: RemoteInstance, site: LiveSite) -> dict[str, Any]:
    """A captured Mastodon 4 payload with its hosts pointed at the loopback servers."""
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "fixtures" / "samples" / name).read_text()
    return json.loads(text.replace("https://mastodon.example", remote.base).replace("https://blog.example", site.url))


async def test_inbox__mastodon_follow_and_undo_fixtures_are_handled(site: LiveSite, remote: RemoteInstance) -> None:
    follow = mastodon_sample("follow.json", remote, site)
    assert (await remote.post_signed("alice", f"{site.url}/inbox", follow))[0] == 202
    await eventually(lambda: answers(remote, "alice", "Accept"), "the Accept")
    assert (await follower(site, remote.actor_id("alice"))).follow_activity_id == follow["id"]
    undo = mastodon_sample("undo-follow.json", remote, site)
    assert (await remote.post_signed("alice", f"{site.url}/inbox", undo))[0] == 202
    await eventually(lambda: _gone(site, remote.actor_id("alice")), "alice removed by the Undo")


async def test_inbox__activities_left_unprocessed_are_processed_at_start(
    site: LiveSite, remote: RemoteInstance
) -> None:
    from fedblog.services.inbox import process_unprocessed
    from fedblog.store.inbox import InboxStore

    # Given a Follow recorded by a previous run that died before processing it
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    async with site.ctx.db.transaction() as conn:
        await InboxStore(site.ctx.db).record(
            conn, follow["id"], follow["actor"], "Follow", follow["object"], json.dumps(follow)
        )
    # When the server starts again (it finishes what is left over)
    assert await process_unprocessed(site.ctx) == 1
    # Then the follow is handled once, and nothing is left to do
    assert (await follower(site, remote.actor_id("alice"))).status == "accepted"
    assert [row["status"] for row in await stored_activities(site)] == ["processed"]
    assert await process_unprocessed(site.ctx) == 0
