"""Background loops that must not die with an unexpected error: restarted after a pause, stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

from fedblog.store.db import StorageUnavailable

log = logging.getLogger(__name__)

RESTART_DELAY_SECONDS = 5.0
Loop = tuple[str, Callable[[], Awaitable[object]]]  # (name for the log, the loop)


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Inside an `except`: the storage unavailable (a database server restarting, a full disk) is expected and
    told in one line; anything else is logged with its traceback."""
    error = sys.exc_info()[1]
    if isinstance(error, StorageUnavailable):
        logger.warning(message + " (%s)", *args, error)
    else:
        logger.exception(message, *args)


async def keep_running(name: str, run: Callable[[], Awaitable[object]], delay: float = RESTART_DELAY_SECONDS) -> None:
    """Run `run` again and again: after an unexpected error it is logged and restarted `delay` seconds later.
    Only cancellation stops it."""
    while True:
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except StorageUnavailable as error:  # expected (a database server restarting, a full disk): one line
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                log.warning("the %s stopped without finishing its clean-up: %s", name, error)
                raise asyncio.CancelledError from None
            log.warning("the %s stopped: %s; restarting it in %.0f s", name, error, delay)
            await asyncio.sleep(delay)
        except Exception:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Cancelled, and the loop's own clean-up failed: stop, as asked, rather than restart.
                log.exception("the %s failed while stopping", name)
                raise asyncio.CancelledError from None
            log.exception("the %s stopped; restarting it", name)
            await asyncio.sleep(delay)


@contextlib.asynccontextmanager
async def supervised(*loops: Loop) -> AsyncIterator[None]:
    """Each loop in a task of its own, kept running (keep_running) for the body, cancelled and awaited after it.
    The task bears the loop's name (what runs in a process can be listed: tests, debugging)."""
    tasks = [asyncio.create_task(keep_running(name, run), name=name) for name, run in loops]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
