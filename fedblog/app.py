"""create_app(settings): every resource made and closed in one place, no global state."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

from aiohttp import web

from fedblog.assembly import open_context
from fedblog.config import Settings
from fedblog.web import routes
from fedblog.web.keys import BACKGROUND_KEY, CONTEXT_KEY, JINJA_KEY, SETTINGS_KEY, STATE_KEY, WebState
from fedblog.web.middleware import site_middleware
from fedblog.web.render import create_environment, site_globals
from fedblog.web.server_log import server_handler_args

# Inbound bodies above this are refused with 413 (Mastodon's MAX_JSON_SIZE).
MAX_BODY_BYTES = 1024 * 1024


def settle_garbage_collector() -> None:
    """For a server process, once its app is started (`fedblog serve`; not in tests, which make many apps in one
    process). Measured in the stampede (1,000 connections; gc.callbacks in the server): with CPython's thresholds
    the collector took 1.47 s for 252,000 requests, ~6 µs each, and it is the young collections that cost
    (freezing alone: 1.61 s; rare full collections alone: 1.33 s). A first threshold of 10,000 lets the objects of
    a request die before a collection sees them: 0.03 s. What exists at start lives as long as the process and
    is frozen, so the rarer full collections do not walk it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    gc.enable()  # `fedblog serve` imports the server with the collector off (cli/site.py serve_on)


def create_app(settings: Settings, background: bool = True) -> web.Application:
    """The site; with `background=False` it only serves (the background work runs in `fedblog worker`)."""
    app = web.Application(
        middlewares=[site_middleware], client_max_size=MAX_BODY_BYTES, handler_args=server_handler_args()
    )
    app[SETTINGS_KEY] = settings
    app[BACKGROUND_KEY] = background
    app[STATE_KEY] = WebState()

    async def context_lifetime(app: web.Application) -> AsyncIterator[None]:
        async with open_context(settings) as ctx:
            if settings.metrics.enabled:
                from fedblog.services.metrics import Metrics  # prometheus-client: only where metrics are on

                ctx.runtime.metrics = app[STATE_KEY].metrics = Metrics()
            app[CONTEXT_KEY] = ctx
            app[JINJA_KEY] = create_environment(ctx.i18n, site_globals(app))
            yield

    app.cleanup_ctx.append(context_lifetime)
    routes.setup(app)
    return app
