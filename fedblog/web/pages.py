"""Pages at /SLUG/ and categories: /category/SLUG/ (its posts and its subcategories') and its Atom feed."""

from __future__ import annotations

from aiohttp import web

from fedblog.clock import utcnow
from fedblog.rendering import excerpt
from fedblog.store.categories import CategoryStore
from fedblog.web import blog
from fedblog.web.feed import ATOM_CONTENT_TYPE, FEED_SIZE
from fedblog.web.keys import get_context
from fedblog.web.page_cache import cached
from fedblog.web.render import render_html, render_string

SLUG = r"{slug:[a-z0-9][a-z0-9-]*}"


async def category_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    store = CategoryStore(ctx.db)
    page = blog.page_number(request)
    per_page = ctx.settings.site.posts_per_page

    async def build() -> web.Response:
        category = await store.get_by_slug(request.match_info["slug"])
        if category is None:
            raise web.HTTPNotFound()
        total = await store.count_posts(category.id)
        pages = blog.page_count(total, per_page)
        if page > pages:
            raise web.HTTPNotFound()
        posts = await store.list_posts(category.id, per_page, (page - 1) * per_page)
        pagination = blog.Pagination(page, pages, lambda number: ctx.urls.category_page(category.slug, number))
        return render_html(
            request,
            "blog/category.html",
            category=category,
            total=total,
            posts=posts,
            pagination=pagination,
            excerpt=excerpt,
        )

    return await blog.serve_public(request, f"{request.path}?page={page}", build)


async def category_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)
    store = CategoryStore(ctx.db)

    async def build() -> web.Response:
        category = await store.get_by_slug(request.match_info["slug"])
        if category is None:
            raise web.HTTPNotFound()
        posts = await store.list_posts(category.id, FEED_SIZE)
        updated = max((post.updated_at or post.published_at for post in posts), default=utcnow())
        body = render_string(
            request.app,
            "feeds/atom.xml",
            posts=posts,
            updated=updated,
            excerpt=excerpt,
            feed_url=ctx.urls.category_feed(category.slug),
            feed_home=ctx.urls.category(category.slug),
            feed_title=f"{ctx.settings.site.title} · {category.name}",
        )
        return web.Response(text=body, content_type=ATOM_CONTENT_TYPE, charset="utf-8")

    return await cached(request, request.path, build, lambda: "")


def setup(app: web.Application) -> None:
    app.router.add_get(f"/category/{SLUG}/", category_page, name="category")
    app.router.add_get(f"/category/{SLUG}/feed.xml", category_feed, name="category_feed")


def setup_pages(app: web.Application) -> None:
    """Registered last: /SLUG/ must not shadow any fixed route."""
    app.router.add_get(f"/{SLUG}/", blog.post_page, name="page")
