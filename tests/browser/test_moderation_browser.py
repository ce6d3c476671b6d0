"""A visitor comments in a real browser, the author approves it and answers from /admin in another browser."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from fedblog.models import CommentStatus
from tests.conftest import ADMIN_PASSWORD, LiveSite
from tests.integration.blog_support import publish


async def test_moderation__held_comment_approved_and_answered_from_the_admin(
    site: LiveSite, page: Page, browser: Browser
) -> None:
    await publish(site, "Moderated post", slug="moderated-post")
    post_url = site.url + "/posts/moderated-post"

    # Given a visitor who sends a valid comment through the form
    await page.goto(post_url)
    await page.get_by_label("Name").fill("Dominique")
    await page.get_by_label("Email").fill("dom@example.org")
    await page.get_by_label("Website").fill("https://dom.example")
    await page.get_by_label("Message").fill("Is this thing on?")
    await page.get_by_role("button", name="Post comment").click()
    await expect(page.get_by_role("status")).to_contain_text("awaiting moderation")
    [held] = await site.ctx.comments.list_by_status(CommentStatus.PENDING)

    # Then it is held: a fresh page load shows it to its writer only, marked as waiting; other browsers see nothing
    await page.goto(post_url)
    await expect(page.get_by_role("status")).to_contain_text("Your comment is awaiting moderation.")
    await expect(page.get_by_role("status")).to_contain_text("Is this thing on?")
    stranger_context = await browser.new_context(locale="en-US")
    try:
        stranger = await stranger_context.new_page()
        await stranger.goto(post_url)
        await expect(stranger.locator("body")).not_to_contain_text("Is this thing on?")
    finally:
        await stranger_context.close()

    admin_context = await browser.new_context(locale="en-US")
    admin_context.set_default_timeout(10_000)
    try:
        admin = await admin_context.new_page()
        # When the author logs in (the admin sends them to the login page first, then back)
        await admin.goto(site.url + "/admin/comments")
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Log in")
        await admin.get_by_label("Password").fill(ADMIN_PASSWORD)
        await admin.get_by_role("button", name="Log in").click()
        await expect(admin.get_by_role("heading", level=1)).to_have_text("Comments")

        # and approves the held comment, whose email only the admin sees
        item = admin.locator(f"#comment-{held.id}")
        await expect(item).to_contain_text("Is this thing on?")
        await expect(item).to_contain_text("dom@example.org")
        await item.get_by_role("button", name="Approve", exact=True).click()
        await expect(admin.get_by_role("status")).to_have_text("Comment approved.")

        # Then the visitor sees it in the thread
        await page.goto(post_url)
        await expect(page.locator(f"#comment-{held.id}")).to_contain_text("Is this thing on?")
        await expect(page.locator("body")).not_to_contain_text("dom@example.org")

        # When the author replies to it from the approved tab
        await admin.get_by_role("link", name="Approved (1)").click()
        reply_box = admin.locator(f"#comment-{held.id}").get_by_label("Reply as the author (Markdown)")
        await reply_box.fill("Loud and **clear**.")
        await admin.locator(f"#comment-{held.id}").get_by_role("button", name="Reply", exact=True).click()
        await expect(admin.get_by_role("status")).to_have_text("Your reply is published.")
    finally:
        await admin_context.close()

    # Then the reply is nested under the comment on the post page
    await page.goto(post_url)
    replies = page.locator(f"#comment-{held.id} + ol.comment-replies")
    await expect(replies).to_contain_text("Loud and clear.")
    await expect(replies.locator("strong")).to_have_text("clear")
    await expect(page.locator("#comments-title")).to_have_text("2 comments")
