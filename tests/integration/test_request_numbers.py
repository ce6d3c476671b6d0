"""Numbers taken from requests (ids, pages) are bounded ASCII digits: a hostile one is a 400 or a 404, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import get, new_session, publish, submit_comment

HUGE = "9" * 400


async def test_comment_form__an_oversized_or_odd_parent_id_is_a_400_that_keeps_the_text(
    site_factory: SiteFactory,
) -> None:
    site = await site_factory(overrides={"comments": {"rate_limit_per_minute": 100}})
    await publish(site, "Post", slug="post")
    for parent_id in (HUGE, "99999999999999999999", "²", "١٢", "-1", "0"):
        async with new_session() as session:
            page = await submit_comment(
                site, "post", session, name="Ana", email="ana@example.org", message="My words", parent_id=parent_id
            )
        assert page.status == 400, parent_id
        assert "The comment you reply to does not exist." in page.text
        assert ">My words</textarea>" in page.text
    assert await site.ctx.comments.list_by_status() == []


@pytest.mark.parametrize(
    "path",
    [
        "/comments/99999999999999999999999",
        f"/comments/{HUGE}",
        f"/comments/{HUGE}/replies",
        "/comments/1/replies?page=²",
        "/comments/%D9%A1",  # an Arabic-Indic digit
        "/?page=²",
        f"/?page={HUGE}",
        "/actor/outbox?page=²",
        "/archive/%D9%A2%D9%A0%D9%A2%D9%A6/01",
    ],
)
async def test_request_numbers__a_hostile_id_or_page_is_a_404(site: LiveSite, path: str) -> None:
    await publish(site, "Post", slug="post")
    page = await get(site, path)
    assert page.status == 404


@pytest.mark.parametrize("query", [f"?replyto={HUGE}", "?replyto=²", f"?held={HUGE}", "?held=²"])
async def test_post_page__a_hostile_replyto_or_held_is_the_plain_page(site: LiveSite, query: str) -> None:
    await publish(site, "Post", slug="post")
    page = await get(site, "/posts/post" + query)
    assert page.status == 200
    assert "<h1" in page.text
