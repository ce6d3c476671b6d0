"""What a query layer costs per statement: hand-written SQL on sqlite3 (what fedblog's store runs) against the same
statements built with SQLAlchemy Core, on a real fedblog database (migrations applied, a post with 50 comments);
and what one trip to the database thread costs: the store's own Connection against aiosqlite's (used before).

`python -m bench.store_layer` (SQLAlchemy Core is measured when installed: `pip install 'sqlalchemy>=2'`; it is not
a dependency of fedblog). Synchronous on one thread, so the figure is the layer's own CPU, without the event loop
or the database thread's hand-off, which both designs pay alike. docs/DATABASES.md quotes it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedblog.store.db import Database

ROUNDS = 5
CALLS = 2000

POST_BY_SLUG = "SELECT * FROM posts WHERE slug = ? AND draft = 0"
THREAD = (
    "SELECT c.*, a.name AS a_name FROM comments c JOIN comment_authors a ON a.id = c.author_id "
    "WHERE c.post_id = ? AND c.status = 'approved' ORDER BY c.created_at, c.id"
)
RECORD = (
    "INSERT INTO inbox_activities (id, signer_id, actor_id, type, object_id, body, status, error, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def make_site(path: Path) -> None:
    db = await Database.open(path)
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO posts (slug, title, body_markdown, body_html, summary, language, draft, published_at, "
                "created_at) VALUES ('hello', 'Hello', 'Body', '<p>Body</p>', '', 'en', 0, '2026-01-01T00:00:00Z', "
                "'2026-01-01T00:00:00Z')"
            )
            author = await conn.execute(
                "INSERT INTO comment_authors (kind, name, created_at) VALUES ('visitor', 'Ada', '2026-01-01')"
            )
            await conn.executemany(
                "INSERT INTO comments (post_id, author_id, origin, status, content_html, created_at) "
                "VALUES (1, ?, 'web', 'approved', ?, ?)",
                [(author.lastrowid, f"<p>Comment {n}</p>", f"2026-01-01T00:{n:02d}:00Z") for n in range(50)],
            )
    finally:
        await db.close()


def per_call_us(run: Callable[[int], Any]) -> float:
    """The median over ROUNDS of the CPU time per call, in microseconds: CPU, not wall-clock, so that other work
    on a shared machine does not count (all of it runs on this one thread)."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.process_time()
        for n in range(CALLS):
            run(n)
        rounds.append((time.process_time() - started) / CALLS * 1e6)
    return statistics.median(rounds)


def hand_written(path: Path) -> dict[str, float]:
    raw = sqlite3.connect(path, isolation_level=None)
    raw.row_factory = sqlite3.Row
    try:
        raw.execute("BEGIN")
        figures = {
            "post by slug": per_call_us(lambda _: raw.execute(POST_BY_SLUG, ("hello",)).fetchall()),
            "thread of 50 comments": per_call_us(lambda _: raw.execute(THREAD, (1,)).fetchall()),
            "inbox record insert": per_call_us(
                lambda n: raw.execute(
                    RECORD, (f"h{n}-{time.perf_counter_ns()}", "s", "a", "Create", None, "{}", "processed", None, "t")
                )
            ),
        }
        raw.execute("ROLLBACK")
        return figures
    finally:
        raw.close()


def sqlalchemy_core(path: Path) -> dict[str, float] | None:
    try:
        import sqlalchemy as sa  # optional: only this measurement uses it
    except ImportError:
        return None
    engine = sa.create_engine(f"sqlite:///{path}")
    meta = sa.MetaData()
    posts = sa.Table("posts", meta, autoload_with=engine)
    comments = sa.Table("comments", meta, autoload_with=engine)
    authors = sa.Table("comment_authors", meta, autoload_with=engine)
    inbox = sa.Table("inbox_activities", meta, autoload_with=engine)
    with engine.connect() as conn:
        tx = conn.begin()

        def post_by_slug(_: int) -> Any:
            query = sa.select(posts).where(posts.c.slug == "hello", posts.c.draft == 0)
            return conn.execute(query).all()

        def thread(_: int) -> Any:
            query = (
                sa.select(comments, authors.c.name.label("a_name"))
                .join(authors, authors.c.id == comments.c.author_id)
                .where(comments.c.post_id == 1, comments.c.status == "approved")
                .order_by(comments.c.created_at, comments.c.id)
            )
            return conn.execute(query).all()

        def record(n: int) -> Any:
            values = {
                "id": f"s{n}-{time.perf_counter_ns()}",
                "signer_id": "s",
                "actor_id": "a",
                "type": "Create",
                "object_id": None,
                "body": "{}",
                "status": "processed",
                "error": None,
                "received_at": "t",
            }
            return conn.execute(sa.insert(inbox).values(**values))

        figures = {
            "post by slug": per_call_us(post_by_slug),
            "thread of 50 comments": per_call_us(thread),
            "inbox record insert": per_call_us(record),
        }
        tx.rollback()
    engine.dispose()
    return figures


async def trips(path: Path) -> dict[str, float]:
    """CPU per awaited one-row read through each driver thread (run it pinned to one core: `taskset -c 0`)."""
    import aiosqlite  # in the test extras, for this comparison and the inbox ceiling

    from fedblog.store.connection import Connection

    ours = await Connection.open(str(path), ["PRAGMA busy_timeout=5000"], "bench-trip")
    theirs = await aiosqlite.connect(str(path), isolation_level=None)
    try:

        async def cpu_per_trip(read: Callable[[], Any]) -> float:
            rounds = []
            for _ in range(ROUNDS):
                started = time.process_time()
                for _ in range(CALLS):
                    await read()
                rounds.append((time.process_time() - started) / CALLS * 1e6)
            return statistics.median(rounds)

        return {
            "store Connection": await cpu_per_trip(lambda: ours.fetch_all(POST_BY_SLUG, ("hello",))),
            "aiosqlite": await cpu_per_trip(lambda: theirs.execute_fetchall(POST_BY_SLUG, ("hello",))),
        }
    finally:
        await ours.close()
        await theirs.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "layer.sqlite3"
        asyncio.run(make_site(path))
        ours = hand_written(path)
        core = sqlalchemy_core(path)
        trip = asyncio.run(trips(path))
    print(f"CPU per statement, median of {ROUNDS} rounds of {CALLS} calls (µs)")
    print(f"{'statement':<24} {'hand-written':>12} {'SQLAlchemy Core':>16} {'extra':>8}")
    for name, value in ours.items():
        if core is None:
            print(f"{name:<24} {value:>12.1f} {'not installed':>16}")
        else:
            print(f"{name:<24} {value:>12.1f} {core[name]:>16.1f} {core[name] - value:>8.1f}")
    print(f"\nCPU per trip to the database thread (a post by slug, awaited), median of {ROUNDS} rounds (µs)")
    for name, value in trip.items():
        print(f"{name:<24} {value:>12.1f}")


if __name__ == "__main__":
    main()
