"""GET /metrics for Prometheus, when `metrics.enabled`: never public by accident. With `metrics.token` set, only a
request bearing it (Authorization: Bearer, compared in constant time); without one, only a client on loopback whose
request came through no proxy (a reverse proxy on the same machine connects from loopback too: a forwarding header
means the client is elsewhere). Otherwise 404 when off, 401 without the token, 403 off loopback."""

from __future__ import annotations

import hmac
import ipaddress

from aiohttp import web

from fedblog.services.metrics import site_metrics_text
from fedblog.web.keys import CONTEXT_KEY, SETTINGS_KEY, STATE_KEY, get_context

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host")


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def refusal(request: web.Request, token: str) -> web.Response | None:
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
            return None
        return web.Response(status=401, text="a bearer token is needed\n", headers={"WWW-Authenticate": "Bearer"})
    if not is_loopback(request.remote) or any(name in request.headers for name in FORWARDING_HEADERS):
        return web.Response(status=403, text="metrics are served to loopback only (or set metrics.token)\n")
    return None


async def metrics(request: web.Request) -> web.Response:
    ctx = get_context(request)
    collected = request.app[STATE_KEY].metrics
    if collected is None:
        raise web.HTTPNotFound()
    refused = refusal(request, ctx.settings.metrics.token)
    if refused is not None:
        return refused
    body = collected.counters_text() + await site_metrics_text(ctx)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics)


def metrics_only_app(site_app: web.Application) -> web.Application:
    """An app with /metrics alone, over a started site app's context and metrics (`fedblog worker`'s port: the
    blog's pages are not served there). The same rules: the token, or loopback without a proxy."""
    app = web.Application()
    app[SETTINGS_KEY] = site_app[SETTINGS_KEY]
    app[CONTEXT_KEY] = site_app[CONTEXT_KEY]
    app[STATE_KEY] = site_app[STATE_KEY]
    setup(app)
    return app
