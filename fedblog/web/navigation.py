"""The site navigation's pages (published pages with in_menu, in menu order), shown by base.html on every page.

Read again only when the database changed (its data_version, as the page cache keys on), so a page served from
the cache costs nothing more and one saved from the CLI shows up on the next rendered page.
"""

from __future__ import annotations

from aiohttp import web

from fedblog.web.keys import STATE_KEY, get_context


async def refresh_navigation(request: web.Request) -> None:
    ctx = get_context(request)
    state = request.app[STATE_KEY]
    version = await ctx.db.data_version()
    if state.navigation_version != version:
        state.navigation_pages = [(title, ctx.urls.page(slug)) for slug, title in await ctx.posts.list_menu_pages()]
        state.navigation_version = version


def navigation_pages(app: web.Application) -> list[tuple[str, str]]:
    """(title, URL) of the pages linked from the navigation, as last read."""
    return app[STATE_KEY].navigation_pages
