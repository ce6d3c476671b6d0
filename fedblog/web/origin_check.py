"""The Origin check of the site's own forms (login, comments): a form posted from another site is refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from fedblog.web.keys import get_context


def posted_from_this_site(request: web.Request) -> bool:
    """Browsers send Origin on POST; when present it must be this site ('null', a sandboxed or privacy-hidden
    origin, is not). Without the header, the CSRF token alone decides."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    base = urlsplit(get_context(request).urls.base)
    return origin.rstrip("/") == f"{base.scheme}://{base.netloc}"
