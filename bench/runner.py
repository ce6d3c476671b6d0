"""Runs the benchmarks in order against one fedblog server process and writes the results."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import site as bench_site
from bench.benchmarks import common, fanout, inbox, memory, readpath, stampede
from bench.fixes import FIXES
from bench.machine import SERVER_CPU, describe, rss_kib
from bench.procs import children
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


async def run(
    sizes: Sizes, only: list[str] | None = None, keep: bool = False, profile: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], list[BenchResult]]:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="fedblog-bench-"))
    results: list[BenchResult] = []
    notes: list[str] = []
    rss_at_start: float | None = None
    try:
        port = common.free_port()
        site = bench_site.create_site(workdir / "site", port)
        read_posts, inbox_post = await seed(site, sizes)
        async with children(workdir, profile) as group:
            server = await group.start(
                "fedblog", "fedblog_server", ["--config", str(site.config), "--port", str(port)], SERVER_CPU,
                env=bench_site.SITE_ENV,
            )  # fmt: skip
            env = common.Env(sizes, site, group, server, workdir, read_posts, inbox_post, notes)
            rss_at_start = round(rss_kib(server.pid) / 1024, 1)
            for name, benchmark in BENCHMARKS.items():
                if only and name not in only:
                    continue
                print(f"bench: {name} …", flush=True)
                bench_started = time.monotonic()
                try:
                    result = await benchmark(env)
                except Exception as error:
                    traceback.print_exc()
                    result = BenchResult(name, error=f"{type(error).__name__}: {error}")
                result.details["seconds"] = round(time.monotonic() - bench_started, 1)
                if server.process.returncode is None:  # where the server's memory went, benchmark by benchmark
                    result.details["server_rss_mb_after"] = round(rss_kib(server.pid) / 1024, 1)
                    if os.environ.get("BENCH_TRACEMALLOC"):
                        result.details["server_heap"] = await server.call("heap")
                results.append(result)
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
