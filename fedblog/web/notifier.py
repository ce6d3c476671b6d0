"""The e-mail notifier inside `fedblog serve`: marks set before serving, then one digest per period."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fedblog.services.notifications import Notifier
from fedblog.services.supervision import supervised
from fedblog.web.keys import BACKGROUND_KEY, CONTEXT_KEY

log = logging.getLogger(__name__)

NOTIFIER_KEY = web.AppKey("notifier", Notifier)


async def notifier_lifetime(app: web.Application) -> AsyncIterator[None]:
    """Started after the context exists (cleanup_ctx order), stopped before it closes."""
    notifier = Notifier(app[CONTEXT_KEY])
    app[NOTIFIER_KEY] = notifier
    try:
        # Before serving, like the worker's profile check: at most one small write, so cached pages stay valid.
        await notifier.start()
    except Exception:
        log.exception("preparing the e-mail notifier failed")
    # Running even when off: notifications can be turned on from the admin's settings page without a restart
    # (a period with them off is one sleep and one check).
    async with supervised(("e-mail notifier", notifier.run_forever)):
        yield


def setup(app: web.Application) -> None:
    if app[BACKGROUND_KEY]:
        app.cleanup_ctx.append(notifier_lifetime)
