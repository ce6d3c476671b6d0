"""Reports (Flag activities) about the blog's comments or the blog itself: kept for the admin, never shown publicly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text, to_text, utcnow
from fedblog.store.db import Connection, Database, Row


@dataclass(frozen=True)
class Report:
    id: int
    activity_id: str
    reporter_id: str
    reason: str
    subject_id: str
    comment_id: int | None
    received_at: datetime


_SELECT = "SELECT id, activity_id, reporter_id, reason, subject_id, comment_id, received_at FROM reports"


def _report(row: Row) -> Report:
    return Report(
        id=row["id"],
        activity_id=row["activity_id"],
        reporter_id=row["reporter_id"],
        reason=row["reason"],
        subject_id=row["subject_id"],
        comment_id=row["comment_id"],
        received_at=from_text(row["received_at"]) or utcnow(),
    )


class ReportStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, conn: Connection, activity_id: str, reporter_id: str, reason: str, subject_id: str, comment_id: int | None
    ) -> bool:
        """One reported subject of a Flag; False when this Flag already reported it (a redelivery)."""
        cursor = await conn.execute(
            "INSERT INTO reports (activity_id, reporter_id, reason, subject_id, comment_id, received_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (activity_id, reporter_id, reason, subject_id, comment_id, to_text(utcnow())),
        )
        return cursor.rowcount > 0

    async def list_recent(self, limit: int) -> list[Report]:
        rows = await self.db.fetch_all(f"{_SELECT} ORDER BY received_at DESC, id DESC LIMIT ?", (limit,))
        return [_report(row) for row in rows]

    async def about_comments(self, comment_ids: Sequence[int]) -> dict[int, list[Report]]:
        """The reports naming each of these comments, oldest first (the moderation queue shows them)."""
        if not comment_ids:
            return {}
        marks = ", ".join("?" for _ in comment_ids)
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE comment_id IN ({marks}) ORDER BY received_at, id", tuple(comment_ids)
        )
        found: dict[int, list[Report]] = {}
        for row in rows:
            found.setdefault(row["comment_id"], []).append(_report(row))
        return found

    async def dismiss(self, conn: Connection, report_id: int) -> bool:
        cursor = await conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))
        return cursor.rowcount > 0
