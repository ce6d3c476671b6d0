"""The moderation queue in a real browser: select all and approve, keyboard shortcuts, buttons of one size."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.browser.support import log_in
from tests.conftest import LiveSite
from tests.integration.blog_support import add_comment, publish


async def test_queue__select_all_then_approve_and_keyboard_spam(site: LiveSite, page: Page) -> None:
    post = await publish(site, "Busy")
    held = [
        await add_comment(site, post, f"Comment {n}", name=f"Reader {n}", email=f"r{n}@example.org", approve=False)
        for n in range(4)
    ]
    await log_in(page, site, "/admin/comments")
    items = page.locator(".moderation-item")
    await expect(items).to_have_count(4)

    # Approve, Spam and Delete are buttons of one size (only their colour differs).
    first = items.first
    heights = {
        round((await first.get_by_role("button", name=name, exact=True).bounding_box())["height"])  # type: ignore[index]
        for name in ("Approve", "Spam", "Delete")
    }
    assert len(heights) == 1, heights

    # The keyboard: j selects the first (newest) comment, s marks it as spam.
    await page.keyboard.press("j")
    await expect(first).to_be_focused()
    await page.keyboard.press("s")
    await expect(page.get_by_role("status")).to_have_text("Comment marked as spam.")
    assert (await site.ctx.comments.count_by_status()).get("spam") == 1

    # Select all on the page, then approve them in one go.
    await page.get_by_label("Select all on this page").check()
    for box in await page.locator("input[name='ids']").all():
        await expect(box).to_be_checked()
    await page.locator(".bulk-buttons").get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_have_text("3 comments approved.")
    counts = await site.ctx.comments.count_by_status()
    assert counts.get("approved") == 3 and counts.get("pending", 0) == 0
    assert held[-1].id  # the newest went to spam, the others are published
    await page.goto(site.url + f"/posts/{post.slug}")
    await expect(page.locator(".comment")).to_have_count(3)
