"""The worker's housekeeping: what the blog remembers only for a while is forgotten once it is old.

The deletes and undos that arrived before what they delete or undo (store/remote_objects.py) matter only while
the late activity may still come: a sender's retries. Mastodon retries a delivery 16 times over about eight weeks
at the most, so they are kept REMEMBER_DAYS, then forgotten, so that the tables stay bounded.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fedblog.clock import utcnow
from fedblog.services.supervision import log_failure
from fedblog.store.remote_objects import RemoteObjectStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

REMEMBER_DAYS = 60
EVERY_SECONDS = 3600.0


async def forget_old_deletes_and_undos(ctx: Context, now: datetime) -> int:
    forgotten = await RemoteObjectStore(ctx.db).forget_before(now - timedelta(days=REMEMBER_DAYS))
    if forgotten:
        log.info("forgot %d remote deletes and undos older than %d days", forgotten, REMEMBER_DAYS)
    return forgotten


async def keep_house(ctx: Context) -> None:
    """Runs until cancelled: once at start, then every EVERY_SECONDS."""
    while True:
        try:
            await forget_old_deletes_and_undos(ctx, utcnow())
        except asyncio.CancelledError:
            raise
        except Exception:
            log_failure(log, "housekeeping failed; trying again in an hour")
        await asyncio.sleep(EVERY_SECONDS)
