"""The Atom feed of the latest posts (/feed.xml), linked from every page with rel=alternate."""

from __future__ import annotations

from aiohttp import web

from fedblog.clock import utcnow
from fedblog.rendering import excerpt
from fedblog.web.keys import get_context
from fedblog.web.page_cache import cached
from fedblog.web.render import render_string

FEED_SIZE = 20
ATOM_CONTENT_TYPE = "application/atom+xml"


async def atom_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def build() -> web.Response:
        posts = await ctx.posts.list_published(FEED_SIZE)
        updated = max((post.updated_at or post.published_at for post in posts), default=utcnow())
        body = render_string(request.app, "feeds/atom.xml", posts=posts, updated=updated, excerpt=excerpt)
        return web.Response(text=body, content_type=ATOM_CONTENT_TYPE, charset="utf-8")

    return await cached(request, "/feed.xml", build, lambda: "")


def setup(app: web.Application) -> None:
    app.router.add_get("/feed.xml", atom_feed, name="feed")
