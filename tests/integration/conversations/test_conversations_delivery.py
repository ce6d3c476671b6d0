"""Local comments on the fediverse: what the remote author's server receives (signed), and what the comment ids and
replies collections serve."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from fedblog.clock import utcnow
from fedblog.models import CommentStatus
from fedblog.protocol.activitystreams import PUBLIC
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.http import NetworkInTransaction
from fedblog.services.remote import RemoteActors
from fedblog.store.actors import ActorStore
from fedblog.store.db import NestedWrite
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import eventually, fediverse_comment, page, publish, received, thread_parents
from tests.integration.fed_support import AS2, fetch, fetch_json


async def test_author_reply__reaches_the_remote_author_signed_in_reply_to_their_note(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)

    reply = await CommentService(site.ctx).reply_as_author(comment.id, "Thanks, **Alice**!")

    create = await received(remote, "Create", "the author's reply")
    note = create["object"]
    assert create["actor"] == site.ctx.urls.actor()
    assert note["id"] == site.ctx.urls.comment_object(reply.id)
    assert note["attributedTo"] == site.ctx.urls.actor()
    assert note["inReplyTo"] == comment.remote_id
    assert {"type": "Mention", "href": remote.actor_id("alice"), "name": remote.address("alice")} in note["tag"]
    assert note["to"] == [PUBLIC, remote.actor_id("alice")]
    assert site.ctx.urls.followers() in note["cc"]
    assert "Thanks, <strong>Alice</strong>!" in note["content"]
    assert thread_parents(await page(site, post))[reply.id] == comment.id


async def test_visitor_reply_to_a_fediverse_comment__reaches_it_under_the_visitors_name(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory()  # first_time moderation: the visitor's comment waits for approval
    remote.site = site
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    await CommentService(site.ctx).approve(comment.id)
    form = CommentForm(name="Vera <Visitor>", email="vera@example.org", message="Me too!", parent_id=str(comment.id))
    submitted = (await CommentService(site.ctx).submit_web_comment(post, form, ip="127.0.0.1")).comment
    assert submitted is not None
    assert remote.delivered("Create") == []  # nothing leaves before approval

    await CommentService(site.ctx).approve(submitted.id)

    create = await received(remote, "Create", "the visitor's reply")
    note = create["object"]
    assert note["inReplyTo"] == comment.remote_id
    assert note["to"] == [remote.actor_id("alice")] and note["cc"] == [PUBLIC]
    assert "<strong>Vera &lt;Visitor&gt;</strong> (visitor, via the blog&#x27;s comment form) wrote:" in note["content"]
    assert "Me too!" in note["content"]
    assert "vera@example.org" not in json.dumps(create)
    assert [d.path for d in remote.received] == ["/inbox"]  # only to the remote author's server


async def test_top_level_web_comment__is_not_sent_anywhere(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    await fediverse_comment(site, remote, post)
    form = CommentForm(name="Vera", email="vera@example.org", message="Just a comment")
    submitted = (await CommentService(site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert submitted is not None and submitted.status.value == "approved"

    note = await fetch_json(site.ctx.urls.comment_object(submitted.id))  # it exists on the fediverse side…

    assert note["inReplyTo"] == site.ctx.urls.note(post.slug)
    assert remote.delivered() == []  # …but nobody is notified


async def test_removed_author_reply__sends_delete(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    reply = await CommentService(site.ctx).reply_as_author(comment.id, "Oops")
    await received(remote, "Create", "the author's reply")

    await CommentService(site.ctx).delete(reply.id)

    delete = await received(remote, "Delete", "the Delete of the reply")
    assert delete["object"]["id"] == site.ctx.urls.comment_object(reply.id)
    assert delete["object"]["type"] == "Tombstone"


async def test_comment_object__serves_the_note_to_as2_clients_and_a_page_to_browsers(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    reply = await CommentService(site.ctx).reply_as_author(comment.id, "An answer")
    url = site.ctx.urls.comment_object(reply.id)

    note = await fetch_json(url)
    status, headers, html = await fetch(url, accept="text/html")

    assert note["id"] == url and note["type"] == "Note" and note["inReplyTo"] == comment.remote_id
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "An answer" in html and site.ctx.urls.comment_anchor(post.slug, reply.id) in html
    # A fediverse comment's object lives on its own server: no AS2 copy here.
    assert (await fetch(site.ctx.urls.comment_object(comment.id), accept=AS2))[0] == 404


async def test_held_comment_object__is_not_found(site_factory: SiteFactory) -> None:
    site = await site_factory()
    post = await publish(site)
    form = CommentForm(name="Vera", email="vera@example.org", message="Held")
    held = (await CommentService(site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert held is not None and held.status.value == "pending"

    assert (await fetch(site.ctx.urls.comment_object(held.id)))[0] == 404


async def test_replies_collections__list_the_whole_thread_and_each_comments_children(
    site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    reply = await CommentService(site.ctx).reply_as_author(comment.id, "Nested answer")
    urls = site.ctx.urls

    children = await fetch_json(urls.comment_replies(comment.id, 1))
    collection = await fetch_json(urls.comment_replies(comment.id))

    assert children["orderedItems"] == [urls.comment_object(reply.id)]
    assert collection["totalItems"] == 1 and collection["first"] == urls.comment_replies(comment.id, 1)
    post_page = await fetch_json(urls.replies(post.slug, 1))
    assert post_page["orderedItems"] == [comment.remote_id, urls.comment_object(reply.id)]


async def test_author_reply_to_a_private_mention__stays_private(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    note = remote.note(
        "alice", site.ctx.urls.note(post.slug), "<p>Private question</p>", to=[site.ctx.urls.actor()], cc=[]
    )
    await remote.send("alice", remote.create("alice", note))
    mention = await site.ctx.comments.get_comment_by_remote_id(note["id"])
    assert mention is not None

    reply = await CommentService(site.ctx).reply_as_author(mention.id, "Private answer")

    create = await received(remote, "Create", "the private answer")
    assert create["object"]["to"] == [remote.actor_id("alice")] and create["object"]["cc"] == []
    assert PUBLIC not in json.dumps(create)
    assert "Private answer" not in await page(site, post)
    assert (await fetch(site.ctx.urls.comment_object(reply.id)))[0] == 404


async def age_actor(site: LiveSite, actor_id: str) -> None:
    """Make the cached actor two days old, in the table and in the process's memory of it."""
    actor = await ActorStore(site.ctx.db).get_actor(actor_id)
    assert actor is not None
    await ActorStore(site.ctx.db).upsert_actor(replace(actor, fetched_at=utcnow() - timedelta(days=2)))
    site.ctx.runtime.actors_by_id.clear()
    site.ctx.runtime.actors_by_key.clear()


async def test_stale_remote_author__approving_replying_and_publishing_to_them_never_hang(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    """The three writes that address a fediverse commenter whose cached actor is stale: the actor is refetched
    before the transaction (inside it, its upsert would wait for the write lock its own caller holds)."""
    site = await site_factory()  # first_time: a visitor's first reply is held, the next one published at once
    remote.site = site
    post = await publish(site)
    comment = await fediverse_comment(site, remote, post)
    service = CommentService(site.ctx)
    await service.approve(comment.id)
    alice = remote.actor_id("alice")

    async def with_stale_actor(what: str, new_name: str, write: Awaitable[Any]) -> Any:
        await age_actor(site, alice)
        remote.profiles["alice"] = {"name": new_name}
        try:
            result = await asyncio.wait_for(write, timeout=15)
        except TimeoutError:
            raise AssertionError(f"{what} hung with a stale actor") from None
        refreshed = await ActorStore(site.ctx.db).get_actor(alice)
        assert refreshed is not None and refreshed.name == new_name, what  # refetched, not just used stale
        return result

    first = CommentForm(name="Vera", email="vera@example.org", message="Held first", parent_id=str(comment.id))
    held = (await service.submit_web_comment(post, first, ip=None)).comment
    assert held is not None and held.status == CommentStatus.PENDING
    await with_stale_actor("approving a held web reply", "Alice One", service.approve(held.id))
    second = CommentForm(name="Vera", email="vera@example.org", message="Open second", parent_id=str(comment.id))
    published = await with_stale_actor("an open web reply", "Alice Two", service.submit_web_comment(post, second, None))
    assert published.comment.status == CommentStatus.APPROVED
    await with_stale_actor("the author's reply", "Alice Three", service.reply_as_author(comment.id, "Third"))

    async def three_creates() -> list[str] | None:
        contents = [create["object"]["content"] for create in remote.delivered("Create")]
        return contents if len(contents) == 3 else None

    contents = await eventually(three_creates, "the three replies at the remote author's inbox")
    assert [any(text in content for content in contents) for text in ("Held first", "Open second", "Third")] == [
        True,
        True,
        True,
    ]
    # Every later write still goes through: nothing is left waiting on the write lock.
    await asyncio.wait_for(service.mark_spam(published.comment.id), timeout=15)


async def test_nested_write__raises_at_once_instead_of_waiting_on_itself(site: LiveSite) -> None:
    db = site.ctx.db
    async with db.transaction():
        with pytest.raises(NestedWrite, match="inside a transaction"):
            await asyncio.wait_for(db.run_transaction(lambda raw: None), timeout=5)
        with pytest.raises(NestedWrite, match="inside a transaction"):
            async with db.transaction():
                pass
        with pytest.raises(NetworkInTransaction):
            await asyncio.wait_for(RemoteActors(site.ctx).get_actor("http://127.0.0.1:9/users/nobody"), timeout=5)
    assert await asyncio.wait_for(db.run_transaction(lambda raw: 42), timeout=5) == 42  # the write path is free
