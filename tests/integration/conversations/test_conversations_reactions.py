"""Likes and boosts from the fediverse: faces and counts under the post; Undo, duplicates, out-of-order."""

from __future__ import annotations

import re

import aiohttp
import pytest

from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import page, publish


@pytest.fixture
async def site(site_factory: SiteFactory, remote: RemoteInstance) -> LiveSite:
    created = await site_factory()
    remote.site = created
    return created


def reactions_block(html: str) -> str:
    start = html.find('<section class="reactions"')
    return "" if start < 0 else html[start : html.index("</section>", start)]


def like(remote: RemoteInstance, post: object, actor: str = "alice", number: int = 424242) -> dict:
    activity = remote.sample("like", actor, post)  # type: ignore[arg-type]
    activity["id"] = f"{remote.actor_id(actor)}#likes/{number}"
    return activity


def undo(remote: RemoteInstance, name: str, actor: str, inner: dict) -> dict:
    activity = remote.sample(name, actor)
    activity["object"] = {key: value for key, value in inner.items() if key not in ("@context", "signature")}
    activity["id"] = inner["id"] + "/undo"
    return activity


async def test_like__shows_the_face_and_count_under_the_post(site: LiveSite, remote: RemoteInstance) -> None:
    remote.profiles["alice"] = {"name": "Alice", "icon": f"{remote.base}/avatars/alice.png"}
    post = await publish(site)

    assert await remote.send("alice", like(remote, post)) == 202

    block = reactions_block(await page(site, post))
    assert "1 like" in block
    assert f'href="{remote.base}/@alice"' in block
    # The face is the blog's copy: readers' browsers never load it from the liker's server.
    assert remote.base not in block.split('href="', 1)[0] and "/avatars/alice.png" not in block
    face = re.search(r'src="(/faces/remote/\d+)"', block)
    assert face is not None
    async with aiohttp.ClientSession() as session, session.get(site.url + face.group(1)) as response:
        assert response.status == 200 and response.content_type.startswith("image/")


async def test_announce__shows_as_a_boost(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    announce = remote.sample("announce", "bob", post)
    announce.pop("signature")

    await remote.send("bob", announce)

    block = reactions_block(await page(site, post))
    assert "1 boost" in block and "like" not in block
    assert f"{remote.base}/a/bob.png" not in block and 'src="/faces/remote/' in block


async def test_counts__several_people(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    for number, name in enumerate(("alice", "bob", "carol")):
        await remote.send(name, like(remote, post, name, number))
    announce = remote.sample("announce", "alice", post)
    announce.pop("signature")
    await remote.send("alice", announce)

    block = reactions_block(await page(site, post))
    assert "3 likes" in block and "1 boost" in block


async def test_undo_like__removes_it(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    liked = like(remote, post)
    await remote.send("alice", liked)
    undo_like = remote.sample("undo-like", "alice", post)

    await remote.send("alice", undo_like)

    assert reactions_block(await page(site, post)) == ""


async def test_undo_announce__removes_it(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    announce = remote.sample("announce", "alice", post)
    announce.pop("signature")
    await remote.send("alice", announce)
    assert "1 boost" in reactions_block(await page(site, post))

    await remote.send("alice", remote.sample("undo-announce", "alice", post))

    assert reactions_block(await page(site, post)) == ""


async def test_undo_before_like__the_late_like_changes_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    await remote.send("alice", remote.sample("undo-like", "alice", post))

    await remote.send("alice", like(remote, post))

    assert reactions_block(await page(site, post)) == ""


async def test_duplicate_like__counts_once(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    await remote.send("alice", like(remote, post))
    await remote.send("alice", like(remote, post))
    await remote.send("alice", like(remote, post, number=99))  # same person, new activity id

    assert "1 like" in reactions_block(await page(site, post))


async def test_undo_of_someone_elses_like__changes_nothing(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    liked = like(remote, post)
    await remote.send("alice", liked)
    forged = undo(remote, "undo-like", "mallory", liked)  # Mallory's Undo of Alice's Like

    await remote.send("mallory", forged)

    assert "1 like" in reactions_block(await page(site, post))


async def test_like_of_an_unknown_object__is_ignored(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    activity = like(remote, post)
    activity["object"] = site.ctx.urls.note("no-such-post")

    await remote.send("alice", activity)

    assert reactions_block(await page(site, post)) == ""


async def test_undo_by_id_only__removes_the_reaction(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    liked = like(remote, post)
    await remote.send("alice", liked)
    undo_like = remote.sample("undo-like", "alice", post)
    undo_like["object"] = liked["id"]  # some servers send the undone activity by id

    await remote.send("alice", undo_like)

    assert reactions_block(await page(site, post)) == ""


async def test_undo_follow_by_id__still_reaches_the_followers_handler(site: LiveSite, remote: RemoteInstance) -> None:
    from fedblog.store.followers import FollowerStore

    follow = follow_activity(remote, "alice", site.ctx.urls.actor(), number=7)
    await remote.send("alice", follow)
    assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is not None
    undo_follow = {**remote.sample("undo-like", "alice"), "id": follow["id"] + "/undo", "object": follow["id"]}

    await remote.send("alice", undo_follow)

    assert await FollowerStore(site.ctx.db).get(remote.actor_id("alice")) is None
