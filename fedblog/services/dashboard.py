"""What the dashboard shows: thirty days of followers, comments and deliveries, the hosts that fail most, and the
most read and most answered posts. Page views are counted in memory (`ViewCounter`) and written once a minute,
so the cached read path does one dictionary update per page served."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from fedblog.clock import to_text, utcnow
from fedblog.store.dashboard import DashboardStore

if TYPE_CHECKING:
    from fedblog.context import Context

DAYS = 30
TOP = 5


@dataclass(frozen=True)
class DailySeries:
    """One chart: a value per day for each kind (in display order)."""

    days: tuple[str, ...]
    kinds: tuple[str, ...]
    values: dict[str, tuple[int, ...]]

    def total(self, kind: str) -> int:
        return sum(self.values[kind])

    def day_total(self, index: int) -> int:
        return sum(self.values[kind][index] for kind in self.kinds)


@dataclass(frozen=True)
class Dashboard:
    followers: DailySeries
    comments: DailySeries
    deliveries: DailySeries
    failing_hosts: list[tuple[str, int]]
    most_read: list[tuple[str, str, int]]
    most_answered: list[tuple[str, str, int]]


def window(now: datetime, days: int = DAYS) -> tuple[str, ...]:
    first = (now - timedelta(days=days - 1)).date()
    return tuple((first + timedelta(days=offset)).isoformat() for offset in range(days))


def series(days: tuple[str, ...], kinds: tuple[str, ...], counts: dict[str, dict[str, int]]) -> DailySeries:
    values = {kind: tuple(counts.get(day, {}).get(kind, 0) for day in days) for kind in kinds}
    return DailySeries(days, kinds, values)


async def load_dashboard(ctx: Context, now: datetime | None = None) -> Dashboard:
    now = now or utcnow()
    days = window(now)
    since = days[0] + "T00:00:00Z"
    store = DashboardStore(ctx.db)
    return Dashboard(
        followers=series(days, ("gained", "lost"), await store.followers_by_day(since)),
        comments=series(days, ("web", "fediverse", "webmention"), await store.comments_by_day(since)),
        deliveries=series(days, ("delivered", "retried", "failed"), await store.deliveries_by_day(since)),
        failing_hosts=await store.failing_hosts(since, TOP),
        most_read=await store.most_read(days[0], TOP),
        most_answered=await store.most_answered(TOP),
    )


class ViewCounter:
    """Views of post pages since the last flush, by (slug, day); flushed by the server's background task."""

    def __init__(self) -> None:
        self.pending: Counter[tuple[str, str]] = Counter()

    def count(self, slug: str, now: datetime | None = None) -> None:
        self.pending[(slug, to_text(now or utcnow())[:10])] += 1

    async def flush(self, ctx: Context) -> int:
        if not self.pending:
            return 0
        batch, self.pending = self.pending, Counter()
        try:
            await DashboardStore(ctx.db).add_views(batch)
        except BaseException:
            self.pending.update(batch)  # kept for the next flush
            raise
        return sum(batch.values())
