"""Scheduled posts go out on time: a loop inside `fedblog serve` publishes each one when its date comes.

Nothing is kept in memory: the schedule is the posts table (state 'scheduled', published_at), so a post scheduled
from the CLI or before a restart is found at the next look, and one whose time passed while the server was down is
published at start.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from fedblog.clock import utcnow
from fedblog.services.posts import PostService
from fedblog.services.supervision import log_failure

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

# The longest wait between two looks at the schedule: a post scheduled by another process (the CLI) for the next
# few seconds goes out at most this late. A post scheduled further ahead is waited for exactly.
LOOK_EVERY_SECONDS = 5.0


def seconds_until_next_look(next_due_in: float | None) -> float:
    """Pure: how long to sleep, given how far away the next scheduled post is (None: no post is scheduled)."""
    if next_due_in is None:
        return LOOK_EVERY_SECONDS
    return min(LOOK_EVERY_SECONDS, max(0.05, next_due_in))


async def publish_scheduled_posts(ctx: Context) -> None:
    """Runs until cancelled: publish what is due, then sleep until the next post is due (bounded)."""
    service = PostService(ctx)
    while True:
        try:
            published = await service.publish_due()
            for post in published:  # their Create activities are queued and the delivery worker woken
                log.info("published the scheduled post %s", post.slug)
            next_at = await ctx.posts.next_scheduled_at()
        except asyncio.CancelledError:
            raise
        except Exception:
            log_failure(log, "publishing scheduled posts failed; trying again shortly")
            next_at = None
        await asyncio.sleep(seconds_until_next_look(None if next_at is None else (next_at - utcnow()).total_seconds()))
