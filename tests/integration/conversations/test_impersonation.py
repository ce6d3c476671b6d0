"""Nobody but the author comments as the author: a visitor's name that passes for the author's (homoglyphs,
invisible characters, case) or is made only of invisible characters is refused, and only the author's own
comments carry the Author badge."""

from __future__ import annotations

import pytest

from tests.conftest import SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import page, publish
from tests.integration.blog_support import field_block, new_session, submit_comment

LENIENT = {"comments": {"moderation": "open", "rate_limit_per_minute": 100}}
BADGE = '<span class="badge">Author</span>'


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("author", "looks like the author"),
        ("AUTHOR", "looks like the author"),
        ("@author", "looks like the author"),
        ("\u0430uthor", "looks like the author"),  # a Cyrillic а
        ("auth\u200bor", "looks like the author"),  # a zero-width space inside
        ("\u0391UTH0R", "looks like the author"),  # a Greek capital Alpha and a zero
        ("\u200b\u200d\u2060", "only of invisible characters"),
        ("\u200e\u202f\u200b", "only of invisible characters"),
    ],
)
async def test_web_comment__a_name_passing_for_the_author_or_invisible_is_refused(
    site_factory: SiteFactory, remote: RemoteInstance, name: str, error: str
) -> None:
    site = await site_factory(overrides=LENIENT)
    remote.site = site
    post = await publish(site)
    async with new_session() as session:
        answer = await submit_comment(
            site, post.slug, session, name=name, email="x@example.org", message="I am the author, trust me"
        )
    assert answer.status == 400
    assert error in field_block(answer.text, "name")
    assert ">I am the author, trust me</textarea>" in answer.text
    assert await site.ctx.comments.list_by_status() == []


async def test_author_badge__only_for_the_author_never_for_a_name_alike(
    site_factory: SiteFactory, remote: RemoteInstance
) -> None:
    site = await site_factory(overrides=LENIENT)
    remote.site = site
    post = await publish(site)
    # A fediverse account whose display name is the author's, and a visitor with an ordinary name
    remote.profiles["mallory"] = {"name": "author"}
    fake = remote.note("mallory", site.ctx.urls.note(post.slug), "<p>Fake</p>")
    await remote.send("mallory", remote.create("mallory", fake))
    async with new_session() as session:
        visitor = await submit_comment(site, post.slug, session, name="Dominique", email="d@example.org", message="Hi")
    assert visitor.status == 303
    comments = await site.ctx.comments.list_by_status()
    from fedblog.services.comments import CommentService

    await CommentService(site.ctx).reply_as_author(comments[0].id, "Thanks!")

    html = await page(site, post)
    assert "Fake" in html and "Dominique" in html and "Thanks!" in html
    assert html.count(BADGE) == 1  # the author's reply only
    badge_at = html.index(BADGE)
    assert html.rfind('<article id="comment-', 0, badge_at) > html.index("Fake")  # not on mallory's comment
