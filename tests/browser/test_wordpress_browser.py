"""A reader in a real browser on an imported WordPress blog: old links land on the post, the thread is WordPress's."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from bench.wordpress_export import export
from fedblog.services.wordpress_import import import_wordpress
from tests.conftest import SiteFactory
from tests.integration.wxr_support import french_post, write_export


async def test_imported_french_post__old_links_land_on_it_with_its_threaded_comments_and_pingback(
    site_factory: SiteFactory, page: Page, tmp_path: Path
) -> None:
    site = await site_factory(language="fr")
    await import_wordpress(site.ctx, write_export(tmp_path / "export.xml", export([french_post()])))
    new_url = site.url + "/posts/animer-une-communaute-les-bases"

    for old in ("/?p=12", "/2009/03/14/animer-une-communaute-les-bases/"):
        await page.goto(site.url + old)
        await expect(page).to_have_url(new_url)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Animer une communauté : les bases")

    await expect(page.locator("#comments-title")).to_have_text("9 commentaires")
    comments = page.locator("#comments article.comment")
    await expect(comments).to_have_count(9)
    # Threaded: "@goundoulf" answers goundoulf, and "@Marie" answers Marie, one level deeper
    first = page.locator("#comments > ol.comment-list > li.comment-item").first
    await expect(first.locator("> article .comment-content")).to_have_text("Très bon billet, merci !")
    reply = first.locator("> ol.comment-replies > li.comment-item")
    await expect(reply.locator("> article .comment-content")).to_have_text("@goundoulf je suis d'accord.")
    await expect(reply.locator("> ol.comment-replies .comment-content")).to_have_text("@Marie merci à toi.")
    # The pingback line, as WordPress shows it
    pingback = page.locator("article.comment.pingback")
    source = pingback.get_by_role("link", name="Que ferait le Community manager ? | Manager une communauté")
    await expect(source).to_have_attribute("href", "http://127.0.0.1:9/2009/03/15/que-ferait-le-community-manager/")
    await expect(pingback.locator(".comment-content")).to_have_text(
        "[...] Que ferait le Community manager ? | Manager une communauté [...]"
    )
    await expect(page.locator("article.comment.trackback")).to_contain_text("Réponse au billet")
    # Spam and the comment awaiting moderation are not shown
    await expect(page.get_by_text("Achetez des montres")).to_have_count(0)
    await expect(page.get_by_text("J'attends la modération.")).to_have_count(0)
