"""The delivery queue's retry policy, pure: what to do after an attempt, how long to wait, when to pause a host.

No I/O and no clock of its own: the worker (services/delivery.py) passes the answer, the job's age and `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fedblog.store.deliveries import DELIVERED, FAILED, PENDING

# Retry schedule after the n-th failure: 1 min, 5 min, 30 min, 2 h, 6 h, 12 h, then daily; give up after 3 days.
SCHEDULE = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
)
GIVE_UP_AFTER = timedelta(days=3)
MAX_RETRY_AFTER = timedelta(days=1)
# After this many consecutive failures (attempt windows, see counts_as_host_failure) a host is paused (on the same
# schedule) instead of hammered.
PAUSE_AFTER_FAILURES = 5


def next_delay(failures: int) -> timedelta:
    """Wait after the n-th consecutive failure (n ≥ 1)."""
    return SCHEDULE[min(max(failures, 1), len(SCHEDULE)) - 1]


@dataclass(frozen=True)
class Decision:
    status: str  # delivered | pending (retry) | failed
    next_attempt_at: datetime | None = None
    gone: bool = False  # the inbox's actor is gone (410/404): drop its followers
    host_failure: bool = False  # counts toward pausing the host
    host_success: bool = False


def decide(
    status: int | None, retry_after: float | None, attempts: int, created_at: datetime, now: datetime
) -> Decision:
    """What to do after an attempt that got HTTP `status` (None: network error, timeout, refused address).

    2xx delivered; 410/404 gone; 401, 408, 429 and 5xx (not 501) retried with backoff, honouring Retry-After;
    other 4xx are permanent. A job older than GIVE_UP_AFTER is not retried.
    """
    if status is not None and 200 <= status < 300:
        return Decision(DELIVERED, host_success=True)
    if status in (404, 410):
        return Decision(FAILED, gone=True, host_success=True)
    retryable = status is None or status in (401, 408, 429) or (status >= 500 and status != 501)
    if not retryable:
        return Decision(FAILED, host_success=True)
    delay = next_delay(attempts)
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    when = now + delay
    throttled = status == 429
    if when - created_at > GIVE_UP_AFTER:
        return Decision(FAILED, host_failure=not throttled)
    return Decision(PENDING, next_attempt_at=when, host_failure=not throttled)


def counts_as_host_failure(consecutive_failures: int, last_counted_at: datetime | None, now: datetime) -> bool:
    """Whether a failed attempt at a host is one more consecutive failure of that host, or part of an attempt window
    already counted. A window lasts as long as a single job would wait before its next try (1 min after the first
    failure, then 5 min, 30 min…): the six inboxes of a host that was down for a minute fail together and count
    once, so the host is retried with everything at the first retry instead of being paused for hours."""
    if consecutive_failures <= 0 or last_counted_at is None:
        return True
    return now - last_counted_at >= next_delay(consecutive_failures)


def pause_for(consecutive_failures: int) -> timedelta | None:
    """How long to leave a host alone after this many consecutive failures (None: not yet):
    30 min, then 2 h, 6 h, 12 h, and a day at most."""
    if consecutive_failures < PAUSE_AFTER_FAILURES:
        return None
    return next_delay(consecutive_failures - PAUSE_AFTER_FAILURES + 3)
