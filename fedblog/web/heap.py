"""Freed memory handed back to the system after a large render (glibc's malloc_trim; elsewhere nothing).

Rendering a long thread's page makes and drops tens of megabytes of objects; glibc keeps the freed space in
the process, so the resident size stayed at the render's peak (about 30 MB more than needed after the
10,000-comment page). Trimming walks the heap once: a few milliseconds, only after a page of megabytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from collections.abc import Callable

# A page this large was a render worth trimming after (the 200-comment page is ~0.2 MB).
LARGE_PAGE_BYTES = 2 * 1024 * 1024
# The render's objects are freed once its answer has gone out (megabytes take a while to send).
TRIM_AFTER_SECONDS = 1.0


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim with
        return None


def release_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        gc.collect()  # the render's reference cycles (template frames, contexts) are freed first
        trim(0)
