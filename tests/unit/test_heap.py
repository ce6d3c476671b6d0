"""Freed memory handed back after a large render (web/heap.py): a no-op where there is no glibc to ask."""

from __future__ import annotations

from fedblog.web.heap import LARGE_PAGE_BYTES, release_freed_memory


def test_release_freed_memory__runs_and_returns_nothing() -> None:
    dropped = [bytes(LARGE_PAGE_BYTES) for _ in range(4)]  # a render's worth of megabytes, made and dropped
    del dropped
    assert release_freed_memory() is None
