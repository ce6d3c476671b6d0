"""What a fedblog server keeps between requests, cache by cache: entries, and bytes where the cache counts them.
Read by the benchmark after each phase (a look at sizes, no tracing), to tell which cache holds the memory."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import sys
import tempfile
from typing import Any

from aiohttp import web

from fedblog.web.keys import CONTEXT_KEY, STATE_KEY


def held_in_caches(app: web.Application) -> dict[str, Any]:
    state = app[STATE_KEY]
    runtime = app[CONTEXT_KEY].runtime
    held: dict[str, Any] = {}
    if state.page_cache is not None:
        held["page_cache"] = {"entries": len(state.page_cache), "bytes": state.page_cache.held}
    if state.comment_fragments is not None:
        held["comment_fragments"] = {"entries": len(state.comment_fragments), "bytes": state.comment_fragments.held}
    for name in ("replay_cache", "inbox_seen", "actors_by_id", "actors_by_key", "actor_locks", "key_refreshes",
                 "author_fields"):  # fmt: skip
        held[name] = len(getattr(runtime, name))
    client = runtime.http
    held["inbox_urls"] = client.inbox_urls_parsed() if client is not None else 0
    if client is not None:
        held["signature_styles"] = len(client.signature_styles)
        session = client._session
        if session is not None:  # aiohttp's resolved names (none in the benchmark: its hosts are addresses)
            resolved = getattr(session.connector, "_cached_hosts", None)
            held["dns_cache"] = len(getattr(resolved, "_addrs_rr", ()))
    held.update(malloc_figures())
    return held


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]  # fmt: skip


def malloc_figures() -> dict[str, int]:
    """glibc's malloc (mallinfo2, KiB): in use, free but kept, mapped apart; Python's small-object allocator
    (sys._debugmallocstats): its arenas, and what is in use in them. {} where either is missing."""
    figures: dict[str, int] = {}
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        figures.update(malloc_in_use_kib=info.uordblks // 1024, malloc_free_kib=info.fordblks // 1024,
                       malloc_mapped_kib=info.hblkhd // 1024)  # fmt: skip
    except (OSError, AttributeError):
        pass
    handle, path = tempfile.mkstemp()
    saved = os.dup(2)
    try:  # it writes to the C stderr
        os.dup2(handle, 2)
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(handle)
    with open(path, encoding="utf-8", errors="replace") as stats:
        text = stats.read()
    os.unlink(path)
    for name, pattern in (("pymalloc_arenas_kib", r"(\d[\d,]*) arenas \* \d+ bytes/arena\s+=\s+([\d,]+)"),
                          ("pymalloc_in_use_kib", r"# bytes in allocated blocks\s+=\s+([\d,]+)"),
                          # Free room in the arenas: blocks free in pools in use (kept by their pool's other
                          # blocks), and whole pools free in arenas still in use (kept by the arena's other pools).
                          ("pymalloc_free_blocks_kib", r"# bytes in available blocks\s+=\s+([\d,]+)"),
                          ("pymalloc_unused_pools_kib", r"\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)")):  # fmt: skip
        found = re.search(pattern, text)
        if found:
            figures[name] = int(found.groups()[-1].replace(",", "")) // 1024
    # The size classes with the most free blocks (class size in bytes: KiB free), which says what kind of objects
    # the freed ones were (32: ints and 1-tuples, 48-64: floats, short strings, small tuples, ...).
    free_by_class = {int(size): int(avail) * int(size) // 1024
                     for size, avail in re.findall(r"^\s*\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s*$", text, re.M)}  # fmt: skip
    figures["pymalloc_free_kib_by_class"] = dict(sorted(free_by_class.items(), key=lambda item: -item[1])[:6])
    return figures
