"""Webmention on the web side: the endpoint (POST /webmention → 202), its advertisement on post pages (Link
header; the <link> is in templates/blog/post.html), the "Mentions" list of the post page, and the two workers
(verification, sending) tied to the app's life."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from fedblog.config import Settings
from fedblog.models import Post
from fedblog.protocol.addresses import hostname_of
from fedblog.protocol.webmention import InvalidRequest
from fedblog.services.supervision import Loop, supervised
from fedblog.services.webmention_receive import QueueFull, WebmentionVerifier, accept_webmention
from fedblog.services.webmention_send import WebmentionSender, sending_enabled
from fedblog.store.webmentions import WebmentionStore
from fedblog.web.keys import BACKGROUND_KEY, CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.post_page import post_page_extras
from fedblog.web.ratelimit import SharedRateLimiter, client_ip

log = logging.getLogger(__name__)

PER_IP_PER_MINUTE = 30
PER_SOURCE_HOST_PER_MINUTE = 10
MAX_FIELD_CHARS = 2048


def limiters(app: web.Application) -> tuple[SharedRateLimiter, SharedRateLimiter]:
    """By client address and by source host, counted in the database (shared by every process)."""
    state = app[STATE_KEY]
    if state.webmention_limiters is None:
        db = app[CONTEXT_KEY].db
        by_ip = SharedRateLimiter(db, "webmention_ip", PER_IP_PER_MINUTE, 60.0)
        by_host = SharedRateLimiter(db, "webmention_host", PER_SOURCE_HOST_PER_MINUTE, 60.0)
        state.webmention_limiters = (by_ip, by_host)
    return state.webmention_limiters


def verification_enabled(settings: Settings) -> bool:
    """The verification worker runs when any of the protocols that feed its queue is received."""
    return settings.webmention.receive or settings.pingback.receive or settings.trackback.receive


def _plain(status: int, text: str, retry_after: int | None = None) -> web.Response:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return web.Response(status=status, text=text + "\n", content_type="text/plain", headers=headers)


async def receive(request: web.Request) -> web.Response:
    """POST /webmention (form-encoded source, target): checked now, verified later (§3.2)."""
    response = await _receive(request)
    metrics = request.app[STATE_KEY].metrics
    if metrics is not None:
        metrics.webmention_received(response.status)
    return response


async def _receive(request: web.Request) -> web.Response:
    ctx = get_context(request)
    if not ctx.settings.webmention.receive:
        raise web.HTTPNotFound()
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _plain(400, "Send 'source' and 'target' as application/x-www-form-urlencoded.")
    form = await request.post()
    source, target = form.get("source"), form.get("target")
    if not isinstance(source, str) or not isinstance(target, str):
        return _plain(400, "Both 'source' and 'target' are required.")
    if len(source) > MAX_FIELD_CHARS or len(target) > MAX_FIELD_CHARS:
        return _plain(400, "'source' and 'target' must be URLs of at most 2048 characters.")
    by_ip, by_host = limiters(request.app)
    ip = client_ip(request)
    host = hostname_of(source.strip())
    for limiter, key in ((by_ip, ip), (by_host, host)):
        if not await limiter.allow(key):
            return _plain(429, "Too many webmentions; try again later.", await limiter.retry_after(key))
    try:
        await accept_webmention(ctx, source, target, ip)
    except InvalidRequest as error:
        return _plain(400, str(error))
    except QueueFull:
        return _plain(429, "Too many webmentions from this site are waiting; try again later.", 600)
    return _plain(202, "Accepted: the mention will be verified, then moderated.")


async def mentions_extra(request: web.Request, post: Post) -> dict[str, Any]:
    """The post page's "Mentions": approved likes, reposts, bookmarks and plain mentions."""
    return {"mentions": await WebmentionStore(get_context(request).db).list_shown_mentions(post.id)}


async def background_work(app: web.Application) -> AsyncIterator[None]:
    ctx = app[CONTEXT_KEY]
    workers: list[Loop] = []
    if verification_enabled(ctx.settings):
        workers.append(("webmention verification worker", WebmentionVerifier(ctx).run))
    if sending_enabled(ctx):
        workers.append(("webmention sending worker", WebmentionSender(ctx).run))

    async with supervised(*workers):
        yield


def setup(app: web.Application) -> None:
    app.router.add_post("/webmention", receive)
    post_page_extras(app).append(mentions_extra)
    if app[BACKGROUND_KEY]:
        app.cleanup_ctx.append(background_work)
