"""The delivery worker's pacing: a claimed batch begins a few deliveries per turn of the event loop, so that the
web requests of the same process are served between them."""

from __future__ import annotations

import asyncio
from collections import Counter

from fedblog.services.delivery import StartPacer


class Turns:
    """Counts the event loop's turns: a callback that runs once per turn and schedules itself again."""

    def __init__(self) -> None:
        self.number = 0
        self._stopped = False
        asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        self.number += 1
        if not self._stopped:
            asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._stopped = True


async def test_start_pacer__a_batch_begins_a_few_per_turn_in_the_order_it_came() -> None:
    pacer, turns = StartPacer(per_turn=4), Turns()
    began: list[tuple[int, int]] = []  # (delivery, turn)

    async def deliver(number: int) -> None:
        await pacer.turn()
        began.append((number, turns.number))

    await asyncio.gather(*(deliver(number) for number in range(18)))
    turns.stop()

    assert [number for number, _ in began] == list(range(18))
    per_turn = Counter(turn for _, turn in began)
    assert max(per_turn.values()) == 4
    assert len(per_turn) == 5  # 4 + 4 + 4 + 4 + 2


async def test_start_pacer__a_cancelled_wait_gives_its_place_to_the_next() -> None:
    pacer = StartPacer(per_turn=1)
    began: list[int] = []

    async def deliver(number: int) -> None:
        await pacer.turn()
        began.append(number)

    tasks = [asyncio.create_task(deliver(number)) for number in range(4)]
    await asyncio.sleep(0)
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    assert began == [0, 2, 3]
