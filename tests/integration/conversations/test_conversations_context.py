"""The post's conversation (FEP-7888): the `context` its Note and every comment Note carry, and the collection at
that address, which another server reads to backfill the whole thread."""

from __future__ import annotations

from fedblog.services.comments import CommentForm, CommentService
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import publish
from tests.integration.fed_support import fetch, fetch_json


async def test_conversation__the_post_and_every_public_comment_in_order(site: LiveSite, remote: RemoteInstance) -> None:
    post = await publish(site)
    urls = site.ctx.urls
    public = remote.note("alice", urls.note(post.slug), "<p>A public question</p>")
    await remote.send("alice", remote.create("alice", public))
    question = await site.ctx.comments.get_comment_by_remote_id(public["id"])
    assert question is not None
    answer = await CommentService(site.ctx).reply_as_author(question.id, "The author answers")
    form = CommentForm(name="Vera", email="vera@example.org", message="A visitor adds a word")
    visitor = (await CommentService(site.ctx).submit_web_comment(post, form, ip=None)).comment
    assert visitor is not None and visitor.status.value == "approved"
    private = remote.note("bob", urls.note(post.slug), "<p>Only for you</p>", to=[urls.actor()], cc=[])
    await remote.send("bob", remote.create("bob", private))

    post_note = await fetch_json(urls.note(post.slug))
    answer_note = await fetch_json(urls.comment_object(answer.id))
    assert post_note["context"] == answer_note["context"] == urls.conversation(post.slug)

    collection = await fetch_json(post_note["context"])
    assert collection["type"] == "OrderedCollection" and collection["attributedTo"] == urls.actor()
    assert collection["totalItems"] == 4 and collection["first"] == urls.conversation(post.slug, 1)
    first = await fetch_json(collection["first"])
    assert first["type"] == "OrderedCollectionPage" and first["partOf"] == urls.conversation(post.slug)
    assert first["orderedItems"] == [
        urls.note(post.slug),
        public["id"],
        urls.comment_object(answer.id),
        urls.comment_object(visitor.id),
    ]  # the private mention is not part of the public conversation
    assert "next" not in first


async def test_conversation__of_an_unknown_post_or_a_page_past_the_end_is_not_found(site: LiveSite) -> None:
    post = await publish(site)
    assert (await fetch(site.ctx.urls.conversation("no-such-post")))[0] == 404
    assert (await fetch(site.ctx.urls.conversation(post.slug, 2)))[0] == 404
    assert (await fetch_json(site.ctx.urls.conversation(post.slug, 1)))["orderedItems"] == [
        site.ctx.urls.note(post.slug)
    ]
