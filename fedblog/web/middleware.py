"""Security headers on every answer, and error pages in the site language."""

from __future__ import annotations

import logging

from aiohttp import web

from fedblog.web.render import render_html

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https:"
)


@web.middleware
async def security_headers(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "json" not in accept or "text/html" in accept


@web.middleware
async def error_pages(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status >= 400 and error.content_type == "text/plain" and wants_html(request):
            return render_html(request, "errors/error.html", status=error.status, error=error)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_html(request, "errors/error.html", status=500, error=web.HTTPInternalServerError())
