"""The delivery worker's per-host limit, and that it forgets hosts it no longer delivers to."""

from __future__ import annotations

import asyncio

from fedblog.services.delivery import HostSlots


async def test_host_slots__at_most_per_host_deliveries_at_once_to_one_host() -> None:
    slots = HostSlots(per_host=2)
    running: dict[str, int] = {}
    most: dict[str, int] = {}

    async def deliver(host: str) -> None:
        async with slots.turn(host):
            running[host] = running.get(host, 0) + 1
            most[host] = max(most.get(host, 0), running[host])
            await asyncio.sleep(0.01)
            running[host] -= 1

    await asyncio.gather(*(deliver(host) for host in ["big.example"] * 7 + ["small.example"]))

    assert most == {"big.example": 2, "small.example": 1}


async def test_host_slots__hold_no_entry_once_deliveries_are_over() -> None:
    slots = HostSlots(per_host=1)

    async def deliver(host: str, fail: bool) -> None:
        async with slots.turn(host):
            await asyncio.sleep(0)
            if fail:
                raise ConnectionError(host)

    outcomes = await asyncio.gather(
        *(deliver(f"host-{n}.example", fail=n % 3 == 0) for n in range(300)), return_exceptions=True
    )

    assert sum(isinstance(outcome, ConnectionError) for outcome in outcomes) == 100
    assert len(slots) == 0
