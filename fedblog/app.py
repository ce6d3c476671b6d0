"""create_app(settings): every resource made and closed in one place, no global state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from fedblog.config import Settings
from fedblog.context import open_context
from fedblog.web import routes
from fedblog.web.keys import CONTEXT_KEY, JINJA_KEY, SETTINGS_KEY, STATE_KEY
from fedblog.web.middleware import site_middleware
from fedblog.web.render import create_environment, site_globals

# Inbound bodies above this are refused with 413 (Mastodon's MAX_JSON_SIZE).
MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[site_middleware], client_max_size=MAX_BODY_BYTES)
    app[SETTINGS_KEY] = settings
    state: dict[str, Any] = {}
    app[STATE_KEY] = state

    async def context_lifetime(app: web.Application) -> AsyncIterator[None]:
        async with open_context(settings) as ctx:
            app[CONTEXT_KEY] = ctx
            app[JINJA_KEY] = create_environment(ctx.i18n, site_globals(app))
            yield

    app.cleanup_ctx.append(context_lifetime)
    routes.setup(app)
    return app
