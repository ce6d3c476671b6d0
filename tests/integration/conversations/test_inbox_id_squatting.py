"""Activity ids belong to their actor's server: an id squatted by another server is refused and never hides the
real activity (ids are judged on the actor's origin, duplicates by (id, signer))."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish


@pytest.fixture
async def other_server(site: LiveSite) -> AsyncIterator[RemoteInstance]:
    """dave's server: another origin than `remote` (carol's)."""
    server = await RemoteInstance(avatars=True).start()
    server.site = site
    try:
        yield server
    finally:
        await server.close()


async def recorded(site: LiveSite) -> list[Any]:
    return await site.ctx.db.fetch_all("SELECT id, signer_id, status FROM inbox_activities ORDER BY rowid")


async def test_inbox_squatting__an_id_on_another_server_is_refused_and_the_real_activity_still_counts(
    site: LiveSite, remote: RemoteInstance, other_server: RemoteInstance
) -> None:
    # Given a post, carol on `remote`, and dave on another server who signs activities under carol's ids
    post = await publish(site)
    carol_like_id = f"{remote.actor_id('carol')}/likes/1"
    carol_create_id = f"{remote.actor_id('carol')}/activities/X"
    squat_like = other_server.sample("like", "dave", post) | {"id": carol_like_id}
    dave_note = other_server.note("dave", site.ctx.urls.note(post.slug), "<p>dave speaks</p>")
    squat_create = other_server.create("dave", dave_note) | {"id": carol_create_id}
    squat_object = other_server.create("dave", dict(dave_note, id=f"{remote.actor_id('carol')}/statuses/1"))

    # When dave sends them: Then each is refused (400) and nothing is recorded
    assert await other_server.send("dave", squat_like) == 400
    assert await other_server.send("dave", squat_create) == 400
    assert await other_server.send("dave", squat_object) == 400
    assert await recorded(site) == []
    assert "dave speaks" not in await page(site, post)

    # When carol's own activities with those ids arrive
    carol_like = remote.sample("like", "carol", post) | {"id": carol_like_id}
    carol_note = remote.note("carol", site.ctx.urls.note(post.slug), "<p>carol's real reply</p>")
    carol_create = remote.create("carol", carol_note) | {"id": carol_create_id}
    assert await remote.send("carol", carol_like) == 202
    assert await remote.send("carol", carol_create) == 202

    # Then both are processed: the like counts and the reply shows
    html = await page(site, post)
    assert "1 like" in html
    assert "carol's real reply" in html
    assert [(row["id"], row["status"]) for row in await recorded(site)] == [
        (carol_like_id, "processed"),
        (carol_create_id, "processed"),
    ]


async def test_inbox_squatting__a_forward_under_the_actors_id_does_not_make_the_actors_own_a_duplicate(
    site: LiveSite, remote: RemoteInstance, other_server: RemoteInstance
) -> None:
    # Given dave's server forwarding (signing) a Create that claims carol and an id of hers, first
    post = await publish(site)
    carol_note = remote.note("carol", site.ctx.urls.note(post.slug), "<p>carol, first hand</p>")
    carol_create = remote.create("carol", carol_note)
    forwarded = dict(carol_create, object=dict(carol_note, content="<p>forged by dave</p>"))
    forwarded["object"]["id"] = f"{remote.actor_id('carol')}/statuses/404"  # no such Note: the refetch fails
    # (Mastodon forwards replies signed by the forwarder: accepted, its embedded copy never trusted)
    assert await other_server.send("dave", forwarded) == 202
    assert "forged by dave" not in await page(site, post)

    # When carol's own Create with that id arrives; Then it is processed, not dropped as a duplicate
    assert await remote.send("carol", carol_create) == 202
    assert "carol, first hand" in await page(site, post)
    signers = {row["signer_id"]: row["status"] for row in await recorded(site)}
    assert signers[remote.actor_id("carol")] == "processed"
    assert other_server.actor_id("dave") in signers


@pytest.mark.parametrize("number", ["9" * 30, "\u00b2", "0"])
async def test_inbox__a_reaction_or_reply_to_a_hostile_comment_number_is_handled_not_failed(
    site: LiveSite, remote: RemoteInstance, number: str
) -> None:
    post = await publish(site)
    target = f"{site.url}/comments/{number}"
    like = remote.sample("like", "carol", post) | {"id": f"{remote.actor_id('carol')}/likes/{len(number)}",
                                                   "object": target}  # fmt: skip
    reply = remote.create("carol", remote.note("carol", target, "<p>to nowhere</p>"))
    assert await remote.send("carol", like) == 202
    assert await remote.send("carol", reply) == 202
    statuses = [row["status"] for row in await recorded(site)]
    assert len(statuses) == 2 and "failed" not in statuses
