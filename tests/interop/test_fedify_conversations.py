"""Issue 5 against a real Fedify peer: one thread on the blog and on the fediverse side.

The peer replies to a post and to its own reply; the author answers from the blog; a visitor's web comment
answers the peer.  Each step is checked where a person would see it: the post page, or the peer's inbox.
"""

from __future__ import annotations

from typing import Any

import pytest

from fedblog.context import Context
from fedblog.models import Comment, Post
from fedblog.services import inbox
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.integrity import ProofVerdict, check_proofs
from fedblog.services.posts import PostInput, PostService
from tests.helpers import eventually, thread_parents
from tests.interop.conftest import HttpsBlog, deliver
from tests.interop.peer_process import PeerProcess


async def _publish(blog: HttpsBlog, title: str = "Threads everywhere") -> Post:
    return await PostService(blog.ctx).publish(PostInput(title=title, body_markdown="What do you think?"))


async def _remote_comment(blog: HttpsBlog, note_id: str) -> Comment:
    """The comment the blog made from the peer's Note (held for moderation: a first-time author)."""

    async def stored() -> Comment | None:
        return await blog.ctx.comments.get_comment_by_remote_id(note_id)

    return await eventually(stored, f"the blog never stored the peer's reply {note_id}")


async def _peer_replies(peer: PeerProcess, blog: HttpsBlog, in_reply_to: str, content: str) -> tuple[str, Comment]:
    """The peer replies (mentioning the blog's author, as Mastodon does) and the author approves it."""
    sent = await peer.reply(blog.handle, in_reply_to, content, mentions=(blog.handle,))
    comment = await _remote_comment(blog, sent["noteId"])
    approved = await CommentService(blog.ctx).approve(comment.id)
    return sent["noteId"], approved


async def _post_page(blog: HttpsBlog, post: Post) -> str:
    status, html = await blog.get(f"/posts/{post.slug}")
    assert status == 200, html[:500]
    return html


async def test_fediverse_reply__appears_on_the_post_page_after_approval_with_its_author(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    post = await _publish(blog)
    sent = await peer.reply(blog.handle, blog.ctx.urls.note(post.slug), "<p>Nice post, author!</p>", (blog.handle,))
    comment = await _remote_comment(blog, sent["noteId"])
    assert comment.post_id == post.id
    assert comment.parent_id is None
    assert "Nice post, author!" not in await _post_page(blog, post)  # held: a first-time author

    await CommentService(blog.ctx).approve(comment.id)

    html = await _post_page(blog, post)
    assert "Nice post, author!" in html
    assert "Alice Peer" in html
    assert peer.handle in html
    assert thread_parents(html) == {comment.id: None}


async def test_fediverse_reply_to_a_reply__is_nested_under_it(peer: PeerProcess, blog: HttpsBlog) -> None:
    post = await _publish(blog)
    first_note, first = await _peer_replies(peer, blog, blog.ctx.urls.note(post.slug), "<p>First thought.</p>")

    sent = await peer.reply(blog.handle, first_note, "<p>And a second thought.</p>", (blog.handle,))

    second = await _remote_comment(blog, sent["noteId"])
    assert second.post_id == post.id
    assert second.parent_id == first.id
    await CommentService(blog.ctx).approve(second.id)
    html = await _post_page(blog, post)
    assert "And a second thought." in html
    assert thread_parents(html) == {first.id: None, second.id: first.id}


async def test_author_reply__reaches_fedify_in_reply_to_its_note_and_mentioning_it(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    urls = blog.ctx.urls
    post = await _publish(blog)
    note_id, comment = await _peer_replies(peer, blog, urls.note(post.slug), "<p>Question for the author?</p>")

    reply = await CommentService(blog.ctx).reply_as_author(comment.id, "Thanks for asking, **Alice**!")

    create = await peer.wait_for_activity(
        lambda a: a["type"] == "Create" and (a["parsed"] or {}).get("inReplyTo") == note_id,
        "the author's reply",
        tick=lambda: deliver(blog),
    )
    assert create["verified"] is True
    assert create["actor"] == urls.actor()
    note = create["parsed"]
    assert note["id"] == urls.comment_object(reply.id)
    assert note["attributedTo"] == urls.actor()
    assert "Thanks for asking, <strong>Alice</strong>!" in note["content"]
    assert peer.actor in note["to"] + note["cc"]
    assert {"type": "Mention", "name": peer.handle, "href": peer.actor} in note["tags"]
    # The blog page shows the answer under the question.
    assert thread_parents(await _post_page(blog, post)) == {comment.id: None, reply.id: comment.id}

    # The peer answers the author's reply by its ActivityPub id: the thread goes one level deeper.
    sent = await peer.reply(blog.handle, urls.comment_object(reply.id), "<p>Got it, thanks.</p>", (blog.handle,))
    answer = await _remote_comment(blog, sent["noteId"])
    assert answer.status.value == "approved"  # Alice has an approved comment: trusted now
    html = await _post_page(blog, post)
    assert "Got it, thanks." in html
    assert thread_parents(html) == {comment.id: None, reply.id: comment.id, answer.id: reply.id}


async def test_web_comment_answering_fedify__reaches_it_under_the_visitors_name(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    urls = blog.ctx.urls
    post = await _publish(blog)
    note_id, comment = await _peer_replies(peer, blog, urls.note(post.slug), "<p>Anyone else?</p>")
    service = CommentService(blog.ctx)
    form = CommentForm(
        name="Vera Visitor",
        email="vera@example.org",
        message="Me too, Alice: I read it twice.",
        parent_id=str(comment.id),
    )
    submitted = await service.submit_web_comment(post, form, ip="127.0.0.1")
    assert submitted.comment is not None and submitted.held

    web_comment = await service.approve(submitted.comment.id)

    create = await peer.wait_for_activity(
        lambda a: a["type"] == "Create" and (a["parsed"] or {}).get("inReplyTo") == note_id,
        "the visitor's web comment",
        tick=lambda: deliver(blog),
    )
    assert create["verified"] is True
    note = create["parsed"]
    assert note["id"] == urls.comment_object(web_comment.id)
    assert "Me too, Alice: I read it twice." in note["content"]
    assert peer.actor in note["to"] + note["cc"]
    # It names its writer before the words, so it never reads as the blog author's own.
    assert "Vera Visitor" in note["content"]
    assert note["content"].index("Vera Visitor") < note["content"].index("Me too, Alice")
    assert "vera@example.org" not in str(create["raw"])  # the visitor's email never leaves the blog
    html = await _post_page(blog, post)
    assert thread_parents(html) == {comment.id: None, web_comment.id: comment.id}
    assert "Vera Visitor" in html


async def test_fediverse_edit_and_delete__change_the_comment_on_the_page(peer: PeerProcess, blog: HttpsBlog) -> None:
    post = await _publish(blog)
    note_id, comment = await _peer_replies(peer, blog, blog.ctx.urls.note(post.slug), "<p>Frist!</p>")

    await peer.edit(blog.handle, note_id, "<p>First, spelled right.</p>")

    async def edited() -> bool:
        html = await _post_page(blog, post)
        return "First, spelled right." in html and "Frist!" not in html

    await eventually(edited, "the peer's Update(Note) never changed the comment on the page")
    html = await _post_page(blog, post)
    assert thread_parents(html) == {comment.id: None}
    assert '<span class="edited"' in html

    await peer.delete(blog.handle, note_id)

    async def removed() -> bool:
        return "First, spelled right." not in await _post_page(blog, post)

    await eventually(removed, "the peer's Delete never removed the comment from the page")
    assert thread_parents(await _post_page(blog, post)) == {}


async def test_fediverse_like_and_boost__show_under_the_post_until_undone(peer: PeerProcess, blog: HttpsBlog) -> None:
    post = await _publish(blog)
    note = blog.ctx.urls.note(post.slug)

    like = await peer.react(blog.handle, "Like", note)
    boost = await peer.react(blog.handle, "Announce", note)

    async def shown() -> str | None:
        html = await _post_page(blog, post)
        return html if "1 like" in html and "1 boost" in html else None

    html = await eventually(shown, "the peer's Like and Announce never showed under the post")
    assert 'title="Alice Peer"' in html
    shared = [r for r in (await peer.state())["outgoing"] if r["url"] == blog.ctx.urls.shared_inbox()]
    assert shared and shared[-1]["status"] == 202, shared  # they came through the shared inbox

    await peer.undo(blog.handle, like["id"])
    await peer.undo(blog.handle, boost["id"])

    async def gone() -> bool:
        html = await _post_page(blog, post)
        return "1 like" not in html and "1 boost" not in html

    await eventually(gone, "the peer's Undo never removed its reactions")
    assert 'title="Alice Peer"' not in await _post_page(blog, post)


async def test_thread_crawl__fedify_walks_the_replies_and_dereferences_each_comment(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    urls = blog.ctx.urls
    post = await _publish(blog)
    note_id, comment = await _peer_replies(peer, blog, urls.note(post.slug), "<p>Top-level remark.</p>")
    reply = await CommentService(blog.ctx).reply_as_author(comment.id, "An answer from the author.")

    top = await peer.traverse(urls.replies(post.slug))
    nested = await peer.traverse(urls.comment_replies(comment.id))

    # The post's collection lists the whole thread (crawlers see every comment); a comment's, its children.
    assert {item["id"] for item in top["items"]} == {note_id, urls.comment_object(reply.id)}
    assert [item["id"] for item in nested["items"]] == [urls.comment_object(reply.id)]
    answer = await peer.lookup(urls.comment_object(reply.id))
    assert answer["type"] == "Note"
    assert answer["object"]["inReplyTo"] == note_id
    assert answer["object"]["attributedTo"] == urls.actor()
    assert "An answer from the author." in answer["object"]["content"]


async def test_context__fedify_reads_the_posts_conversation_and_gets_the_whole_thread(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    # Given a thread: the peer's reply (approved) and the author's answer to it
    post = await _publish(blog, "A thread to read back")
    note_id, comment = await _peer_replies(peer, blog, blog.ctx.urls.note(post.slug), "<p>First!</p>")
    answer = await CommentService(blog.ctx).reply_as_author(comment.id, "Welcome")

    # When Fedify reads the post's Note, then walks the collection its `context` names (FEP-7888)
    found = await peer.lookup(blog.ctx.urls.note(post.slug))
    context = found["json"]["context"]
    assert context == blog.ctx.urls.conversation(post.slug)
    walked = await peer.traverse(context)

    # Then it gets the post and every comment of the thread, oldest first
    assert walked["totalItems"] == 3
    assert [item["id"] for item in walked["items"]] == [
        blog.ctx.urls.note(post.slug),
        note_id,
        blog.ctx.urls.comment_object(answer.id),
    ]


async def test_quote__fedifys_quote_request_gets_an_accept_with_a_stamp_it_can_fetch(
    peer: PeerProcess, blog: HttpsBlog
) -> None:
    post = await _publish(blog, "Quote me")
    target = blog.ctx.urls.note(post.slug)
    policy = (await peer.lookup(target))["json"]["interactionPolicy"]
    assert policy["canQuote"] == {"automaticApproval": "as:Public"}  # as Fedify reads (and compacts) it

    sent = await peer.quote(blog.handle, target, "<p>Worth reading</p>")

    accept = await peer.wait_for_activity(
        lambda a: a["type"] == "Accept" and (a["raw"] or {}).get("object", {}).get("id") == sent["requestId"],
        "the blog's Accept of the quote request",
        tick=lambda: deliver(blog),
    )
    stamp = await peer.lookup(accept["raw"]["result"])
    assert stamp["type"] == "QuoteAuthorization"
    assert stamp["json"]["interactingObject"] == sent["noteId"]
    assert stamp["json"]["interactionTarget"] == target
    status, html = await blog.get(f"/posts/{post.slug}")
    assert status == 200 and "1 quote" in html and sent["noteId"] in html


async def test_integrity_proof__fedifys_direct_reply_carries_a_proof_that_the_blog_checks(
    peer: PeerProcess, blog: HttpsBlog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FEP-8b32 the other way: Fedify signs what it sends with an eddsa-jcs-2022 proof (its Ed25519 key, listed in
    its actor's assertionMethod). The blog's inbox checks it on every direct activity: Fedify's own proof holds, and
    the same activity altered after Fedify signed it does not (the inbox would answer 401). What the inbox checked
    is seen as it checked it (the record of a processed activity keeps no body)."""
    checked: list[tuple[dict[str, Any], ProofVerdict]] = []

    async def watched(ctx: Context, document: dict[str, Any], actor_id: str) -> ProofVerdict:
        verdict = await check_proofs(ctx, document, actor_id)
        checked.append((document, verdict))
        return verdict

    monkeypatch.setattr(inbox, "check_proofs", watched)
    post = await _publish(blog, "Proofs from a real peer")
    sent = await peer.reply(blog.handle, blog.ctx.urls.note(post.slug), "<p>Sealed by Fedify</p>", (blog.handle,))
    await _remote_comment(blog, sent["noteId"])
    received, verdict = next((doc, verdict) for doc, verdict in checked if doc.get("id") == sent["createId"])
    assert received["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert verdict.held

    altered = {**received, "object": {**received["object"], "content": "<p>Not what Fedify sealed</p>"}}
    assert (await check_proofs(blog.ctx, altered, peer.actor)).broken == "the proof does not match the document"
