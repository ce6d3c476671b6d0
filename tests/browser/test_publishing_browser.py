"""The editor in a real browser: Enter in the Title field saves a draft (it never publishes), and publishing to
followers asks first, saying how many will receive the post."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import ADMIN_PASSWORD, LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import add_follower


async def log_in(page: Page, site: LiveSite, then: str) -> None:
    await page.goto(site.url + then)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()


async def test_editor__enter_in_the_title_saves_a_draft_and_publishing_asks_first(site: LiveSite, page: Page) -> None:
    remote = await RemoteInstance(host="127.0.0.1", blog_public_key_pem=site.ctx.public_key_pem).start()
    try:
        for name in ("ana", "bo", "cy"):
            await add_follower(site.ctx, remote, name)
        await log_in(page, site, "/admin/posts/new")
        await expect(page.get_by_role("heading", level=1)).to_have_text("New post")

        # When the author types half a title and presses Enter
        await page.get_by_label("Title").fill("Half a tho")
        await page.get_by_label("Title").press("Enter")

        # Then a draft is saved, nothing is public and nothing was sent
        await expect(page.locator("#post-saved")).to_contain_text("Draft saved")
        [draft] = await site.ctx.posts.list_all()
        assert draft.slug == "half-a-tho" and not draft.is_public
        assert (await page.request.get(f"{site.url}/posts/half-a-tho")).status == 404
        assert remote.received == []

        # When they finish it and press Publish, the editor asks first, naming the followers who will receive it
        await page.get_by_label("Title").fill("Half a thought, finished")
        await page.get_by_label("Text (Markdown)").fill("Now it is **whole**.")
        await page.get_by_role("button", name="Publish", exact=True).click()
        confirmation = page.locator("#publish-confirmation")
        await expect(confirmation).to_contain_text("This post will be sent at once to 3 followers on the fediverse.")
        assert not (await site.ctx.posts.list_all())[0].is_public

        # Enter in the Title field still only saves the draft, even with the question on screen
        await page.get_by_label("Title").press("Enter")
        await expect(page.locator("#post-saved")).to_contain_text("Draft saved")
        assert not (await site.ctx.posts.list_all())[0].is_public

        # Confirming publishes it
        await page.get_by_role("button", name="Publish", exact=True).click()
        await confirmation.get_by_role("button", name="Publish now").click()
        await expect(page.locator("#post-saved")).to_contain_text("Published.")
        public = await page.request.get(f"{site.url}/posts/half-a-tho")
        assert public.status == 200 and "Now it is <strong>whole</strong>." in await public.text()

        # A published post's editor: Enter neither publishes nor unpublishes (it previews)
        await page.get_by_label("Title").fill("Changed by accident")
        await page.get_by_label("Title").press("Enter")
        await expect(page.get_by_role("heading", name="Preview")).to_be_visible()
        [post] = await site.ctx.posts.list_all()
        assert post.is_public and post.title == "Half a thought, finished"
    finally:
        await remote.close()
