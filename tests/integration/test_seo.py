"""/sitemap.xml and /robots.txt, as crawlers read them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite
from tests.integration.blog_support import get, publish

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_entries(text: str) -> dict[str, str | None]:
    """loc -> lastmod (None when absent)."""
    root = ET.fromstring(text)
    assert root.tag == f"{SITEMAP}urlset"
    return {url.findtext(f"{SITEMAP}loc", ""): url.findtext(f"{SITEMAP}lastmod") for url in root}


async def test_sitemap__lists_published_posts_with_lastmod_tags_and_archive(site: LiveSite) -> None:
    # Given a published post, an edited one and a draft
    await publish(site, "First", date=datetime(2025, 3, 1, 9, 0, tzinfo=UTC), tags=("notes",))
    second = await publish(site, "Second", date=datetime(2025, 4, 2, 9, 0, tzinfo=UTC))
    edited = await PostService(site.ctx).edit(second.slug, PostInput(title="Second", body_markdown="Revised."))
    await publish(site, "Hidden draft", draft=True)
    # When a crawler reads the sitemap
    page = await get(site, "/sitemap.xml")
    # Then it lists the home page, each published post with its last change, the tag and archive pages
    assert page.status == 200
    assert page.headers["Content-Type"] == "application/xml; charset=utf-8"
    entries = sitemap_entries(page.text)
    assert edited.updated_at is not None
    assert entries[f"{site.url}/posts/first"] == "2025-03-01T09:00:00+00:00"
    assert entries[f"{site.url}/posts/second"] == edited.updated_at.isoformat()
    assert entries[f"{site.url}/"] == edited.updated_at.isoformat()
    assert f"{site.url}/tags/notes" in entries
    assert f"{site.url}/archive" in entries
    assert f"{site.url}/archive/2025/03" in entries and f"{site.url}/archive/2025/04" in entries
    assert not [loc for loc in entries if "draft" in loc]
    assert len(entries) == 7


async def test_sitemap__shows_a_new_post_at_once(site: LiveSite) -> None:
    await publish(site, "Before")
    assert f"{site.url}/posts/after" not in sitemap_entries((await get(site, "/sitemap.xml")).text)

    await publish(site, "After")

    assert f"{site.url}/posts/after" in sitemap_entries((await get(site, "/sitemap.xml")).text)


async def test_sitemap__no_posts_yet_is_still_valid(site: LiveSite) -> None:
    entries = sitemap_entries((await get(site, "/sitemap.xml")).text)

    assert entries == {f"{site.url}/": None, f"{site.url}/archive": None}


async def test_robots__allows_everything_but_admin_and_search_and_names_the_sitemap(site: LiveSite) -> None:
    page = await get(site, "/robots.txt")

    assert page.status == 200
    assert page.headers["Content-Type"].startswith("text/plain")
    assert page.text == (f"User-agent: *\nDisallow: /admin\nDisallow: /search\n\nSitemap: {site.url}/sitemap.xml\n")
