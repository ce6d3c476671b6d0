"""The moderation queue's reads: one status at a time, filtered by origin and by words, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fedblog.models import Comment, CommentOrigin, CommentStatus
from fedblog.store.comments import _SELECT, row_to_comment
from fedblog.store.connection import Dialect
from fedblog.store.db import Database


@dataclass(frozen=True)
class QueueFilter:
    status: CommentStatus
    origin: CommentOrigin | None = None
    words: str = ""  # matched in the text, the author's name, handle and e-mail, and the post's title


def like_pattern(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Words match whatever their case: SQLite's LIKE ignores ASCII case, PostgreSQL's needs ILIKE for that.
_LIKE: dict[Dialect, str] = {"sqlite": "LIKE", "postgresql": "ILIKE"}


def _where(queue: QueueFilter, dialect: Dialect) -> tuple[str, list[object]]:
    clauses, params = ["c.status = ?"], list[object]([queue.status.value])
    if queue.origin is not None:
        clauses.append("c.origin = ?")
        params.append(queue.origin.value)
    for word in queue.words.split()[:8]:
        like = _LIKE[dialect]
        clauses.append(
            f"(c.content_html {like} ? ESCAPE '\\' OR a.name {like} ? ESCAPE '\\' OR COALESCE(a.handle, '') {like} ? "
            f"ESCAPE '\\' OR COALESCE(a.email, '') {like} ? ESCAPE '\\' OR p.title {like} ? ESCAPE '\\')"
        )
        params.extend([like_pattern(word)] * 5)
    return " WHERE " + " AND ".join(clauses), params


class ModerationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list_queue(self, queue: QueueFilter, limit: int, offset: int = 0) -> list[Comment]:
        where, params = _where(queue, self.db.dialect)
        rows = await self.db.fetch_all(
            f"{_SELECT}{where} ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [row_to_comment(row) for row in rows]

    async def count_queue(self, queue: QueueFilter) -> int:
        where, params = _where(queue, self.db.dialect)
        sql = (
            "SELECT COUNT(*) FROM comments c JOIN comment_authors a ON a.id = c.author_id "
            f"JOIN posts p ON p.id = c.post_id{where}"
        )
        return int(await self.db.fetch_value(sql, params))

    async def parents_of(self, parent_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """For "in reply to NAME: first words": each parent's author name and HTML."""
        if not parent_ids:
            return {}
        marks = ", ".join("?" for _ in parent_ids)
        rows = await self.db.fetch_all(
            f"SELECT c.id, a.name, c.content_html FROM comments c JOIN comment_authors a ON a.id = c.author_id "
            f"WHERE c.id IN ({marks})",
            tuple(parent_ids),
        )
        return {row[0]: (row[1], row[2]) for row in rows}
