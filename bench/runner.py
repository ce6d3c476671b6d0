"""Runs the benchmarks in order against one fedblog server process and writes the results."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import site as bench_site
from bench.benchmarks import (
    backends_fanout,
    backends_inbox,
    backends_read,
    common,
    fanout,
    inbox,
    memory,
    readpath,
    stampede,
)
from bench.benchmarks.backends_common import BackendEnv
from bench.fixes import FIXES
from bench.machine import SERVER_CPU, describe, resident_split, rss_kib
from bench.procs import Child, ChildError, Children, children
from bench.results import BenchResult, write_results
from bench.sizes import Sizes

Benchmark = Callable[[common.Env], Awaitable[BenchResult]]
BENCHMARKS: dict[str, Benchmark] = {
    "read": readpath.run,
    "stampede": stampede.run,
    "inbox": inbox.run,
    "fanout": fanout.run,
    "memory": memory.run,
}
# The same loads on PostgreSQL against SQLite, each on a site of its own, after the others (the server above is
# stopped by then): a private PostgreSQL cluster is started for them.
BackendBenchmark = Callable[[BackendEnv], Awaitable[BenchResult]]
BACKEND_BENCHMARKS: dict[str, BackendBenchmark] = {
    "pg-inbox": backends_inbox.run,
    "pg-fanout": backends_fanout.run,
    "pg-read": backends_read.run,
}
RESULTS_DIR = Path(__file__).resolve().parent / "results"


async def seed(site: bench_site.BenchSite, sizes: Sizes) -> tuple[dict[int, str], str]:
    """Posts and comments made before the server starts (no follower yet, so nothing is delivered)."""
    read_posts = {}
    async with bench_site.site_context(site) as ctx:
        for count in sizes.read_comments:
            slug = f"read-{count}"
            await bench_site.publish_post(ctx, slug, f"A post with {count} comments")
            await bench_site.add_comments(ctx, slug, count)
            read_posts[count] = slug
        await bench_site.publish_post(ctx, "inbox-target", "The post that fediverse replies answer")
        # The memory benchmark's long thread: `memory_comments` published comments on one post (its page is read
        # before the resident size is), beside the inbox benchmark's replies added later.
        await bench_site.publish_post(ctx, memory.ARCHIVE_POST, "An older post with a long thread")
        await bench_site.add_comments(ctx, memory.ARCHIVE_POST, sizes.memory_comments, start=100_000)
    return read_posts, "inbox-target"


@dataclass
class MainServer:
    site: bench_site.BenchSite
    child: Child
    read_posts: dict[int, str]
    inbox_post: str


async def start_server(workdir: Path, group: Children, sizes: Sizes) -> MainServer:
    """The seeded SQLite site and the fedblog server the first benchmarks share, pinned to the server core."""
    port = common.free_port()
    site = bench_site.create_site(workdir / "site", port)
    read_posts, inbox_post = await seed(site, sizes)
    server = await group.start(
        "fedblog", "fedblog_server", ["--config", str(site.config), "--port", str(port)], SERVER_CPU,
        env=bench_site.SITE_ENV,
    )  # fmt: skip
    return MainServer(site, server, read_posts, inbox_post)


async def timed(name: str, benchmark: Awaitable[BenchResult], server: Child | None) -> BenchResult:
    """One benchmark run, its failure recorded as its result; how long it took, and the server's memory after."""
    print(f"bench: {name} …", flush=True)
    started = time.monotonic()
    try:
        result = await benchmark
    except Exception as error:
        traceback.print_exc()
        result = BenchResult(name, error=f"{type(error).__name__}: {error}")
    result.details["seconds"] = round(time.monotonic() - started, 1)
    if server is not None and server.process.returncode is None:  # where the server's memory went
        result.details["server_rss_mb_after"] = round(rss_kib(server.pid) / 1024, 1)
        result.details["server_resident_kib_after"] = resident_split(server.pid)  # anonymous (heap) and file-backed
        try:  # what it keeps, by cache; and with BENCH_TRACEMALLOC, where its Python memory is, by line
            result.details["server_caches"] = await server.call("caches", timeout=30)
            if os.environ.get("BENCH_TRACEMALLOC"):
                result.details["server_heap"] = await server.call("heap", timeout=300)
        except ChildError as error:  # a server still busy (tracing makes it slow) costs the figures, not the run
            result.details["server_caches_error"] = str(error)[:200]
    return result


async def run_on_backends(chosen: list[str], environment: AbstractContextManager[BackendEnv]) -> list[BenchResult]:
    """The benchmarks comparing the backends, on a PostgreSQL cluster of their own; one line each if it cannot
    start (PostgreSQL not installed)."""
    try:
        with environment as env:
            env.notes.append(
                "PostgreSQL rows: the Ceiling column holds the reference measured in the same run (SQLite, or one web "
                "process); cost is CPU of fedblog's processes and of the PostgreSQL server's (docs/BENCHMARKS.md)."
            )
            return [await timed(name, BACKEND_BENCHMARKS[name](env), None) for name in chosen]
    except RuntimeError as error:  # the cluster did not start (raised before any benchmark ran)
        print(f"bench: PostgreSQL: {error}", flush=True)
        return [BenchResult(name, error=f"PostgreSQL: {error}") for name in chosen]


async def run(
    sizes: Sizes, only: list[str] | None = None, keep: bool = False, profile: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], list[BenchResult]]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="fedblog-bench-"))
    results: list[BenchResult] = []
    notes: list[str] = []
    rss_at_start: float | None = None
    try:
        async with children(workdir, profile) as group:
            if not only or set(only) & BENCHMARKS.keys():
                server = await start_server(workdir, group, sizes)
                env = common.Env(sizes, server.site, group, server.child, workdir, server.read_posts,
                                 server.inbox_post, notes)  # fmt: skip
                rss_at_start = round(rss_kib(server.child.pid) / 1024, 1)
                for name, benchmark in BENCHMARKS.items():
                    if not only or name in only:
                        results.append(await timed(name, benchmark(env), env.server))
                await group.stop(env.server)
            chosen = [name for name in BACKEND_BENCHMARKS if not only or name in only]
            if chosen:
                results += await run_on_backends(chosen, BackendEnv.starting(sizes, group, workdir, notes))
    finally:
        if keep:
            print(f"bench: work directory kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": sizes.name,
        "machine": describe(),
        "elapsed_seconds": time.monotonic() - started,
        "notes": notes,
        "fixes": list(FIXES),
        "server_rss_mb_at_start": rss_at_start,
    }
    return report, results


def save(report: dict[str, Any], results: list[BenchResult], directory: Path = RESULTS_DIR) -> Path:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d") + ("" if report["mode"] == "full" else f"-{report['mode']}")
    return write_results(directory, stamp, report, results)
