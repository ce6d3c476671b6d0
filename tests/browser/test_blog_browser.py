"""A visitor in a real browser (Chromium, no JavaScript needed by the pages): read, comment, French."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Browser, Page, expect

from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import add_comment, publish


async def test_post_page__reader_sees_post_and_thread(site: LiveSite, page: Page) -> None:
    post = await publish(
        site, "A walk in the park", "It was **sunny**.", tags=("walks",), date=datetime(2025, 5, 4, tzinfo=UTC)
    )
    parent = await add_comment(site, post, "Lovely!", name="Ana")
    await add_comment(site, post, "Thanks Ana.", name="Bo", email="bo@example.org", parent=parent)

    await page.goto(site.url + "/")
    await page.get_by_role("link", name="A walk in the park", exact=True).click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("A walk in the park")
    await expect(page.locator("article.post time").first).to_have_text("May 4, 2025")
    await expect(page.locator("#comments-title")).to_have_text("2 comments")
    await expect(page.locator(f"#comment-{parent.id} + ol.comment-replies")).to_contain_text("Thanks Ana.")
    await expect(page.get_by_role("link", name="#walks")).to_be_visible()


async def test_comment_form__missing_email_shows_error_next_to_field_and_keeps_input(
    site: LiveSite, page: Page
) -> None:
    await publish(site, "Form post", slug="form-post")
    await page.goto(site.url + "/posts/form-post")

    await page.get_by_label("Name").fill("Camille")
    await page.get_by_label("Website").fill("https://camille.example")
    await page.get_by_label("Message").fill("Hello there")
    await page.get_by_role("button", name="Post comment").click()

    email = page.locator("#comment-email")
    await expect(page.locator("#comment-email-error")).to_have_text("Please enter your email address.")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Name")).to_have_value("Camille")
    await expect(page.get_by_label("Website")).to_have_value("https://camille.example")
    await expect(page.get_by_label("Message")).to_have_value("Hello there")
    assert await site.ctx.comments.list_by_status() == []


async def test_comment_form__valid_comment_is_held_and_private(site: LiveSite, page: Page, browser: Browser) -> None:
    await publish(site, "Held post", slug="held-post")
    await page.goto(site.url + "/posts/held-post")

    await page.get_by_label("Name").fill("Dominique")
    await page.get_by_label("Email").fill("dom@example.org")
    await page.get_by_label("Message").fill("Waiting for approval")
    await page.get_by_role("button", name="Post comment").click()

    await expect(page.get_by_role("status")).to_contain_text("Your comment is awaiting moderation.")
    await expect(page.get_by_role("status")).to_contain_text("Waiting for approval")
    held_url = page.url
    assert "held=" in held_url
    # Another visitor, even with the same address, sees no trace of it
    other = await browser.new_context()
    try:
        stranger = await other.new_page()
        await stranger.goto(held_url)
        await expect(stranger.locator("#comments-title")).to_have_text("0 comments")
        await expect(stranger.locator("body")).not_to_contain_text("Waiting for approval")
    finally:
        await other.close()


async def test_reply_link__sets_the_form_without_javascript(site: LiveSite, browser: Browser) -> None:
    post = await publish(site, "Reply post", slug="reply-post")
    comment = await add_comment(site, post, "Parent comment", name="Ana")
    context = await browser.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(site.url + "/posts/reply-post")
        await page.get_by_role("link", name="Reply to Ana").click()
        await expect(page.locator(".replying-to")).to_contain_text("Replying to Ana")
        await expect(page.locator("input[name=parent_id]")).to_have_value(str(comment.id))
        await page.get_by_role("link", name="cancel reply").click()
        await expect(page.locator("input[name=parent_id]")).to_have_value("")
    finally:
        await context.close()


async def test_post_page__in_french(site_factory: SiteFactory, page: Page) -> None:
    site = await site_factory(language="fr")
    post = await publish(site, "Bonjour", slug="bonjour", date=datetime(2012, 2, 21, 12, 0, tzinfo=UTC))
    await add_comment(site, post, "Premier")
    await add_comment(site, post, "Second", email="autre@example.org")

    await page.goto(site.url + "/posts/bonjour")

    await expect(page.locator("article.post time").first).to_have_text("21 février 2012")
    await expect(page.locator("#comments-title")).to_have_text("2 commentaires")
    await expect(page.get_by_role("heading", name="Laisser un commentaire")).to_be_visible()
    await expect(page.get_by_label("Nom")).to_be_visible()
    await expect(page.get_by_role("button", name="Publier le commentaire")).to_be_visible()


async def test_error_page__unknown_address_shows_not_found(site: LiveSite, page: Page) -> None:
    response = await page.goto(site.url + "/no-such-page")
    assert response is not None and response.status == 404
    await expect(page.locator("h1")).to_have_text("Page not found")
