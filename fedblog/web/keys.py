"""Typed keys for what the app holds: one owner, one lifetime (see app.create_app)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web

from fedblog.config import Settings
from fedblog.context import Context

if TYPE_CHECKING:  # the owners below import this module: their types only, no cycle at run time
    from fedblog.services.dashboard import ViewCounter
    from fedblog.services.metrics import Metrics
    from fedblog.web.comment_fragments import FragmentCache
    from fedblog.web.middleware import NotFoundAnswer
    from fedblog.web.page_cache import PageCache
    from fedblog.web.post_page import PostPageExtra
    from fedblog.web.ratelimit import SharedRateLimiter


@dataclass
class WebState:
    """What the web layer keeps for one app. Each field is made on first use by the module named beside it."""

    page_cache: PageCache | None = None  # web/page_cache.py
    comment_fragments: FragmentCache | None = None  # web/comment_fragments.py: rendered comments of post pages
    view_counter: ViewCounter | None = None  # web/dashboard_stats.py: post views, written once a minute
    visitor_secret: bytes | None = None  # web/post_page.py: CSRF tokens and the held-comment cookie
    # Hooks: the post page's extra template values (reactions, mentions), better answers than a 404 (tombstones).
    post_page_extras: list[PostPageExtra] = field(default_factory=list)  # web/post_page.py
    not_found_answers: list[NotFoundAnswer] = field(default_factory=list)  # web/middleware.py
    # Rate limiters.
    login_limiter: SharedRateLimiter | None = None  # web/admin.py (counted in the database)
    comment_limiter: SharedRateLimiter | None = None  # web/comments.py (counted in the database)
    search_limiter: SharedRateLimiter | None = None  # web/search.py (counted in the database)
    interaction_limiter: SharedRateLimiter | None = None  # web/interaction.py (counted in the database)
    # web/webmention.py, by IP and by source host (counted in the database; pingback and trackback share them)
    webmention_limiters: tuple[SharedRateLimiter, SharedRateLimiter] | None = None
    # web/visitor_cookies.py: the clock of the edit window (tests put their own), utcnow when None.
    visitor_clock: Callable[[], datetime] | None = None
    # web/faces.py: commenters' icons being fetched, by author id.
    face_fetches: dict[int, asyncio.Task[int]] = field(default_factory=dict)
    # web/navigation.py: (title, URL) of the pages in the site navigation, and the database version they were read at.
    navigation_pages: list[tuple[str, str]] = field(default_factory=list)
    navigation_version: int | None = None
    # web/worker.py: None where this process runs no background work, else whether it is running (web/health.py).
    background_running: bool | None = None
    # web/middleware.py: requests whose handler has not returned (a stopping process waits for them, cli/site.py).
    requests_in_flight: int = 0
    # app.py: the Prometheus metrics when metrics.enabled (the context's, services/metrics.py), else None.
    metrics: Metrics | None = None


SETTINGS_KEY = web.AppKey("settings", Settings)
CONTEXT_KEY = web.AppKey("context", Context)
JINJA_KEY = web.AppKey("jinja", jinja2.Environment)
STATE_KEY = web.AppKey("state", WebState)
# False for `fedblog serve --no-worker`: the background work (deliveries, webmentions, e-mail) runs elsewhere.
BACKGROUND_KEY = web.AppKey("background", bool)


def get_context(request: web.Request) -> Context:
    return request.app[CONTEXT_KEY]
