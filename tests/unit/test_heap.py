"""Freed memory handed back after a large render or a burst (fedblog/heap.py): a no-op where there is no glibc."""

from __future__ import annotations

import pytest

from fedblog import heap
from fedblog.heap import LARGE_PAGE_BYTES, release_freed_memory


def test_release_freed_memory__runs_and_returns_nothing() -> None:
    dropped = [bytes(LARGE_PAGE_BYTES) for _ in range(4)]  # a render's worth of megabytes, made and dropped
    del dropped
    assert release_freed_memory() is None


async def test_heap_tender__trims_once_after_a_burst_has_gone_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(heap, "release_freed_memory", lambda: trims.append(1))
    now = [0.0]
    tender = heap.HeapTender(burst=5, idle_seconds=1.0, clock=lambda: now[0])
    for _ in range(4):
        tender.note()
    assert tender._timer is None  # fewer than a burst: nothing worth trimming
    for _ in range(20):  # a burst, still going on a second after it began
        now[0] += 0.1
        tender.note()
    assert tender._timer is not None
    tender._check()
    assert trims == []  # the last activity was just now: looked at again later
    now[0] += 1.0
    tender._check()
    assert trims == [1] and tender.trims == 1 and tender._timer is None
    tender.note()
    assert tender._timer is None  # once per burst: the count starts again
    tender.close()


def test_tune_malloc__runs_and_returns_nothing() -> None:
    assert heap.tune_malloc() is None


async def test_heap_tender__page_renders_adding_up_to_a_megabyte_are_a_burst(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[int] = []
    monkeypatch.setattr(heap, "release_freed_memory", lambda: trims.append(1))
    now = [0.0]
    tender = heap.HeapTender(clock=lambda: now[0])
    for _ in range(3):  # the 200-comment page, 0.27 MB: three renders are not yet a megabyte
        tender.rendered(266_013)
    assert tender._timer is None
    tender.rendered(266_013)
    assert tender._timer is not None
    now[0] += heap.IDLE_SECONDS
    tender._check()
    assert trims == [1]
    for _ in range(heap.BURST_UNITS - 1):  # a tiny page counts a unit: a flood of them is a burst too
        tender.rendered(100)
    assert tender._timer is None
    tender.rendered(100)
    assert tender._timer is not None
    tender.close()
