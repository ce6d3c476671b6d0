"""The one middleware: better answers than 404 where a module has one, error pages in the site language, security
headers on every answer."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from fedblog.logs import new_request_id, request_id
from fedblog.store.db import DatabaseTimedOut, DatabaseUnreachable, StorageUnavailable
from fedblog.web.keys import STATE_KEY, get_context
from fedblog.web.render import render_html

log = logging.getLogger(__name__)

CSP = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' https:"
)


# Answers a module can give instead of a plain 404 (a deleted post's id answers 410 with a Tombstone).
NotFoundAnswer = Callable[[web.Request], Awaitable[web.StreamResponse | None]]
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
HTML_SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY"}
ADMIN_PREFIX = "/admin"
# Peers retry a 503 after Retry-After: long enough for an operator to free space, short enough to lose nothing.
STORAGE_RETRY_AFTER_SECONDS = 120


def not_found_answers(app: web.Application) -> list[NotFoundAnswer]:
    return app[STATE_KEY].not_found_answers


@web.middleware
async def site_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """What every answer needs, in one middleware (each is a coroutine layer on every request, and the cached
    read path is a few dozen microseconds): a better answer than 404 where a module has one, error pages in the
    site language, security headers, and no caching of admin answers. It counts the requests under way, which
    a stopping process waits for (cli/site.py)."""
    state = request.app[STATE_KEY]
    state.requests_in_flight += 1
    # Each request is a task of its own: the id is seen by its log lines only (fedblog/logs.py).
    request_id.set(new_request_id(request.headers.get("X-Request-Id")))
    started = time.perf_counter() if state.metrics is not None else 0.0
    status = 500
    try:
        response = await _answer(request, handler)
        status = response.status
    except web.HTTPException as error:  # answered as it is: redirects, errors for non-browsers
        status = error.status
        finish(request, error)
        raise
    finally:
        state.requests_in_flight -= 1
        if state.metrics is not None:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            state.metrics.request_done(route, request.method, status, time.perf_counter() - started)
    finish(request, response)
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        try:
            return await handler(request)
        except web.HTTPNotFound as error:
            return await _better_than_404(request) or error_page(request, error)
    except web.HTTPException as error:
        return error_page(request, error)
    except StorageUnavailable as error:
        return storage_unavailable(request, error)
    except Exception:  # from the handler, or from a 404 hook (a database error looking for a Tombstone)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_html(request, "errors/error.html", status=500, error=web.HTTPInternalServerError())


def storage_unavailable(request: web.Request, error: StorageUnavailable, kept_text: str = "") -> web.Response:
    """A write the disk refused: 503 with Retry-After (peers retry, nothing is lost), one log line, no traceback."""
    unreachable = isinstance(error, DatabaseUnreachable)  # down, or too slow to answer (DatabaseTimedOut)
    kind = "database too slow" if isinstance(error, DatabaseTimedOut) else "database unreachable"
    log.warning("%s %s: %s: %s", request.method, request.path, kind if unreachable else "write refused", error)
    if wants_html(request) and "json" not in request.content_type:  # a peer POSTing JSON gets JSON
        i18n = get_context(request).i18n
        if unreachable:
            message = i18n.gettext("The blog cannot reach its database right now. Please try again in a moment.")
        else:
            message = i18n.gettext(
                "The blog cannot save anything right now (its storage is full or read-only). Please try again later."
            )
        response = render_html(
            request,
            "errors/error.html",
            status=503,
            error=web.HTTPServiceUnavailable(),
            message=message,
            kept_text=kept_text,  # what a visitor wrote, shown back when nothing could be saved
        )
    else:
        response = web.json_response({"error": f"storage unavailable: {error}"}, status=503)
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return response


def finish(request: web.Request, response: web.StreamResponse) -> None:
    add_security_headers(response)
    if is_private_admin_path(request.path):
        response.headers["Cache-Control"] = "no-store"  # admin pages, redirects and errors are private


def is_private_admin_path(path: str) -> bool:
    if not path.startswith(ADMIN_PREFIX) or path.endswith(".css"):
        return False
    return path == ADMIN_PREFIX or path[len(ADMIN_PREFIX)] == "/"


async def _better_than_404(request: web.Request) -> web.StreamResponse | None:
    for answer in request.app[STATE_KEY].not_found_answers:
        response = await answer(request)
        if response is not None:
            return response
    return None


def error_page(request: web.Request, error: web.HTTPException) -> web.StreamResponse:
    """The error as a page in the site language for browsers; raised again as it is otherwise (redirects, JSON)."""
    if error.status >= 400 and error.content_type == "text/plain" and wants_html(request):
        return render_html(request, "errors/error.html", status=error.status, error=error)
    raise error


def add_security_headers(response: web.StreamResponse) -> None:
    headers = response.headers
    if "X-Content-Type-Options" in headers:
        return  # a cached page carries its security headers already
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)  # a page may ask for stricter (a draft's preview: no referrer at all)
    if headers.get("Content-Type", "").startswith("text/html"):
        for name, value in HTML_SECURITY_HEADERS.items():
            headers.setdefault(name, value)


def wants_html(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return "json" not in accept or "text/html" in accept
