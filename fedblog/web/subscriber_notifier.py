"""The commenters' e-mails inside `fedblog serve` or `fedblog worker` (not `serve --no-worker`): the mark set before
serving, then a round per interval."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from fedblog.services.subscriber_notifier import SubscriberNotifier
from fedblog.services.supervision import supervised
from fedblog.web.keys import BACKGROUND_KEY, CONTEXT_KEY

log = logging.getLogger(__name__)

SUBSCRIBER_NOTIFIER_KEY = web.AppKey("subscriber_notifier", SubscriberNotifier)


async def subscriber_notifier_lifetime(app: web.Application) -> AsyncIterator[None]:
    notifier = SubscriberNotifier(app[CONTEXT_KEY])
    app[SUBSCRIBER_NOTIFIER_KEY] = notifier
    try:
        await notifier.start()  # before serving: at most one small write, so cached pages stay valid
    except Exception:
        log.exception("preparing the commenters' e-mails failed")
    if not notifier.settings.smtp_host:  # no mail server: nothing can turn the e-mails on without a restart
        yield
        return
    async with supervised(("commenters' e-mail notifier", notifier.run_forever)):
        yield


def setup(app: web.Application) -> None:
    # Only where the background work runs: several web processes would otherwise each send the same e-mails.
    if app[BACKGROUND_KEY]:
        app.cleanup_ctx.append(subscriber_notifier_lifetime)
