"""One conversation in a real browser: a reply from the fediverse, then a visitor's web reply to it, nested."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import SiteFactory
from tests.fakes.remote import RemoteInstance
from tests.helpers import publish


async def test_conversation__fediverse_reply_then_web_reply_shown_nested(site_factory: SiteFactory, page: Page) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open"}})
    remote = await RemoteInstance(site=site, avatars=True).start()
    try:
        remote.profiles["alice"] = {"name": "Alice from Mastodon"}
        post = await publish(site, "Threads everywhere")
        note = remote.note("alice", site.ctx.urls.note(post.slug), "<p>Replying from my server!</p>")
        assert await remote.send("alice", remote.create("alice", note)) == 202
        fediverse = await site.ctx.comments.get_comment_by_remote_id(note["id"])
        assert fediverse is not None

        await page.goto(site.ctx.urls.post(post.slug))
        remote_comment = page.locator(f"#comment-{fediverse.id}")
        await expect(remote_comment).to_contain_text("Replying from my server!")
        await expect(remote_comment).to_contain_text("Alice from Mastodon")
        await remote_comment.get_by_role("link", name="Reply to Alice from Mastodon").click()

        await expect(page.locator(".replying-to")).to_contain_text("Alice from Mastodon")
        await page.get_by_label("Name").fill("Vera")
        await page.get_by_label("Email").fill("vera@example.org")
        await page.get_by_label("Message").fill("Answering Alice from the web form.")
        await page.get_by_role("button", name="Post comment").click()

        replies = page.locator(f"#comment-{fediverse.id} + ol.comment-replies")
        await expect(replies).to_contain_text("Answering Alice from the web form.")
        await expect(replies).to_contain_text("Vera")
        await expect(page.locator(f"#comment-{fediverse.id} .fediverse-reply-link")).to_have_text(
            "Reply from your fediverse account"
        )
    finally:
        await remote.close()
