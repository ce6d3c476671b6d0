"""Background work inside `fedblog serve`: the delivery worker and the inbox catch-up, tied to the app's life."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable

from aiohttp import web

from fedblog.services.backfill import BackfillWorker
from fedblog.services.delivery import DeliveryWorker
from fedblog.services.federation import announce_profile_changes
from fedblog.services.housekeeping import keep_house
from fedblog.services.inbox import keep_processing_leftovers, process_unprocessed
from fedblog.services.scheduling import publish_scheduled_posts
from fedblog.services.supervision import keep_running, log_failure, supervised
from fedblog.services.wakeups import listening
from fedblog.web.keys import BACKGROUND_KEY, CONTEXT_KEY, STATE_KEY

log = logging.getLogger(__name__)

STORAGE_PAUSE_SECONDS = 30


async def background_work(app: web.Application) -> AsyncIterator[None]:
    """Started after the context exists (cleanup_ctx order), stopped before it closes."""
    ctx = app[CONTEXT_KEY]

    current: list[DeliveryWorker] = []  # the delivery worker running now (a new one after a restart)

    def new_delivery_worker() -> Awaitable[None]:
        current[:] = [DeliveryWorker(ctx)]
        return current[0].run()

    async def catch_up_then_deliver() -> None:
        try:
            await process_unprocessed(ctx)
        except Exception:
            log_failure(log, "processing the inbox left over from the last run failed")
        await keep_running("delivery worker", new_delivery_worker)

    try:
        # Before serving: a quick read (and at most one insert), so that pages cached later stay valid.
        await announce_profile_changes(ctx)
    except Exception:
        log_failure(log, "announcing the profile change failed")
    try:
        await ctx.posts.fill_missing_text()  # once, after the upgrade that added it (search snippets)
    except Exception:
        log_failure(log, "filling the posts' plain text failed")
    # Work queued by another process (`fedblog post publish`) pokes this one: the fan-out starts at once.
    async with (
        listening(ctx),
        supervised(
            ("inbox catch-up and delivery worker", catch_up_then_deliver),
            ("scheduled posts publisher", lambda: publish_scheduled_posts(ctx)),
            ("thread backfill worker", BackfillWorker(ctx).run),
            ("housekeeping", lambda: keep_house(ctx)),
            ("inbox leftovers", lambda: keep_processing_leftovers(ctx)),
        ),
    ):
        app[STATE_KEY].background_running = True  # reported by /readyz
        try:
            yield
        finally:
            app[STATE_KEY].background_running = False
            # Stopping (SIGTERM): the web side has finished its requests; the sends under way get their answers,
            # for at most one delivery timeout, before the loops are cancelled.
            if current:
                unfinished = await current[0].drain(ctx.settings.federation.delivery_timeout_seconds)
                if unfinished:
                    log.info("stopping with %d deliveries unanswered; they will be sent again", unfinished)


def setup(app: web.Application) -> None:
    if app[BACKGROUND_KEY]:
        app.cleanup_ctx.append(background_work)
