"""The public pages: home, post, tags, archive (the feed is in web/feed.py). Public GETs go through the page cache."""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from aiohttp import web

from fedblog.models import CommentStatus, Post
from fedblog.rendering import excerpt
from fedblog.web import activitypub, feed
from fedblog.web.dashboard_stats import count_view
from fedblog.web.keys import get_context
from fedblog.web.negotiation import wants_activity_json
from fedblog.web.old_links import has_wordpress_query
from fedblog.web.page_cache import cached, personalize
from fedblog.web.post_page import FormState, csrf_token_factory, render_post_page
from fedblog.web.render import render_html
from fedblog.web.visitor_cookies import DETAILS_COOKIE, OWN_COOKIE, PersonalView, personal_view


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    url: Callable[[int], str]

    @property
    def newer_url(self) -> str | None:
        return self.url(self.page - 1) if self.page > 1 else None

    @property
    def older_url(self) -> str | None:
        return self.url(self.page + 1) if self.page < self.pages else None


def page_number(request: web.Request) -> int:
    """?page=N, N >= 1; anything else is a page that does not exist."""
    text = request.query.get("page", "1")
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise web.HTTPNotFound()
    return int(text)


def page_count(total: int, per_page: int) -> int:
    return max(1, math.ceil(total / per_page))


async def serve_public(request: web.Request, key: str, build: Callable[[], Awaitable[web.Response]]) -> web.Response:
    return await cached(request, key, build, csrf_token_factory(request.app))


async def home(request: web.Request) -> web.Response:
    if has_wordpress_query(request):
        raise web.HTTPNotFound()  # an old link (/?p=12): the 404 hook redirects it (web/old_links.py)
    ctx = get_context(request)
    page = page_number(request)
    per_page = ctx.settings.site.posts_per_page

    async def build() -> web.Response:
        pages = page_count(await ctx.posts.count_published(), per_page)
        if page > pages:
            raise web.HTTPNotFound()
        posts = await ctx.posts.list_published(per_page, (page - 1) * per_page)
        pagination = Pagination(page, pages, ctx.urls.home)
        return render_html(request, "blog/index.html", posts=posts, pagination=pagination, page=page, excerpt=excerpt)

    return await serve_public(request, f"/?page={page}", build)


async def tag_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    tag = request.match_info["tag"]
    page = page_number(request)
    per_page = ctx.settings.site.posts_per_page

    async def build() -> web.Response:
        total = await ctx.posts.count_by_tag(tag)
        pages = page_count(total, per_page)
        if total == 0 or page > pages:
            raise web.HTTPNotFound()
        posts = await ctx.posts.list_by_tag(tag, per_page, (page - 1) * per_page)
        pagination = Pagination(page, pages, lambda number: ctx.urls.tag_page(tag, number))
        return render_html(
            request, "blog/tag.html", tag=tag, total=total, posts=posts, pagination=pagination, excerpt=excerpt
        )

    return await serve_public(request, f"{request.path}?page={page}", build)


async def archive_index(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def build() -> web.Response:
        months = [
            (datetime(year, month, 1, tzinfo=UTC), ctx.urls.archive(year, month), count)
            for year, month, count in await ctx.posts.list_months()
        ]
        return render_html(request, "blog/archive.html", months=months, tags=await ctx.posts.list_tags())

    return await serve_public(request, "/archive", build)


async def archive_month(request: web.Request) -> web.Response:
    ctx = get_context(request)
    year, month = int(request.match_info["year"]), int(request.match_info["month"])
    if not 1 <= month <= 12:
        raise web.HTTPNotFound()

    async def build() -> web.Response:
        posts = await ctx.posts.list_by_month(year, month)
        if not posts:
            raise web.HTTPNotFound()
        month_start = datetime(year, month, 1, tzinfo=UTC)
        return render_html(request, "blog/month.html", month=month_start, posts=posts, excerpt=excerpt)

    return await serve_public(request, f"/archive/{year:04d}/{month:02d}", build)


async def load_post(request: web.Request) -> Post:
    """The post of /posts/SLUG, or the page of /SLUG/; a page asked at /posts/SLUG moves to its own URL."""
    ctx = get_context(request)
    post = await ctx.posts.get_post_by_slug(request.match_info["slug"])
    if post is None:
        raise web.HTTPNotFound()
    asked_for_page = is_page_route(request)
    if post.is_page and not asked_for_page:
        query = f"?{request.query_string}" if request.query_string else ""
        raise web.HTTPMovedPermanently(ctx.urls.page(post.slug) + query)
    if asked_for_page and not post.is_page:
        raise web.HTTPNotFound()  # /SLUG/ of a post: an old link, redirected by the 404 hook
    return post


def is_page_route(request: web.Request) -> bool:
    return request.match_info.route.name == "page"


async def post_page(request: web.Request) -> web.StreamResponse:
    if wants_activity_json(request) and not is_page_route(request):
        note = await activitypub.note_response(request, request.match_info["slug"], partial(load_post, request))
        if not note.prepared:
            note.headers["Vary"] = "Accept"
        return note
    slug = request.match_info["slug"]
    reply_to_id = await reply_target(request, request.query.get("replyto", ""))
    if OWN_COOKIE in request.cookies or DETAILS_COOKIE in request.cookies:
        post = await load_post(request)
        view = await personal_view(request, post)
        if view is not None:
            return await personal_page(request, post, view, reply_to_id)
    # Anything else is the same for every visitor, so it is served from the cache: a ?held= without its cookie
    # is the public page, and a ?replyto=<id> page is cached per comment (a crawler following every "Reply"
    # link, or a flood of them, costs one render per comment, not one per request).

    async def build() -> web.Response:
        return await render_post_page(request, await load_post(request), reply_to_id=reply_to_id)

    path = request.path
    key = path if reply_to_id is None else f"{path}?replyto={reply_to_id}"
    if get_context(request).settings.comments.close_after_days:
        # Comments close with time, not with a commit: cached copies are renewed hourly (the form may show up to
        # an hour after closing; a comment sent then is refused on time, see web/comments.py).
        key += f"#hour{int(time.time() // 3600)}"
    response = await serve_public(request, key, build)
    count_view(request, slug, response.status)
    return response


async def reply_target(request: web.Request, reply_text: str) -> int | None:
    """The id of ?replyto when it names a published comment of this post; None (the plain page) otherwise,
    so that made-up ids cannot fill the cache."""
    if not reply_text.isdigit() or len(reply_text) > 18:
        return None
    comment = await get_context(request).comments.get_comment(int(reply_text))
    if comment is None or comment.status != CommentStatus.APPROVED:
        return None
    post = await load_post(request)
    return comment.id if comment.post_id == post.id else None


async def personal_page(request: web.Request, post: Post, view: PersonalView, reply_to_id: int | None) -> web.Response:
    """The page as this browser sees it (its held comments, its edit links, its saved details): rendered every time,
    private to it."""
    form = FormState(values=view.form_values, remember=view.remember)
    response = await render_post_page(
        request, post, form=form, reply_to_id=reply_to_id, held=view.held, editable=view.editable
    )
    response.headers["Cache-Control"] = "private, no-store"
    return personalize(response, csrf_token_factory(request.app))


def setup(app: web.Application) -> None:
    app.router.add_get("/", home, name="home")
    app.router.add_get("/posts/{slug}", post_page, name="post")
    app.router.add_get("/tags/{tag}", tag_page, name="tag")
    app.router.add_get("/archive", archive_index, name="archive")
    app.router.add_get(r"/archive/{year:\d{4}}/{month:\d{2}}", archive_month, name="archive_month")
    # Pages at /SLUG/ (WordPress's shape). Tried after every other route (see routes.py): a fixed path wins.
    feed.setup(app)
