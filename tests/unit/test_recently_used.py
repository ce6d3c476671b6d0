"""What the delivery worker keeps per inbox between fan-outs: kept while used, let go once unused for a while."""

from __future__ import annotations

from fedblog.services.recently_used import RecentlyUsed


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_recently_used__keeps_what_was_used_lately_and_lets_go_of_the_rest() -> None:
    clock = Clock()
    kept: RecentlyUsed[str, int] = RecentlyUsed(limit=10, keep_seconds=5.0, clock=clock)
    kept.put("a", 1)
    kept.put("b", 2)
    clock.now += 3
    assert kept.get("a") == 1  # a used again 3 s later
    clock.now += 3  # b unused for 6 s, a for 3 s

    assert kept.forget_unused() == 1
    assert (kept.get("a"), kept.get("b"), len(kept)) == (1, None, 1)


def test_recently_used__frees_everything_once_nothing_was_used_for_the_grace_period() -> None:
    clock = Clock()
    kept: RecentlyUsed[str, int] = RecentlyUsed(limit=10_000, keep_seconds=5.0, clock=clock)
    for n in range(1_000):
        kept.put(f"https://h{n}.example/inbox", n)
    clock.now += 4.9
    assert kept.forget_unused() == 0  # a fan-out a few seconds after the last one finds them all

    clock.now += 0.2
    assert kept.forget_unused() == 1_000
    assert len(kept) == 0


def test_recently_used__holds_at_most_its_limit_dropping_the_least_recently_used() -> None:
    kept: RecentlyUsed[str, int] = RecentlyUsed(limit=2, keep_seconds=5.0, clock=Clock())
    kept.put("a", 1)
    kept.put("b", 2)
    kept.get("a")
    kept.put("c", 3)

    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == (1, None, 3, 2)
