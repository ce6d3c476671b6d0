"""A post page's comments are rendered once per state and reused by the next render (web/comment_fragments.py):
what a reader sees must be what a full render shows — an edited comment, a renamed blog author, a new reply."""

from __future__ import annotations

import dataclasses

from fedblog.clock import to_text, utcnow
from fedblog.web.faces import GRAVATAR
from fedblog.web.keys import STATE_KEY
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, get, publish


def fragments_held(site: LiveSite) -> int:
    cache = site.app[STATE_KEY].comment_fragments
    return 0 if cache is None else len(cache)


async def test_post_page__a_new_reply_shows_and_the_other_comments_are_reused(site: LiveSite) -> None:
    # Given a post page read once with three comments
    post = await publish(site, "Talked about", slug="talked")
    for n in range(3):
        await add_comment(site, post, f"Comment number {n}")
    first = await get(site, "/posts/talked")
    assert first.status == 200 and fragments_held(site) == 3
    # When a reply arrives and the page is read again
    await add_comment(site, post, "A brand new reply")
    page = await get(site, "/posts/talked")
    # Then the page shows every comment and the new one, and only the new one was rendered (one fragment more)
    assert all(f"Comment number {n}" in page.text for n in range(3))
    assert "A brand new reply" in page.text
    assert fragments_held(site) == 4


async def test_post_page__an_edited_comment_shows_its_new_text(site: LiveSite) -> None:
    # Given a post page read once with a comment
    post = await publish(site, "Edited below", slug="edited")
    comment = await add_comment(site, post, "The first words")
    assert "The first words" in (await get(site, "/posts/edited")).text
    # When the comment's text changes (an Update from its author, an edit)
    async with site.ctx.db.transaction() as conn:
        await site.ctx.comments.update_content(conn, comment.id, "<p>The second words</p>", "", False, (),
                                               to_text(utcnow()))  # fmt: skip
    page = await get(site, "/posts/edited")
    # Then the reader sees the new text, never the old fragment
    assert "The second words" in page.text
    assert "The first words" not in page.text


async def test_post_page__a_settings_change_renders_the_comments_again(site: LiveSite) -> None:
    # Given a page with a visitor's comment, read once, without Gravatar faces
    site.ctx.settings = dataclasses.replace(
        site.ctx.settings, comments=dataclasses.replace(site.ctx.settings.comments, gravatar=False)
    )
    post = await publish(site, "Faces below", slug="faces")
    await add_comment(site, post, "Thanks for this", email="camille@example.org")
    assert GRAVATAR not in (await get(site, "/posts/faces")).text
    # When the admin turns Gravatar on, and a commit changes the page
    site.ctx.settings = dataclasses.replace(
        site.ctx.settings, comments=dataclasses.replace(site.ctx.settings.comments, gravatar=True)
    )
    await add_comment(site, post, "Second comment", email="dominique@example.org")
    page = await get(site, "/posts/faces")
    # Then the first comment too shows its Gravatar face: it was rendered again, not reused
    assert page.text.count(GRAVATAR) == 2
