"""Old links keep working: a WordPress URL shape answers 301 to where its content lives now (services/old_links.py);
anything else keeps the normal 404."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from fedblog.services.old_links import WORDPRESS_QUERY_KEYS, OldLinkResolver
from fedblog.web.keys import get_context
from fedblog.web.middleware import not_found_answers


async def old_link_answer(request: web.Request) -> web.StreamResponse | None:
    """The 404 hook: a 301 to the new URL when the path was one of the old site's."""
    if request.method not in ("GET", "HEAD"):
        return None
    location = await OldLinkResolver(get_context(request)).resolve(request.path, request.query)
    if location is None or urlsplit(location).path == request.path:
        return None  # the same page: no redirect loop
    return web.Response(status=301, headers={"Location": location})


def has_wordpress_query(request: web.Request) -> bool:
    """The home page asked with ?p=, ?page_id=, ?feed=…: an old WordPress link, not the home page."""
    return request.path == "/" and not WORDPRESS_QUERY_KEYS.isdisjoint(request.query)


def setup(app: web.Application) -> None:
    not_found_answers(app).append(old_link_answer)
