"""The theme at phone width in a real browser: no page wider than a 360 px screen (a post with a wide table, a
long word and a code block; the admin's posts and moderation pages), and what surrounds a post."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.support import log_in
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, publish

WIDE_POST = """Some text before a table that is far too wide for a phone.

| Column one | Column two | Column three | Column four | Column five | Column six | Column seven |
|---|---|---|---|---|---|---|
| a rather long value | another long value | yet another value | and one more | and more still | again | last |

Pneumonoultramicroscopicsilicovolcanoconiosisandthensomemorelettersthatneverstopgoingonandon and a URL:
https://example.org/a/very/long/path/that/keeps/going/without/any/space/to/break/it/at/all/ever

```
def a_function_with_a_very_long_line(argument_one, argument_two, argument_three, argument_four, five):
    return argument_one + argument_two + argument_three + argument_four + five
```
"""


async def page_width(page: Page) -> tuple[int, int]:
    return await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


async def test_phone__no_page_is_wider_than_a_360px_screen(site: LiveSite, browser: Browser) -> None:
    older = await publish(site, "An older post")
    post = await publish(site, "A post with wide things", body=WIDE_POST, slug="wide")
    newer = await publish(site, "A newer post")
    await add_comment(
        site,
        post,
        "Averyveryverylongwordinacommentthatwouldpushthepagewiderthanthescreenforsure" * 2,
        name="Wide commenter",
        email="wide@example.org",
        approve=False,
    )
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US", device_scale_factor=1)
    context.set_default_timeout(10_000)
    try:
        page = await context.new_page()
        await page.goto(site.url + "/posts/wide")
        scroll, client = await page_width(page)
        assert client == 360 and scroll <= client, f"the post is {scroll} px wide on a {client} px screen"
        # The table and the code block scroll inside their own box instead.
        for selector in (".post-body table", ".post-body pre"):
            inner = await page.locator(selector).evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert inner[0] > inner[1], f"{selector} should scroll inside itself"
        # What surrounds the post: reading time, the author's card, the previous and next posts.
        await expect(page.locator(".reading-time")).to_have_text("1 minute read")
        await expect(page.locator(".author-card")).to_contain_text("@author@")
        await expect(page.get_by_role("link", name="← Previous post An older post")).to_have_attribute(
            "href", site.url + f"/posts/{older.slug}"
        )
        await expect(page.get_by_role("link", name="Next post → A newer post")).to_have_attribute(
            "href", site.url + f"/posts/{newer.slug}"
        )
        await page.goto(site.url + "/")
        scroll, client = await page_width(page)
        assert scroll <= client, f"the home page is {scroll} px wide"
        await log_in(page, site, "/admin/posts")
        for path in ("/admin/posts", "/admin/comments", "/admin", "/admin/settings", "/admin/media"):
            await page.goto(site.url + path)
            scroll, client = await page_width(page)
            assert scroll <= client, f"{path} is {scroll} px wide on a {client} px screen"
    finally:
        await context.close()
