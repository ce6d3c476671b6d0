"""A web commenter in a real browser: their own comment edited within the window and not after, their held comment
seen again on a later visit, their details remembered when they ask, and their identicon."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Browser, Page, expect

from fedblog.clock import utcnow
from fedblog.web.keys import STATE_KEY
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import publish

OPEN = {"comments": {"moderation": "open", "rate_limit_per_minute": 100}}


def minutes_pass(site: LiveSite, minutes: int) -> None:
    """The site's visitor clock moves on (the edit window is read on it): no sleeping."""
    moment = utcnow() + timedelta(minutes=minutes)
    site.app[STATE_KEY].visitor_clock = lambda: moment


async def write_comment(page: Page, message: str, remember: bool = False) -> None:
    await page.get_by_label("Name").fill("Dominique")
    await page.get_by_label("Email").fill("dom@example.org")
    await page.get_by_label("Website").fill("dom.example")
    await page.get_by_label("Message").fill(message)
    if remember:
        await page.get_by_label("Remember my details in this browser").check()
    await page.get_by_role("button", name="Post comment").click()


async def test_own_comment__edited_within_the_window_and_not_after(site_factory: SiteFactory, page: Page) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Edit post", slug="edit-post")
    await page.goto(site.url + "/posts/edit-post")
    await write_comment(page, "Thanks for teh post")
    # Within the window: the link under her comment, the form with her text, the new text marked edited
    await page.get_by_role("link", name="Edit or delete your comment").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Edit your comment")
    await expect(page.get_by_label("Message")).to_have_value("Thanks for teh post")
    await page.get_by_label("Message").fill("Thanks for the post")
    await page.get_by_role("button", name="Save changes").click()
    comment = page.locator("article.comment")
    await expect(comment.locator(".comment-content")).to_have_text("Thanks for the post")
    await expect(comment.locator(".edited")).to_have_text("edited")
    # After the window: no link, and the edit page refuses
    minutes_pass(site, 16)
    await page.reload()
    await expect(page.locator("article.comment .comment-content")).to_have_text("Thanks for the post")
    await expect(page.get_by_role("link", name="Edit or delete your comment")).to_have_count(0)
    [stored] = await site.ctx.comments.list_by_status()
    answer = await page.goto(f"{site.url}/comments/{stored.id}/edit")
    assert answer is not None and answer.status == 403
    await expect(page.locator("body")).to_contain_text("can no longer be changed from this browser")


async def test_held_comment__seen_by_its_writer_on_a_later_visit_only(
    site: LiveSite, page: Page, browser: Browser
) -> None:
    await publish(site, "Held post", slug="held-post")  # first_time moderation: held
    await page.goto(site.url + "/posts/held-post")
    await write_comment(page, "Waiting my turn")
    minutes_pass(site, 3 * 24 * 60)
    await page.goto(site.url + "/")
    await page.get_by_role("link", name="Held post", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("Your comment is awaiting moderation.")
    await expect(page.get_by_role("status")).to_contain_text("Waiting my turn")
    other = await browser.new_context()
    try:
        stranger = await other.new_page()
        await stranger.goto(site.url + "/posts/held-post")
        await expect(stranger.locator("#comments-title")).to_have_text("0 comments")
        await expect(stranger.locator("body")).not_to_contain_text("Waiting my turn")
    finally:
        await other.close()


async def test_saved_details_and_identicon(site_factory: SiteFactory, page: Page) -> None:
    site = await site_factory(overrides=OPEN)
    await publish(site, "Details post", slug="details-post")
    await publish(site, "Another post", slug="another-post")
    await page.goto(site.url + "/posts/details-post")
    await expect(page.get_by_label("Remember my details in this browser")).not_to_be_checked()
    await write_comment(page, "Remember me", remember=True)
    # Her face is an identicon drawn by the blog, and it loads
    face = page.locator("article.comment img.avatar")
    src = await face.get_attribute("src")
    assert src is not None and src.startswith(site.url + "/faces/") and src.endswith(".svg")
    assert await face.evaluate("image => image.complete && image.naturalWidth > 0")
    # On another post, the form is filled in with what she typed
    await page.goto(site.url + "/posts/another-post")
    await expect(page.get_by_label("Name")).to_have_value("Dominique")
    await expect(page.get_by_label("Email")).to_have_value("dom@example.org")
    await expect(page.get_by_label("Website")).to_have_value("https://dom.example")
    await expect(page.get_by_label("Remember my details in this browser")).to_be_checked()
