"""Freed memory handed back to the system (glibc's malloc_trim and mallopt; elsewhere nothing).

Rendering a long thread's page makes and drops tens of megabytes of objects, and a burst of inbox replies or of
deliveries as much in many small pieces; glibc keeps the freed space in the process, so the resident size stayed
at the burst's peak. Trimming walks the heap once (a few milliseconds): after a page of megabytes, and once the
inbox, the deliveries and the page renders have been quiet for a second after a burst (HeapTender, one per
context).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# A page this large was a render worth trimming after (the 200-comment page is ~0.2 MB).
LARGE_PAGE_BYTES = 2 * 1024 * 1024
# The render's objects are freed once its answer has gone out (megabytes take a while to send).
TRIM_AFTER_SECONDS = 1.0
# A burst: this many inbox activities or deliveries since the last trim; quiet: none for IDLE_SECONDS.
BURST_UNITS = 200
IDLE_SECONDS = 1.0
# Page renders are a burst too, by size: a render makes and drops many times its page's bytes, and pages adding up
# to this since the last trim count as BURST_UNITS (the read path's 1,000-comment page, 1.3 MB, alone is a burst;
# its 200-comment page, 0.27 MB, a quarter of one). Without it the pages under LARGE_PAGE_BYTES never trimmed.
RENDERED_BURST_BYTES = 1024 * 1024
# mallopt's parameter (malloc.h).
_M_ARENA_MAX = -8
# One arena for the event loop, one shared by the database and executor threads (glibc's default is up to 8 per
# core, one per thread: each a heap of its own, fragmented and kept on its own). The mmap threshold is left to
# glibc: fixed at 512 KiB, every 5.6 MB page sent to a slow reader had its send buffer mapped, faulted in and
# unmapped (the 5,251-comment page served at 32 % of its ceiling, against 85 % before and 58 % without it).
ARENA_MAX = 2


@functools.cache
def _libc() -> Any | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 (glibc's; missing on musl, macOS)
        return libc
    except (OSError, AttributeError):  # not glibc: nothing to trim with
        return None


def tune_malloc() -> None:
    """For a server process, before its threads start (`fedblog serve`, `fedblog worker`)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, ARENA_MAX)


def release_freed_memory() -> None:
    libc = _libc()
    if libc is not None:
        gc.collect()  # the burst's reference cycles (template frames, contexts) are freed first
        libc.malloc_trim(0)


@dataclass
class HeapTender:
    """Counts work done (inbox activities, deliveries, page renders); after a burst of it, trims once things are
    quiet."""

    burst: int = BURST_UNITS
    idle_seconds: float = IDLE_SECONDS
    trims: int = 0
    clock: Callable[[], float] = time.monotonic
    _work: int = 0
    _last: float = 0.0
    _timer: asyncio.TimerHandle | None = None

    def note(self, units: int = 1) -> None:
        """Work was done (in the event loop): a counter and a clock read, a timer armed once per burst."""
        self._work += units
        self._last = self.clock()
        if self._timer is None and self._work >= self.burst:
            self._timer = asyncio.get_running_loop().call_later(self.idle_seconds, self._check)

    def rendered(self, page_bytes: int) -> None:
        """A page was rendered (a cache miss): it counts by its size, at least a unit."""
        self.note(max(1, page_bytes * self.burst // RENDERED_BURST_BYTES))

    def _check(self) -> None:
        quiet = self.clock() - self._last
        if quiet < self.idle_seconds:  # still busy: look again when it may have gone quiet
            self._timer = asyncio.get_running_loop().call_later(self.idle_seconds - quiet, self._check)
            return
        self._timer = None
        self._work = 0
        self.trims += 1
        release_freed_memory()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
