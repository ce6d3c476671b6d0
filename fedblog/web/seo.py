"""What search engines read: /sitemap.xml (every public page worth indexing) and /robots.txt (which points at it
and keeps crawlers out of the admin and of search results, whose key space has no end)."""

from __future__ import annotations

from aiohttp import web

from fedblog.store.sitemap import list_published_post_dates
from fedblog.web.keys import get_context
from fedblog.web.page_cache import cached
from fedblog.web.render import render_string

# The sitemap protocol's limit for one file; past it a sitemap index would be needed.
MAX_SITEMAP_POSTS = 49_000


async def sitemap(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def build() -> web.Response:
        posts = [
            (ctx.urls.post_or_page(slug, is_page), lastmod)
            for slug, lastmod, is_page in (await list_published_post_dates(ctx.db))[:MAX_SITEMAP_POSTS]
        ]
        body = render_string(
            request.app,
            "feeds/sitemap.xml",
            posts=posts,
            home_lastmod=max((lastmod for _, lastmod in posts), default=None),
            tags=await ctx.posts.list_tags(),
            months=await ctx.posts.list_months(),
        )
        return web.Response(text=body, content_type="application/xml", charset="utf-8")

    return await cached(request, "/sitemap.xml", build, lambda: "")


def robots_text(sitemap_url: str) -> str:
    return f"User-agent: *\nDisallow: /admin\nDisallow: /search\n\nSitemap: {sitemap_url}\n"


async def robots(request: web.Request) -> web.Response:
    return web.Response(text=robots_text(get_context(request).urls.sitemap()), content_type="text/plain")


def setup(app: web.Application) -> None:
    app.router.add_get("/sitemap.xml", sitemap, name="sitemap")
    app.router.add_get("/robots.txt", robots, name="robots")
