"""fedblog under test: the app exactly as `fedblog serve` builds it (create_app, AppRunner, TCPSite), plus
commands on stdin so the driver can publish a post in-process, as the admin's form does, and read memory use."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import time
from collections import Counter
from typing import Any

from aiohttp import web

from bench.machine import resident_split, rss_kib
from bench.roles.child import serve_commands
from bench.roles.held import held_in_caches
from fedblog.app import create_app, settle_garbage_collector
from fedblog.config import load_settings
from fedblog.heap import tune_malloc
from fedblog.models import CommentOrigin, CommentStatus
from fedblog.services.moderation import MAX_BULK, moderate_many
from fedblog.services.posts import PostInput, PostService
from fedblog.store.moderation import ModerationStore, QueueFilter
from fedblog.web.keys import CONTEXT_KEY


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    # As `fedblog serve --no-worker`: the deliveries are left to `fedblog worker` processes.
    parser.add_argument("--no-worker", action="store_true")
    args = parser.parse_args()
    if os.environ.get("BENCH_TRACEMALLOC"):  # its value: frames kept per allocation (slower the more)
        import tracemalloc

        tracemalloc.start(int(os.environ["BENCH_TRACEMALLOC"]) if os.environ["BENCH_TRACEMALLOC"].isdigit() else 1)
    settings = load_settings(args.config)
    tune_malloc()  # as `fedblog serve` does before its database threads start
    runner = web.AppRunner(create_app(settings, background=not args.no_worker), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    settle_garbage_collector()  # as `fedblog serve` does once started
    ctx = runner.app[CONTEXT_KEY]

    async def publish(request: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        post = await PostService(ctx).publish(
            PostInput(title=request["title"], body_markdown=request["body"], slug=request["slug"])
        )
        return {"started": started, "committed": time.monotonic(), "url": ctx.urls.post(post.slug)}

    async def moderation(request: dict[str, Any]) -> dict[str, Any]:
        """Switch the comment moderation policy, as the admin's settings page does; returns the previous one."""
        previous = ctx.settings.comments.moderation
        comments = dataclasses.replace(ctx.settings.comments, moderation=request["policy"])
        ctx.settings = dataclasses.replace(ctx.settings, comments=comments)
        return {"previous": previous}

    async def approve_regulars(_request: dict[str, Any]) -> dict[str, Any]:
        """One held fediverse comment of each account approved, as the admin's bulk approval does: their next
        replies are published under first_time moderation."""
        held = await ModerationStore(ctx.db).list_queue(
            QueueFilter(CommentStatus.PENDING, CommentOrigin.FEDIVERSE), 5_000
        )
        first_of_each: dict[str, int] = {}
        for comment in held:
            first_of_each.setdefault(comment.author.actor_id or "", comment.id)
        ids = list(first_of_each.values())[:MAX_BULK]
        return {"approved": await moderate_many(ctx, ids, "approve")}

    async def memory(_request: dict[str, Any]) -> dict[str, Any]:
        return {"rss_kib": rss_kib(os.getpid())}

    async def cpu(_request: dict[str, Any]) -> dict[str, Any]:
        """CPU seconds used so far by every thread of this process (the database threads too)."""
        return {"cpu_seconds": time.process_time()}

    statements: Counter[str] = Counter()

    def count_statement(sql: str) -> None:  # runs in the database threads; Counter updates are atomic enough here
        statements[sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"] += 1

    async def round_trips() -> int | None:
        """Exchanges with the database server so far (PostgreSQL's connections count them; SQLite has none)."""
        counts = [await connection.run(lambda raw: getattr(raw, "round_trips", None))
                  for connection in {ctx.db.connection, ctx.db.reader}]  # fmt: skip
        return None if None in counts else sum(count for count in counts if count is not None)

    trips_at_start: list[int | None] = [None]

    async def trace_start(_request: dict[str, Any]) -> dict[str, Any]:
        """Count the SQL statements fedblog runs from now on (by verb: SELECT, INSERT, COMMIT, …)."""
        statements.clear()
        for connection in {ctx.db.connection, ctx.db.reader}:  # writes, and reads outside transactions
            await connection.set_trace_callback(count_statement)
        trips_at_start[0] = await round_trips()
        return {}

    async def trace_stop(_request: dict[str, Any]) -> dict[str, Any]:
        for connection in {ctx.db.connection, ctx.db.reader}:
            await connection.set_trace_callback(None)
        trips, before = await round_trips(), trips_at_start[0]
        made = None if trips is None or before is None else trips - before
        return {"statements": dict(statements), "round_trips": made}

    async def heap(request: dict[str, Any]) -> dict[str, Any]:
        """Where Python memory is (BENCH_TRACEMALLOC=1 in the environment): the largest allocation sites."""
        import gc
        import tracemalloc

        gc.collect()
        if not tracemalloc.is_tracing():
            return {"tracing": False, "rss_kib": rss_kib(os.getpid()), "resident_kib": resident_split(os.getpid())}
        snapshot = tracemalloc.take_snapshot()
        top = snapshot.statistics(request.get("group_by", "lineno"))[: request.get("limit", 25)]
        return {
            "tracing": True,
            "rss_kib": rss_kib(os.getpid()),
            "resident_kib": resident_split(os.getpid()),
            "traced_kib": sum(stat.size for stat in snapshot.statistics("filename")) // 1024,
            "top": [f"{stat.size // 1024} KiB in {stat.count} blocks: {stat.traceback}" for stat in top],
        }

    async def caches(_request: dict[str, Any]) -> dict[str, Any]:
        """What the server keeps between requests, by cache (cheap: no tracing): entries, and bytes where counted."""
        return held_in_caches(runner.app)

    commands = {
        "caches": caches,
        "heap": heap,
        "approve_regulars": approve_regulars,
        "publish": publish,
        "memory": memory,
        "moderation": moderation,
        "cpu": cpu,
        "trace_start": trace_start,
        "trace_stop": trace_stop,
    }
    profile_path = os.environ.get("BENCH_CPROFILE")
    profiler = None
    if profile_path:  # the event loop's thread only, deterministic: call counts per reply (py-spy samples time)
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        await serve_commands(commands, {"url": settings.site.base_url})
    finally:
        if profiler is not None and profile_path:
            profiler.disable()
            profiler.dump_stats(profile_path)
        await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
