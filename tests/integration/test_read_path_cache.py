"""The read path stays cached under load: concurrent misses render a page once, and commits that change
nothing (the delivery worker's idle polls) do not throw cached pages away. Found by the read-path benchmark."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fedblog import heap
from fedblog.models import CommentOrigin, CommentStatus
from fedblog.services.posts import PostInput, PostService
from fedblog.store.comments import NewComment
from fedblog.web import blog
from fedblog.web.keys import STATE_KEY
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import add_comment, get, new_session, publish


@pytest.fixture
def counted_renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every post-page render, slowed a little so that concurrent requests really overlap."""
    renders: list[str] = []
    original = blog.render_post_page

    async def counting(request: Any, post: Any, **kwargs: Any) -> Any:
        renders.append(post.slug)
        await asyncio.sleep(0.05)
        return await original(request, post, **kwargs)

    monkeypatch.setattr(blog, "render_post_page", counting)
    return renders


async def test_page_cache__concurrent_misses_render_the_page_once(site: LiveSite, counted_renders: list[str]) -> None:
    # Given a post with a comment, not yet in the cache
    post = await publish(site, "Everybody reads this", slug="popular")
    await add_comment(site, post, "First!")
    counted_renders.clear()
    # When 20 readers ask for it at the same moment
    async with new_session() as session:
        pages = await asyncio.gather(*(get(site, "/posts/popular", session) for _ in range(20)))
    # Then every reader gets the full page, and it was rendered once
    assert [page.status for page in pages] == [200] * 20
    assert all("Everybody reads this" in page.text and "First!" in page.text for page in pages)
    assert counted_renders == ["popular"]


async def test_database_transaction__without_changes_keeps_cached_pages(
    site: LiveSite, counted_renders: list[str]
) -> None:
    # Given a cached post page
    await publish(site, "Cached", slug="cached")
    assert (await get(site, "/posts/cached")).status == 200
    rendered = len(counted_renders)
    # When a transaction commits without changing anything (as an idle delivery worker's poll does)
    async with site.ctx.db.transaction() as conn:
        await conn.execute("SELECT 1")
    # Then the page is served from the cache, and a real change still shows at once
    assert (await get(site, "/posts/cached")).status == 200
    assert len(counted_renders) == rendered
    post = await site.ctx.posts.get_post_by_slug("cached")
    assert post is not None
    await add_comment(site, post, "A new comment")
    page = await get(site, "/posts/cached")
    assert "A new comment" in page.text
    assert len(counted_renders) == rendered + 1


async def test_note__cached_and_an_edit_shows_at_once(site: LiveSite) -> None:
    # Given a published post whose Note a server has fetched (and the cache now holds)
    await publish(site, "First title", slug="noted")
    as2 = {"Accept": "application/activity+json"}
    first = await get(site, "/posts/noted", headers=as2)
    assert first.status == 200 and "First title" in first.text
    assert first.headers["Content-Type"].startswith("application/activity+json")
    assert "Accept" in first.headers["Vary"]
    # When the author edits it
    await PostService(site.ctx).edit("noted", PostInput(title="Second title", body_markdown="New body."))
    # Then the next fetch gets the edited Note, and browsers still get the page
    second = await get(site, "/posts/noted", headers=as2)
    assert "Second title" in second.text and "First title" not in second.text
    page = await get(site, "/posts/noted", headers={"Accept": "text/html"})
    assert page.headers["Content-Type"].startswith("text/html") and "Second title" in page.text


class Undone(Exception):
    pass


async def test_page_cache__a_page_read_during_a_rolled_back_write_never_shows_it(site: LiveSite) -> None:
    # Given a post with one comment
    post = await publish(site, "Careful", slug="careful")
    first = await add_comment(site, post, "A real comment")
    # When a write that fails half-way is open while a reader fetches the page
    with pytest.raises(Undone):
        async with site.ctx.db.transaction() as conn:
            await site.ctx.comments.insert_comment(
                conn,
                NewComment(
                    post_id=post.id,
                    parent_id=None,
                    author_id=first.author.id,
                    origin=CommentOrigin.WEB,
                    status=CommentStatus.APPROVED,
                    content_html="<p>A phantom comment</p>",
                ),
            )
            during = await get(site, "/posts/careful")
            raise Undone()
    # Then the reader saw committed rows only (its own connection), and once rolled back nobody sees the comment
    after = await get(site, "/posts/careful")
    assert "A phantom comment" not in during.text and "A real comment" in during.text
    assert "A phantom comment" not in after.text and "A real comment" in after.text


async def test_cache_budgets__an_operator_can_turn_the_caches_off(site_factory: SiteFactory) -> None:
    # Given a site whose operator gives the rendered pages and comments no memory (server.page_cache_mb and
    # server.comment_cache_mb at 0), and a post with a comment
    site = await site_factory(overrides={"server": {"page_cache_mb": 0, "comment_cache_mb": 0}})
    post = await publish(site, "Read twice", slug="twice")
    await add_comment(site, post, "Shown both times")
    # When the page is read twice
    pages = [await get(site, "/posts/twice") for _ in range(2)]
    # Then both readers get the whole page, and nothing is kept for the next one
    assert all(page.status == 200 and "Shown both times" in page.text for page in pages)
    state = site.app[STATE_KEY]
    assert state.page_cache is not None and len(state.page_cache) == 0
    assert state.comment_fragments is not None and len(state.comment_fragments) == 0


async def test_page_renders__a_burst_of_them_hands_freed_memory_back_once_quiet(
    site: LiveSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a post page, and renders adding up to twice its size being a burst (a quick quiet time)
    trims: list[int] = []
    monkeypatch.setattr(heap, "release_freed_memory", lambda: trims.append(1))
    post = await publish(site, "Read often", slug="often")
    await add_comment(site, post, "First!")
    first = await get(site, "/posts/often")
    monkeypatch.setattr(heap, "RENDERED_BURST_BYTES", 2 * len(first.text.encode()))
    site.ctx.runtime.heap = heap.HeapTender(idle_seconds=0.05)
    # When it is read from the cache, then rendered again after a change: not yet a burst
    for _ in range(5):
        assert (await get(site, "/posts/often")).status == 200
    await add_comment(site, post, "Second!")
    assert "Second!" in (await get(site, "/posts/often")).text
    await asyncio.sleep(0.2)
    assert trims == []
    # Then a second render after another change makes the burst: the freed memory goes back once it is quiet
    await add_comment(site, post, "Third!")
    assert "Third!" in (await get(site, "/posts/often")).text
    await asyncio.sleep(0.2)
    assert trims == [1]
