"""The dashboard's charts and the post view counter: counted on the read path in memory, written once a minute
by a background task (and when the server stops)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from fedblog.services.dashboard import Dashboard, ViewCounter, load_dashboard
from fedblog.services.supervision import log_failure
from fedblog.web.charts import stacked_bars
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context

log = logging.getLogger(__name__)

FLUSH_SECONDS = 60


def view_counter(app: web.Application) -> ViewCounter:
    state = app[STATE_KEY]
    if state.view_counter is None:
        state.view_counter = ViewCounter()
    return state.view_counter


def count_view(request: web.Request, slug: str, status: int) -> None:
    """One post page served (cached or not) to a person's browser: a dictionary update, nothing more."""
    if status == 200 and request.method == "GET":
        view_counter(request.app).count(slug)


async def flush_lifetime(app: web.Application) -> AsyncIterator[None]:
    counter = view_counter(app)
    ctx = app[CONTEXT_KEY]

    async def flush_forever() -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            try:
                await counter.flush(ctx)
            except Exception:
                log_failure(log, "writing the post view counts failed; they are kept for the next try")

    task = asyncio.create_task(flush_forever(), name="post view counts writer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with contextlib.suppress(Exception):
        await counter.flush(ctx)


async def dashboard_values(request: web.Request) -> dict[str, Any]:
    """The charts of the dashboard page (the views of the last minute are written first, so they show)."""
    ctx = get_context(request)
    await view_counter(request.app).flush(ctx)
    stats: Dashboard = await load_dashboard(ctx)
    _ = ctx.i18n.gettext
    labels = {
        "gained": _("gained"),
        "lost": _("lost"),
        "web": _("web form"),
        "fediverse": _("fediverse"),
        "webmention": _("webmention"),
        "delivered": _("delivered"),
        "retried": _("retried"),
        "failed": _("failed"),
    }
    charts = [
        ("followers", _("Followers, last 30 days"), stats.followers),
        ("comments", _("Comments per day, by source"), stats.comments),
        ("deliveries", _("Deliveries per day"), stats.deliveries),
    ]
    return {
        "stats": stats,
        "labels": labels,
        "charts": [
            {
                "id": f"chart-{name}",
                "title": title,
                "data": data,
                "svg": stacked_bars(f"chart-{name}", data, title, labels),
            }
            for name, title, data in charts
        ],
    }


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(flush_lifetime)
