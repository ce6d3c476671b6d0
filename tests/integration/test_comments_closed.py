"""Closing comments: per post (admin form, front matter) and site-wide after comments.close_after_days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fedblog.clock import utcnow
from fedblog.frontmatter import FrontMatterError, parse_document
from fedblog.services.comments import CommentService
from fedblog.services.posts import PostService, input_from_document
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import (
    add_comment,
    close_comments,
    get,
    new_session,
    post_form,
    publish,
    submit_comment,
)

FIELDS = {"name": "Ana", "email": "ana@example.org", "message": "Too late?"}


async def test_closed_post__shows_its_thread_without_form_or_reply_links(site: LiveSite) -> None:
    post = await publish(site, "Closed talk", slug="closed")
    await add_comment(site, post, "An earlier comment", name="Bo")
    async with new_session() as session:
        token_page = await get(site, "/posts/closed", session)
        await close_comments(site, "closed")

        page = await get(site, "/posts/closed", session)
        # A form loaded before closing is refused, and nothing is stored
        token = token_page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = await post_form(site, "/posts/closed/comments", {**FIELDS, "csrf_token": token}, session)

    assert "An earlier comment" in page.text and "1 comment" in page.text
    assert "Comments are closed." in page.text
    assert 'class="comment-form"' not in page.text and 'class="reply-link"' not in page.text
    assert answer.status == 403 and "Comments are closed on this post" in answer.text
    assert len(await site.ctx.comments.list_visible_for_post(post.id)) == 1


async def test_closed_post__the_author_can_still_answer_from_the_admin(site: LiveSite) -> None:
    post = await publish(site, "Closed talk", slug="closed")
    question = await add_comment(site, post, "A last question?")
    await close_comments(site, "closed")

    await CommentService(site.ctx).reply_as_author(question.id, "A last answer.")

    assert "A last answer." in (await get(site, "/posts/closed")).text


async def test_close_after_days__old_posts_closed_new_ones_open(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"close_after_days": 30, "moderation": "open"}})
    await publish(site, "Old news", slug="old", date=utcnow() - timedelta(days=31))
    await publish(site, "Fresh news", slug="fresh", date=utcnow() - timedelta(days=29))

    old, fresh = await get(site, "/posts/old"), await get(site, "/posts/fresh")
    async with new_session() as session:
        accepted = await submit_comment(site, "fresh", session, **FIELDS)
        token = (await get(site, "/posts/fresh", session)).text.split('name="csrf_token" value="', 1)[1][:80]
        late = await post_form(
            site, "/posts/old/comments", {**FIELDS, "csrf_token": token.split('"', 1)[0]}, session
        )  # a valid token from the open post's form: refused only because the old post is closed

    assert "Comments are closed." in old.text and 'class="comment-form"' not in old.text
    assert "Comments are closed." not in fresh.text and 'class="comment-form"' in fresh.text
    assert accepted.status == 303
    assert late.status == 403 and "Comments are closed on this post" in late.text


async def test_closed_post__in_french(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    await publish(site, "Fermé", slug="ferme")
    await close_comments(site, "ferme")
    assert "Les commentaires sont fermés." in (await get(site, "/posts/ferme")).text


async def test_front_matter__comments_closed_publishes_a_closed_post(site: LiveSite) -> None:
    document = parse_document("---\ntitle: Announcement\ncomments: closed\n---\nNo discussion here.\n")
    post = await PostService(site.ctx).publish(input_from_document(document))
    assert post.comments_open is False
    assert "Comments are closed." in (await get(site, f"/posts/{post.slug}")).text
    with pytest.raises(FrontMatterError, match="comments must be open or closed"):
        parse_document("---\ntitle: T\ncomments: maybe\n---\nx\n")
