"""The dashboard's numbers: per-day counts over a window, and the top posts and failing hosts."""

from __future__ import annotations

from collections.abc import Mapping

from fedblog.store.db import Database, Row


class DashboardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def followers_by_day(self, since: str) -> dict[str, dict[str, int]]:
        rows = await self.db.fetch_all(
            "SELECT substr(at, 1, 10), kind, COUNT(*) FROM follower_events WHERE at >= ? GROUP BY 1, 2", (since,)
        )
        return _by_day(rows)

    async def comments_by_day(self, since: str) -> dict[str, dict[str, int]]:
        rows = await self.db.fetch_all(
            "SELECT substr(created_at, 1, 10), origin, COUNT(*) FROM comments "
            "WHERE created_at >= ? AND origin != 'author' GROUP BY 1, 2",
            (since,),
        )
        return _by_day(rows)

    async def deliveries_by_day(self, since: str) -> dict[str, dict[str, int]]:
        """delivered: at the first attempt; retried: needed more than one (delivered since, or still trying);
        failed: given up."""
        rows = await self.db.fetch_all(
            "SELECT substr(created_at, 1, 10), CASE WHEN status = 'failed' THEN 'failed' "
            "WHEN attempts > 1 THEN 'retried' WHEN status = 'delivered' THEN 'delivered' ELSE 'pending' END, "
            "COUNT(*) FROM deliveries WHERE created_at >= ? GROUP BY 1, 2",
            (since,),
        )
        return _by_day(rows)

    async def failing_hosts(self, since: str, limit: int) -> list[tuple[str, int]]:
        rows = await self.db.fetch_all(
            "SELECT host, COUNT(*) FROM deliveries WHERE created_at >= ? AND (status = 'failed' OR attempts > 1) "
            "GROUP BY host ORDER BY 2 DESC, host LIMIT ?",
            (since, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def most_read(self, since_day: str, limit: int) -> list[tuple[str, str, int]]:
        rows = await self.db.fetch_all(
            "SELECT v.slug, p.title, SUM(v.views) FROM post_views v JOIN posts p ON p.slug = v.slug "
            "WHERE v.day >= ? AND p.draft = 0 GROUP BY v.slug, p.title ORDER BY 3 DESC, v.slug LIMIT ?",
            (since_day, limit),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def most_answered(self, limit: int) -> list[tuple[str, str, int]]:
        rows = await self.db.fetch_all(
            "SELECT p.slug, p.title, COUNT(c.id) FROM posts p JOIN comments c ON c.post_id = p.id "
            "WHERE p.draft = 0 AND c.status = 'approved' AND c.origin != 'author' "
            "AND c.visibility IN ('public', 'unlisted') GROUP BY p.id ORDER BY 3 DESC, p.slug LIMIT ?",
            (limit,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def add_views(self, views: Mapping[tuple[str, str], int]) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO post_views (slug, day, views) VALUES (?, ?, ?) "
                "ON CONFLICT (slug, day) DO UPDATE SET views = post_views.views + excluded.views",
                [(slug, day, count) for (slug, day), count in views.items()],
            )


def _by_day(rows: list[Row]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        day, kind, count = row[0], row[1], row[2]
        found.setdefault(day, {})[kind] = count
    return found
