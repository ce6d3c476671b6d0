"""Memory and start: the resident size of the server that ran every other benchmark (holding the followers and
comments they left), then the time from launching the real `fedblog serve` to its first answered request."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import aiohttp

from bench import site as bench_site
from bench.benchmarks.common import Env, fetch, free_port, median
from bench.machine import SERVER_CPU, pinned, resident_split, rss_kib
from bench.procs import REPO_ROOT
from bench.results import BenchResult, Check, below, info
from fedblog.heap import IDLE_SECONDS, TRIM_AFTER_SECONDS
from fedblog.store.followers import FollowerStore

NAME = "Memory and start"
MEMORY_LIMIT_MB = 150
START_LIMIT_S = 1.0  # issue 13's target
START_TIMEOUT = 30.0
# The size a user sees once the load is over: read this long after the last request, when the server has had its
# chance to hand freed memory back (fedblog/heap.py: a trim 1 s after a page of megabytes, and 1 to 2 s after the
# last inbox activity or delivery of a burst), with a second to spare. The size right after the read and the peak
# are reported beside it: nothing is hidden by waiting.
SETTLE_SECONDS = 2 * max(TRIM_AFTER_SECONDS, IDLE_SECONDS) + 1.0


async def counts(env: Env) -> tuple[int, int]:
    async with bench_site.site_context(env.site) as ctx:
        followers = await FollowerStore(ctx.db).count()
        comments = sum((await ctx.comments.count_by_status()).values())
    return followers, comments


def serve_environ(env: Env) -> dict[str, str]:
    """The site's environment, with bytecode kept (in the work directory) as an installed fedblog has it: with
    PYTHONDONTWRITEBYTECODE set (as on the development machines) every start compiled fedblog's ~250 modules
    from source, 0.3 s of the start."""
    environ = {**env.site.environ(), "PYTHONPYCACHEPREFIX": str(env.workdir / "pycache")}
    environ.pop("PYTHONDONTWRITEBYTECODE", None)
    return environ


async def compile_modules(env: Env) -> None:
    """Untimed: import what `fedblog serve` imports once, so that its bytecode exists, as after an install."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import fedblog.app, fedblog.cli.site", cwd=REPO_ROOT, env=serve_environ(env)
    )
    await asyncio.wait_for(process.wait(), START_TIMEOUT)


async def time_to_first_answer(env: Env) -> tuple[float, int]:
    """Launch `fedblog serve`, GET / until it answers 200; (seconds, resident KiB then)."""
    port = free_port()
    argv = [sys.executable, "-m", "fedblog", "--config", str(env.site.config), "serve", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    log = (env.workdir / "logs" / "fedblog-serve.log").open("ab")
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *pinned(argv, SERVER_CPU), cwd=REPO_ROOT, env=serve_environ(env), stdout=log, stderr=log
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while time.monotonic() - started < START_TIMEOUT:
                try:
                    async with session.get(url) as response:
                        await response.read()
                        if response.status == 200:
                            return time.monotonic() - started, rss_kib(process.pid)
                except aiohttp.ClientError:
                    pass
                if process.returncode is not None:
                    raise RuntimeError(f"fedblog serve exited with {process.returncode}")
                await asyncio.sleep(0.005)
        raise RuntimeError(f"fedblog serve did not answer within {START_TIMEOUT:.0f} s")
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 10)
        log.close()


ARCHIVE_POST = "archive"  # seeded by bench/runner.py with `memory_comments` published comments


async def run(env: Env) -> BenchResult:
    result = BenchResult(NAME)
    followers, comments = await counts(env)
    # The long thread's page rendered (and cached) before the resident size is read.
    status, body, _ = await fetch(f"{env.site.base_url}/posts/{ARCHIVE_POST}")
    result.checks.append(Check(f"the page of the {env.sizes.memory_comments:,}-comment thread answers 200", 200,
                               status))  # fmt: skip
    result.details["long_thread_page_bytes"] = len(body)
    right_after_mb = rss_kib(env.server.pid) / 1024
    await asyncio.sleep(SETTLE_SECONDS)
    resident_mb = rss_kib(env.server.pid) / 1024
    peak_mb = rss_kib(env.server.pid, "VmHWM") / 1024
    split = resident_split(env.server.pid)
    result.details["server_resident_kib_settled"] = split
    result.details["server_caches"] = await env.server.call("caches")  # what it keeps, by cache, and malloc's view
    if os.environ.get("BENCH_TRACEMALLOC"):  # where the settled server's Python memory is, by line
        result.details["server_heap"] = await env.server.call("heap", limit=40)
    await env.group.stop(env.server)  # the start measurement gets the server core to itself
    await compile_modules(env)
    starts = []
    fresh_mb = []
    for _ in range(env.sizes.start_repeats):
        seconds, kib = await time_to_first_answer(env)
        starts.append(seconds)
        fresh_mb.append(kib / 1024)
    result.checks.append(Check("fedblog serve answered GET / with 200", env.sizes.start_repeats, len(starts)))
    what = (f"after 1–4, {followers:,} followers, {comments:,} comments ({env.sizes.memory_comments:,} published on "
            f"one post, its page read)")  # fmt: skip
    result.rows.append(
        below(f"resident memory {what}, {SETTLE_SECONDS:g} s after the last request (the load over, freed memory "
              "handed back)", resident_mb, "MB", MEMORY_LIMIT_MB)
    )  # fmt: skip
    if split:
        result.rows.append(info("of which anonymous (the heap), the rest mapped from files", split["anonymous"] / 1024,
                                "MB"))  # fmt: skip
    result.rows.append(info("resident memory of that server right after the page read", right_after_mb, "MB"))
    result.rows.append(info("peak resident memory of that server during 1–4", peak_mb, "MB"))
    result.rows.append(info("resident memory of a fresh `fedblog serve`, first answer", median(fresh_mb), "MB"))
    result.rows.append(below("`fedblog serve` to first answered request", median(starts), "s", START_LIMIT_S))
    result.details.update(followers=followers, comments=comments, start_seconds=starts, fresh_rss_mb=fresh_mb)
    return result
