"""Replies held for moderation (the default first_time policy) take the inbox's one-trip path: checks, place,
comment and inbox record in one commit. What the admin's queue and the inbox records then show."""

from __future__ import annotations

import pytest

from fedblog.assembly import open_context
from fedblog.models import CommentStatus
from fedblog.services.blocks import add_block
from fedblog.services.comments import CommentService
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import publish


@pytest.fixture
async def held_site(site_factory: SiteFactory, remote: RemoteInstance) -> LiveSite:
    created = await site_factory()  # default policy: first_time, so a new author's replies are held
    remote.site = created
    return created


async def queue(site: LiveSite) -> dict[str, int | None]:
    """The moderation queue: remote id → parent comment id."""
    return {c.remote_id or "": c.parent_id for c in await site.ctx.comments.list_by_status(CommentStatus.PENDING)}


async def record_status(site: LiveSite, activity_id: str) -> list[str]:
    rows = await site.ctx.db.fetch_all("SELECT status FROM inbox_activities WHERE id = ?", (activity_id,))
    return [row["status"] for row in rows]


async def test_held_reply_to_a_comment__is_queued_under_it(held_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(held_site)
    first = remote.note("alice", held_site.ctx.urls.note(post.slug), "<p>Top</p>")
    await remote.send("alice", remote.create("alice", first))
    parent = await held_site.ctx.comments.get_comment_by_remote_id(first["id"])
    assert parent is not None
    by_url = remote.note("bob", held_site.ctx.urls.comment_object(parent.id), "<p>To the comment's own URL</p>")
    by_id = remote.note("carol", first["id"], "<p>To the Note's id</p>")

    for name, note in (("bob", by_url), ("carol", by_id)):
        create = remote.create(name, note)
        assert await remote.send(name, create) == 202
        assert await record_status(held_site, create["id"]) == ["processed"]

    assert await queue(held_site) == {first["id"]: None, by_url["id"]: parent.id, by_id["id"]: parent.id}


async def test_held_reply_to_an_unknown_parent__fetches_the_chain(held_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(held_site)
    carol = remote.note("carol", held_site.ctx.urls.note(post.slug), "<p>Carol starts</p>")
    dave = remote.note("dave", carol["id"], "<p>Dave answers</p>")
    create = remote.create("dave", dave)

    assert await remote.send("dave", create) == 202

    stored = await queue(held_site)
    assert set(stored) == {carol["id"], dave["id"]} and stored[carol["id"]] is None
    assert stored[dave["id"]] is not None
    assert await record_status(held_site, create["id"]) == ["processed"]


async def test_held_reply_to_a_draft_or_missing_post__stores_nothing(
    held_site: LiveSite, remote: RemoteInstance
) -> None:
    note = remote.note("alice", held_site.ctx.urls.note("no-such-post"), "<p>Into the void</p>")
    create = remote.create("alice", note)

    assert await remote.send("alice", create) == 202

    assert await queue(held_site) == {}
    assert await record_status(held_site, create["id"]) == ["processed"]


async def test_held_reply_after_its_delete__stores_nothing(held_site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(held_site)
    note = remote.note("alice", held_site.ctx.urls.note(post.slug), "<p>Deleted first</p>")
    delete = {**remote.create("alice", note), "id": f"{note['id']}#delete", "type": "Delete", "object": note["id"]}
    assert await remote.send("alice", delete) == 202

    assert await remote.send("alice", remote.create("alice", note)) == 202

    assert await queue(held_site) == {}


async def test_held_reply__block_added_after_the_author_is_known_takes_effect_at_once(
    held_site: LiveSite, remote: RemoteInstance
) -> None:
    post = await publish(held_site)
    first = remote.note("alice", held_site.ctx.urls.note(post.slug), "<p>Before the block</p>")
    assert await remote.send("alice", remote.create("alice", first)) == 202  # alice's key and actor now cached

    await add_block(held_site.ctx, remote.actor_id("alice"))
    second = remote.note("alice", held_site.ctx.urls.note(post.slug), "<p>After the block</p>")

    assert await remote.send("alice", remote.create("alice", second)) == 403
    assert await queue(held_site) == {first["id"]: None}


@pytest.mark.parametrize("removal", ["spam", "delete"])
async def test_trusted_regular__held_again_once_their_approved_comment_is_gone(
    held_site: LiveSite, remote: RemoteInstance, removal: str
) -> None:
    # Given alice, a regular: her first reply approved by the author, so her next one is published at once
    post = await publish(held_site)
    target = held_site.ctx.urls.note(post.slug)
    first = remote.note("alice", target, "<p>First</p>")
    assert await remote.send("alice", remote.create("alice", first)) == 202
    approved = await held_site.ctx.comments.get_comment_by_remote_id(first["id"])
    assert approved is not None and approved.status == CommentStatus.PENDING
    await CommentService(held_site.ctx).approve(approved.id)
    trusted = remote.note("alice", target, "<p>Trusted</p>")
    assert await remote.send("alice", remote.create("alice", trusted)) == 202
    assert await status_of(held_site, trusted["id"]) == CommentStatus.APPROVED
    # When her approved comments are marked spam or removed, from another process (the CLI's own connections)
    async with open_context(held_site.settings) as cli:
        service = CommentService(cli)
        for comment in (approved, await cli.comments.get_comment_by_remote_id(trusted["id"])):
            assert comment is not None
            await (service.mark_spam if removal == "spam" else service.delete)(comment.id)
    # Then her next reply is held at once
    after = remote.note("alice", target, "<p>After</p>")
    assert await remote.send("alice", remote.create("alice", after)) == 202
    assert await status_of(held_site, after["id"]) == CommentStatus.PENDING


async def status_of(site: LiveSite, remote_id: str) -> CommentStatus | None:
    comment = await site.ctx.comments.get_comment_by_remote_id(remote_id)
    return None if comment is None else comment.status


async def test_processed_reply__its_record_keeps_the_id_not_the_body(
    held_site: LiveSite, remote: RemoteInstance
) -> None:
    # A processed activity is remembered by (id, signer) only: its comment is stored, and kilobytes of JSON per
    # reply that nothing reads again would only grow the database.
    post = await publish(held_site)
    create = remote.create("alice", remote.note("alice", held_site.ctx.urls.note(post.slug), "<p>Kept short</p>"))

    assert await remote.send("alice", create) == 202

    rows = await held_site.ctx.db.fetch_all("SELECT status, body FROM inbox_activities WHERE id = ?", (create["id"],))
    assert [(row["status"], row["body"]) for row in rows] == [("processed", "")]
    assert await queue(held_site) == {create["object"]["id"]: None}
    assert await remote.send("alice", create) == 202  # still known: not processed twice
    assert await queue(held_site) == {create["object"]["id"]: None}
