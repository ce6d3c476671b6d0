"""Move: a follower whose account moved to another server is kept as a follower at the new address, once the new
account confirms the move (its `alsoKnownAs` lists the old one); the old follow ends, nothing is delivered twice."""

from __future__ import annotations

import json

from fedblog.services.followers import FollowerService
from fedblog.store.followers import FollowerStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import deliver_all, publish


def move(remote: RemoteInstance, name: str, target: str, number: int = 1) -> dict[str, object]:
    """As Mastodon 4 sends it: by the old account, about itself, to the new one."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id(name)}#moves/{number}",
        "type": "Move",
        "actor": remote.actor_id(name),
        "object": remote.actor_id(name),
        "target": target,
    }


async def test_move__confirmed_by_the_target_keeps_the_follow_at_the_new_address(
    site: LiveSite, remote: RemoteInstance
) -> None:
    new_home = await RemoteInstance(site=site, avatars=True).start()
    try:
        followers = FollowerStore(site.ctx.db)
        old_id, new_id = remote.actor_id("alice"), new_home.actor_id("alice")
        assert await remote.send("alice", follow_activity(remote, "alice", site.ctx.urls.actor())) == 202

        # Not confirmed yet: the new account does not name the old one.
        assert await remote.send("alice", move(remote, "alice", new_id)) == 202
        assert await followers.get(old_id) is not None and await followers.get(new_id) is None

        new_home.profiles["alice"] = {"alsoKnownAs": [old_id]}
        assert await remote.send("alice", move(remote, "alice", new_id, number=2)) == 202

        assert await followers.get(old_id) is None
        moved = await followers.get(new_id)
        assert moved is not None and moved.status == "accepted"
        assert moved.inbox == f"{new_id}/inbox"
        await publish(site, title="After the move")
        await deliver_all(site)
        assert [d.activity["type"] for d in new_home.received] == ["Create"]
        assert remote.delivered("Create") == []  # the old address gets nothing
    finally:
        await new_home.close()


async def test_move__of_someone_else_or_of_a_non_follower_changes_nothing(
    site: LiveSite, remote: RemoteInstance
) -> None:
    followers = FollowerStore(site.ctx.db)
    await remote.send("alice", follow_activity(remote, "alice", site.ctx.urls.actor()))
    remote.profiles["mallory"] = {"alsoKnownAs": [remote.actor_id("alice")]}
    hijack = move(remote, "alice", remote.actor_id("mallory"))

    await remote.send("mallory", hijack, key_name="mallory")  # signed by another account than the actor
    stranger = move(remote, "bob", remote.actor_id("mallory"))
    await remote.send("bob", stranger)

    assert await followers.get(remote.actor_id("alice")) is not None
    assert await followers.get(remote.actor_id("mallory")) is None


async def test_move__the_moved_follow_is_not_named_by_the_moves_id(site: LiveSite, remote: RemoteInstance) -> None:
    """The new account never sent a Follow: when the author ends its follow, the Reject names the follow by its
    actor and object (as Mastodon matches an embedded Follow), not by the Move's id, an activity of the old server."""
    new_home = await RemoteInstance(site=site).start()
    try:
        old_id, new_id = remote.actor_id("alice"), new_home.actor_id("alice")
        await remote.send("alice", follow_activity(remote, "alice", site.ctx.urls.actor()))
        new_home.profiles["alice"] = {"alsoKnownAs": [old_id]}
        moved = move(remote, "alice", new_id)
        await remote.send("alice", moved)
        assert await FollowerStore(site.ctx.db).get(new_id) is not None

        await FollowerService(site.ctx).reject(new_id)
        await deliver_all(site)

        [reject] = new_home.delivered("Reject")
        assert reject["object"] == {"type": "Follow", "actor": new_id, "object": site.ctx.urls.actor()}
        assert moved["id"] not in json.dumps(reject)
        assert await FollowerStore(site.ctx.db).get(new_id) is None
    finally:
        await new_home.close()


async def test_move__to_an_account_that_already_follows_leaves_one_follow_and_one_delivery(
    site: LiveSite, remote: RemoteInstance
) -> None:
    new_home = await RemoteInstance(site=site, avatars=True).start()
    try:
        old_id, new_id = remote.actor_id("alice"), new_home.actor_id("alice")
        # Given both of alice's accounts follow the blog, and the new one names the old
        assert await remote.send("alice", follow_activity(remote, "alice", site.ctx.urls.actor())) == 202
        assert await new_home.send("alice", follow_activity(new_home, "alice", site.ctx.urls.actor())) == 202
        new_home.profiles["alice"] = {"alsoKnownAs": [old_id]}
        # When the old account moves to the new one
        assert await remote.send("alice", move(remote, "alice", new_id)) == 202
        # Then one follow is left, the new one with its own Follow, and a post reaches her once, at the new address
        followers = FollowerStore(site.ctx.db)
        assert await followers.get(old_id) is None
        kept = await followers.get(new_id)
        assert kept is not None and kept.follow_activity_id == follow_activity(new_home, "alice", "")["id"]
        await publish(site, title="After the move")
        await deliver_all(site)
        assert [d.activity["type"] for d in new_home.received if d.activity["type"] == "Create"] == ["Create"]
        assert remote.delivered("Create") == []
    finally:
        await new_home.close()
