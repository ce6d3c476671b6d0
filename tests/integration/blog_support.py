"""Helpers for the blog page tests: publish through the real services, fetch pages over real HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy

from fedblog.models import Comment, Post
from fedblog.services.comments import CommentForm, CommentService
from fedblog.services.posts import PostInput, PostService
from fedblog.store.webmentions import WebmentionStore
from tests.conftest import LiveSite
from tests.helpers import eventually

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Page:
    status: int
    text: str
    headers: CIMultiDictProxy[str]


async def publish(
    site: LiveSite,
    title: str,
    body: str = "Some **text**.",
    tags: tuple[str, ...] = (),
    date: datetime | None = None,
    draft: bool = False,
    slug: str = "",
) -> Post:
    data = PostInput(title=title, body_markdown=body, tags=tags, published_at=date, draft=draft, slug=slug)
    return await PostService(site.ctx).publish(data)


async def add_comment(
    site: LiveSite,
    post: Post,
    message: str,
    name: str = "Camille",
    email: str = "camille@example.org",
    website: str = "",
    parent: Comment | None = None,
    approve: bool = True,
) -> Comment:
    service = CommentService(site.ctx)
    form = CommentForm(
        name=name, email=email, website=website, message=message, parent_id=str(parent.id) if parent else ""
    )
    result = await service.submit_web_comment(post, form, ip=None)
    assert result.comment is not None, result.errors
    if approve and result.held:
        return await service.approve(result.comment.id)
    return result.comment


def new_session() -> aiohttp.ClientSession:
    # unsafe=True: keep cookies set by 127.0.0.1 (the default jar ignores IP hosts).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def get(site: LiveSite, path: str, session: aiohttp.ClientSession | None = None, **kwargs: Any) -> Page:
    own = session is None
    session = session or new_session()
    try:
        async with session.get(site.url + path, allow_redirects=False, **kwargs) as response:
            return Page(response.status, await response.text(), response.headers)
    finally:
        if own:
            await session.close()


async def post_form(site: LiveSite, path: str, data: Any, session: aiohttp.ClientSession, **kwargs: Any) -> Page:
    async with session.post(site.url + path, data=data, allow_redirects=False, **kwargs) as response:
        return Page(response.status, await response.text(), response.headers)


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no comment form token"
    return match.group(1)


async def submit_comment(
    site: LiveSite, slug: str, session: aiohttp.ClientSession, query: str = "", **fields: str
) -> Page:
    """Load the post page like a browser, then send its form with the given fields."""
    page = await get(site, f"/posts/{slug}{query}", session)
    data = {"name": "", "email": "", "website": "", "message": "", "parent_id": "", "nickname": ""}
    data["csrf_token"] = csrf_token(page.text)
    data.update(fields)
    return await post_form(site, f"/posts/{slug}/comments", data, session)


def field_block(html: str, name: str) -> str:
    """The <p class="field …"> wrapping one form field (label, input, hint and error)."""
    match = re.search(r'<p class="field[^"]*">\s*<label for="comment-' + name + r'">.*?</p>', html, flags=re.DOTALL)
    assert match, f"no field {name!r} in the form"
    return match.group(0)


async def close_comments(site: LiveSite, slug: str) -> None:
    """The author closes a post's comments (its edit form's box)."""
    post = await site.ctx.posts.get_post_by_slug(slug)
    assert post is not None
    await PostService(site.ctx).edit(
        slug, PostInput(title=post.title, body_markdown=post.body_markdown, comments_open=False)
    )


# --- webmentions and pingbacks ---------------------------------------------------------------------------------


async def verified(site: LiveSite, source: str, target: str, state: str = "verified") -> tuple[str, int | None]:
    store = WebmentionStore(site.ctx.db)

    async def done() -> tuple[str, int | None] | None:
        found = await store.received_state(source, target)
        return found if found is not None and found[0] == state else None

    return await eventually(done, "the webmention verified")


async def post_page(site: LiveSite, post: Post) -> str:
    page = await get(site, f"/posts/{post.slug}")
    assert page.status == 200
    return page.text


def thread_html(page: str) -> str:
    match = re.search(r'<ol class="comment-list">.*?</section>', page, re.S)
    return match.group(0) if match else ""
