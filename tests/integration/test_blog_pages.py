"""The pages a visitor reads: home, post, tags, archive, feed, errors, and the page cache."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from fedblog.assembly import open_context
from fedblog.services.posts import PostInput, PostService
from fedblog.web.page_cache import page_cache
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import add_comment, csrf_token, get, new_session, publish, submit_comment

ATOM = "{http://www.w3.org/2005/Atom}"


def day(number: int, month: int = 3) -> datetime:
    return datetime(2025, month, number, 9, 0, tzinfo=UTC)


def titles(html: str) -> list[str]:
    return re.findall(r'<h2 class="p-name"><a class="u-url" href="[^"]+">([^<]+)</a>', html)


async def test_home__lists_excerpts_newest_first(site: LiveSite) -> None:
    # Given two posts, the newer with a long body
    await publish(site, "Older post", "First words of the older post.", date=day(1))
    await publish(site, "Newer post", "Lead paragraph. " + "word " * 200, date=day(2))
    # When a visitor opens the home page
    page = await get(site, "/")
    # Then both show, newest first, as excerpts that link to the full post
    assert page.status == 200
    assert titles(page.text) == ["Newer post", "Older post"]
    assert "First words of the older post." in page.text
    assert "word " * 200 not in page.text and "…" in page.text
    assert f'href="{site.url}/posts/newer-post"' in page.text


async def test_home__paginates_with_newer_and_older_links(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"site": {"posts_per_page": 2}})
    for number in range(1, 6):
        await publish(site, f"Post {number}", date=day(number))

    first, second, last = await get(site, "/"), await get(site, "/?page=2"), await get(site, "/?page=3")

    assert titles(first.text) == ["Post 5", "Post 4"]
    assert titles(second.text) == ["Post 3", "Post 2"]
    assert titles(last.text) == ["Post 1"]
    assert f'rel="next" href="{site.url}/?page=2"' in first.text and 'rel="prev"' not in first.text
    assert f'rel="prev" href="{site.url}/"' in second.text and f'rel="next" href="{site.url}/?page=3"' in second.text
    assert 'rel="next"' not in last.text
    assert "Page 2 of 3" in second.text
    assert (await get(site, "/?page=4")).status == 404
    assert (await get(site, "/?page=zero")).status == 404


async def test_home__empty_site_says_so(site: LiveSite) -> None:
    page = await get(site, "/")
    assert page.status == 200 and "No posts yet." in page.text


async def test_post_page__shows_title_date_author_tags_body(site: LiveSite) -> None:
    await publish(site, "Hello <world>", "A *body* with text.", tags=("python", "web"), date=day(21, 2), slug="hello")

    page = await get(site, "/posts/hello")

    assert page.status == 200
    assert '<h1 class="p-name">Hello &lt;world&gt;</h1>' in page.text
    assert '<time class="dt-published" datetime="2025-02-21T09:00:00+00:00">February 21, 2025</time>' in page.text
    assert f'rel="author" href="{site.url}/@author">author</a>' in page.text
    assert f'<a class="p-category" rel="tag" href="{site.url}/tags/python">#python</a>' in page.text
    assert "<p>A <em>body</em> with text.</p>" in page.text
    for element in ("<article", "<header", "<footer", "<nav", "<main", "<time"):
        assert element in page.text


async def test_post_page__has_opengraph_canonical_and_twitter_meta(site: LiveSite) -> None:
    await publish(site, "Shared post", "The summary of the post.", tags=("news",), slug="shared")

    page = await get(site, "/posts/shared")

    url = f"{site.url}/posts/shared"
    assert f'<link rel="canonical" href="{url}">' in page.text
    assert '<meta property="og:type" content="article">' in page.text
    assert '<meta property="og:title" content="Shared post">' in page.text
    assert f'<meta property="og:url" content="{url}">' in page.text
    assert '<meta property="og:description" content="The summary of the post.">' in page.text
    assert '<meta property="article:tag" content="news">' in page.text
    assert '<meta name="twitter:card" content="summary">' in page.text
    assert '<meta name="description" content="The summary of the post.">' in page.text


async def test_post_page__varies_on_accept_and_links_its_activitypub_note(site: LiveSite) -> None:
    await publish(site, "Negotiated", slug="negotiated")

    page = await get(site, "/posts/negotiated", headers={"Accept": "text/html"})
    again = await get(site, "/posts/negotiated")  # served from the page cache

    for answer in (page, again):
        assert answer.headers["Vary"] == "Accept"
        assert f'<link rel="alternate" type="application/activity+json" href="{site.url}/posts/negotiated">' in (
            answer.text
        )


async def test_post_page__unknown_slug_is_404_page(site: LiveSite) -> None:
    page = await get(site, "/posts/nothing-here")
    assert page.status == 404 and "Page not found" in page.text


async def test_drafts__never_show_anywhere(site: LiveSite) -> None:
    await publish(site, "Public one", tags=("shared",), date=day(3))
    await publish(site, "Secret draft", "Draft body", tags=("shared",), date=day(4), draft=True, slug="secret")

    pages = [await get(site, path) for path in ("/", "/tags/shared", "/archive/2025/03", "/feed.xml")]

    for page in pages:
        assert page.status == 200
        assert "Public one" in page.text and "Secret draft" not in page.text
    assert (await get(site, "/posts/secret")).status == 404
    archive = await get(site, "/archive")
    assert "(1 post)" in archive.text


async def test_tag_page__lists_tagged_posts_paginated(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"site": {"posts_per_page": 2}})
    for number in range(1, 4):
        await publish(site, f"Tagged {number}", tags=("garden",), date=day(number))
    await publish(site, "Untagged", date=day(9))

    first, second = await get(site, "/tags/garden"), await get(site, "/tags/garden?page=2")

    assert "Posts tagged “garden”" in first.text and "3 posts" in first.text
    assert titles(first.text) == ["Tagged 3", "Tagged 2"]
    assert titles(second.text) == ["Tagged 1"]
    assert f'rel="next" href="{site.url}/tags/garden?page=2"' in first.text
    assert (await get(site, "/tags/no-such-tag")).status == 404


async def test_archive__lists_months_with_counts_and_month_pages(site: LiveSite) -> None:
    await publish(site, "March one", date=day(1, 3))
    await publish(site, "March two", date=day(2, 3))
    await publish(site, "April one", date=day(1, 4))

    archive = await get(site, "/archive")
    march = await get(site, "/archive/2025/03")

    months = re.findall(
        r'<li><a href="[^"]+/archive/(\d{4}/\d{2})">([^<]+)</a> <span class="count">\(([^)]+)\)', archive.text
    )
    assert months == [("2025/04", "April 2025", "1 post"), ("2025/03", "March 2025", "2 posts")]
    assert march.status == 200 and titles(march.text) == ["March two", "March one"]
    assert "Posts from March 2025" in march.text
    assert (await get(site, "/archive/2025/05")).status == 404
    assert (await get(site, "/archive/2025/13")).status == 404


async def test_feed__is_valid_atom_with_latest_posts(site: LiveSite) -> None:
    await publish(site, "Feed <one>", "Body with <b>html</b> & more.", tags=("a",), date=day(1), slug="one")
    await publish(site, "Feed two", date=day(2), slug="two")
    home = await get(site, "/")

    page = await get(site, "/feed.xml")

    assert page.status == 200 and page.headers["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(page.text)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Test blog"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{site.url}/feed.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["Feed two", "Feed <one>"]
    first = entries[1]
    assert first.findtext(f"{ATOM}id") == f"{site.url}/posts/one"
    assert first.findtext(f"{ATOM}published") == "2025-03-01T09:00:00+00:00"
    assert "<b>html</b> &amp; more." in first.findtext(f"{ATOM}content")
    assert first.find(f"{ATOM}category").get("term") == "a"
    assert f'<link rel="alternate" type="application/atom+xml" title="Test blog" href="{site.url}/feed.xml">' in (
        home.text
    )


async def test_error_page__not_found_in_french(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr")
    page = await get(site, "/posts/absent")
    assert page.status == 404
    assert '<html lang="fr">' in page.text and "Page introuvable" in page.text
    assert "Retour à l’accueil" in page.text


async def test_page_cache__visitors_of_a_cached_page_get_a_working_form_token(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"comments": {"moderation": "open", "rate_limit_per_minute": 100}})
    await publish(site, "Cached", slug="cached")
    fields = {"name": "Ana", "email": "ana@example.org", "message": "First reader"}
    # Two visitors, each with their own browser, read the cached page and send its form
    async with new_session() as first, new_session() as second:
        token = csrf_token((await get(site, "/posts/cached", first)).text)
        answers = [
            await submit_comment(site, "cached", first, **fields),
            await submit_comment(site, "cached", second, **{**fields, "name": "Bo", "message": "Second reader"}),
        ]
    assert len(page_cache(site.app)) >= 1
    assert token and "__fedblog_csrf_token__" not in token
    assert [answer.status for answer in answers] == [303, 303]
    page = (await get(site, "/posts/cached")).text
    assert "First reader" in page and "Second reader" in page and "__fedblog_csrf_token__" not in page


async def test_page_cache__change_from_another_connection_shows_at_once(site: LiveSite) -> None:
    # Given pages already cached
    post = await publish(site, "Before the edit", slug="edited", tags=("x",))
    for path in ("/", "/posts/edited", "/feed.xml", "/tags/x"):
        assert "Before the edit" in (await get(site, path)).text
    # When the CLI (its own connection to the same SQLite file) edits the post and adds a comment
    async with open_context(site.settings) as cli:
        await PostService(cli).edit(post.slug, PostInput(title="After the edit", body_markdown="New", tags=("x",)))
        await PostService(cli).publish(PostInput(title="Brand new", body_markdown="Hi"))
    # Then every page shows the change on the next request
    for path in ("/", "/posts/edited", "/feed.xml", "/tags/x"):
        text = (await get(site, path)).text
        assert "After the edit" in text and "Before the edit" not in text
    assert "Brand new" in (await get(site, "/")).text


async def test_page_cache__new_comment_shows_at_once(site: LiveSite) -> None:
    post = await publish(site, "Talk", slug="talk")
    assert "0 comments" in (await get(site, "/posts/talk")).text

    await add_comment(site, post, "Fresh remark")

    page = await get(site, "/posts/talk")
    assert "Fresh remark" in page.text and "1 comment" in page.text


async def test_post_page__activitypub_clients_get_the_note(site: LiveSite) -> None:
    await publish(site, "Federated", slug="federated")
    await get(site, "/posts/federated")  # an HTML copy in the page cache must not answer AS2 clients

    page = await get(site, "/posts/federated", headers={"Accept": "application/activity+json"})

    assert page.status == 200
    assert page.headers["Content-Type"].startswith("application/activity+json")
    assert page.headers["Vary"] == "Accept"
    assert "<html" not in page.text


async def test_page_cache__reply_view_is_cached_per_comment_and_never_leaks(site: LiveSite) -> None:
    post = await publish(site, "Reply here", slug="reply-here")
    comment = await add_comment(site, post, "Parent", name="Ana")

    replying = [await get(site, f"/posts/reply-here?replyto={comment.id}") for _ in range(2)]
    public = await get(site, "/posts/reply-here")
    made_up = await get(site, "/posts/reply-here?replyto=987654")

    assert all(
        "Replying to" in page.text and f'name="parent_id" value="{comment.id}"' in page.text for page in replying
    )
    assert "Replying to" not in public.text and 'name="parent_id" value=""' in public.text
    assert "Replying to" not in made_up.text and 'name="parent_id" value=""' in made_up.text
    keys = {key[0] for key in page_cache(site.app).cached_keys()}
    assert keys >= {"/posts/reply-here", f"/posts/reply-here?replyto={comment.id}"}
    assert not any("987654" in key for key in keys)
