"""Typed keys for what the app holds: one owner, one lifetime (see app.create_app)."""

from __future__ import annotations

from typing import Any

import jinja2
from aiohttp import web

from fedblog.config import Settings
from fedblog.context import Context

SETTINGS_KEY = web.AppKey("settings", Settings)
CONTEXT_KEY = web.AppKey("context", Context)
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)
STATE_KEY = web.AppKey("state", dict[str, Any])  # per-app mutable state (rate limiters, caches)


def get_context(request: web.Request) -> Context:
    return request.app[CONTEXT_KEY]
