"""Token buckets (pure, time passed in) and the inbox's fetch slots per host."""

from __future__ import annotations

import asyncio

import pytest

from fedblog.protocol.token_bucket import Buckets, Limit, take_all
from fedblog.services import inbox_limits
from fedblog.services.inbox_limits import FETCHES_PER_HOST, InboxLimits


def test_buckets__burst_then_rate() -> None:
    buckets = Buckets(Limit(capacity=2, rate=0.5))
    assert take_all([(buckets, "a")], now=0.0) == 0
    assert take_all([(buckets, "a")], now=0.0) == 0
    assert take_all([(buckets, "a")], now=0.0) == 2  # one token every 2 s
    assert take_all([(buckets, "b")], now=0.0) == 0  # another key has its own bucket
    assert take_all([(buckets, "a")], now=2.0) == 0


def test_take_all__takes_from_every_bucket_or_from_none() -> None:
    roomy, tight = Buckets(Limit(5, 1)), Buckets(Limit(1, 0.1))
    assert take_all([(roomy, "x"), (tight, "y")], now=0.0) == 0
    assert take_all([(roomy, "x"), (tight, "y")], now=0.0) == 10
    assert roomy.level("x", now=0.0) == 4  # the refused request cost nothing in the roomy bucket


def test_buckets__memory_is_bounded() -> None:
    buckets = Buckets(Limit(1, 1), max_keys=3)
    for n in range(10):
        buckets.take(f"k{n}", now=0.0)
    assert len(buckets._levels) == 3


async def test_fetch_slots__at_most_a_few_per_host_and_a_bounded_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_limits, "SLOT_WAIT_SECONDS", 0.2)
    limits = InboxLimits()
    release = asyncio.Event()
    holding = 0

    async def hold() -> bool:
        nonlocal holding
        async with limits.fetch_slot("busy.example") as got:
            if got:
                holding += 1
                await release.wait()
            return got

    holders = [asyncio.create_task(hold()) for _ in range(FETCHES_PER_HOST)]
    await asyncio.sleep(0.05)
    assert holding == FETCHES_PER_HOST
    async with limits.fetch_slot("busy.example") as got:
        assert got is False  # no slot within the wait
    async with limits.fetch_slot("other.example") as got:
        assert got is True  # another host is not held up
    release.set()
    assert all(await asyncio.gather(*holders))
