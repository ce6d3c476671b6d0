"""The read path on PostgreSQL with one and two web processes against SQLite with one: the read benchmark's
headline page (a post with 200 comments) under its closed-loop load (64 connections), served by the real
`fedblog serve --no-worker`, and `fedblog serve --processes 2 --no-worker` for two.

One web process is pinned to the server core, as everywhere else, with the PostgreSQL server (idle here: the page
is served from the page cache); the load generator has the load core to itself. Two web processes are given every
core but the load core where the machine has 3 or more, and on 2 cores both: there they share the load core with
the load generator (measured on 2026-12-04: wrk ~0.4-0.5 of a core at 8,000-12,700 requests/s), so their ratio is
a floor of what a machine with a core for the load would show. (They were once started without cores of their
own and inherited the driver's: both web processes and wrk on the load core, 0.79x.) Each configuration's cores
during the load are shown beside it: fedblog's, the load generator's and the machine's idle ones.
"""

from __future__ import annotations

import time
from statistics import median

from bench import commands
from bench import site as bench_site
from bench.backends import POSTGRESQL, SQLITE, process_table, tree
from bench.benchmarks.backends_common import BackendEnv
from bench.benchmarks.common import fetch, free_port
from bench.load import LoadResult, Target, closed_loop
from bench.machine import LOAD_CPU, MACHINE_CPUS, SERVER_CPU, WEB_CPUS, idle_seconds
from bench.results import BenchResult, Check, compared, info
from bench.site import BenchSite

NAME = "PostgreSQL: read path"
# Two web processes against one, on PostgreSQL: the target.
PROCESSES_TARGET = 1.6
CONFIGURATIONS = ((SQLITE, 1), (POSTGRESQL, 1), (POSTGRESQL, 2))
SLUG = "read"


def label(backend: str, processes: int) -> str:
    return f"{backend}, {processes} web process{'es' if processes > 1 else ''}"


async def measure(env: BackendEnv, site: BenchSite, backend: str, processes: int, result: BenchResult) -> dict:
    port = free_port()
    args = ["serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    if processes > 1:
        args += ["--processes", str(processes)]
    name = f"read-{backend.lower()}-{processes}"
    cpu = SERVER_CPU if processes == 1 else WEB_CPUS
    async with commands.running(site, env.workdir, name, args, cpu, commands.SERVING, processes) as command:
        base = f"http://127.0.0.1:{port}"
        status, _, _ = await fetch(f"{base}/posts/{SLUG}")  # rendered once, then served from the page cache
        result.checks.append(Check(f"{label(backend, processes)}: the post page answers 200", 200, status))
        fedblog_before, database_before = env.cpu(backend, [command.pid])
        idle_before, started = idle_seconds(), time.monotonic()
        load: LoadResult = await closed_loop(env.group, base, [Target(f"/posts/{SLUG}")],
                                             env.sizes.read_connections, env.sizes.read_seconds)  # fmt: skip
        idle_after, elapsed = idle_seconds(), time.monotonic() - started
        fedblog_after, database_after = env.cpu(backend, [command.pid])
        # `serve --processes N` is a parent and its N web processes
        process_count = len(tree(command.pid, process_table())) - 1 if processes > 1 else 1
    result.checks.append(Check(f"{label(backend, processes)}: answers other than 200", 0,
                               load.bad_status + load.socket_errors))  # fmt: skip
    result.checks.append(Check(f"{label(backend, processes)}: web processes serving", processes, process_count))
    cpu_us = ((fedblog_after - fedblog_before) + (database_after - database_before)) * 1e6 / max(1, load.requests)
    cores = {  # of the machine's, on average over the load (wrk's start and end included)
        "fedblog": (fedblog_after - fedblog_before) / elapsed,
        "database": (database_after - database_before) / elapsed,
        "load generator": load.loader_cpu_seconds / elapsed,
        "idle": (idle_after - idle_before) / elapsed,
    }
    return {**load.as_dict(), "cpu_us_per_request": cpu_us, "cores": cores}


def sharing() -> str:
    """Which cores each phase had, for the headline row."""
    if WEB_CPUS is None:
        return "nothing pinned"
    web = ",".join(str(cpu) for cpu in WEB_CPUS)
    if LOAD_CPU in WEB_CPUS:
        return f"1 process on CPU {SERVER_CPU} with PostgreSQL, 2 on CPUs {web} sharing CPU {LOAD_CPU} with wrk"
    return f"1 process on CPU {SERVER_CPU} with PostgreSQL, 2 on CPUs {web}, the load generator alone on {LOAD_CPU}"


async def run(env: BackendEnv) -> BenchResult:
    result = BenchResult(NAME)
    comments = env.sizes.read_headline_comments
    pair = env.site_pair("read")
    for backend in (SQLITE, POSTGRESQL):
        async with bench_site.site_context(pair.on(backend)) as ctx:
            await bench_site.publish_post(ctx, SLUG, f"A post with {comments} comments")
            await bench_site.add_comments(ctx, SLUG, comments)
    runs: dict[tuple[str, int], list[dict]] = {configuration: [] for configuration in CONFIGURATIONS}
    for _ in range(env.sizes.repeats):
        for backend, processes in CONFIGURATIONS:
            runs[(backend, processes)].append(await measure(env, pair.on(backend), backend, processes, result))
    rps = {key: median([float(r["rps"]) for r in done]) for key, done in runs.items()}
    cpu = {key: median([float(r["cpu_us_per_request"]) for r in done]) for key, done in runs.items()}
    p99 = {key: median([float(r["p99_ms"]) for r in done]) for key, done in runs.items()}
    one, two, reference = (POSTGRESQL, 1), (POSTGRESQL, 2), CONFIGURATIONS[0]
    what = f"post page with {comments:,} comments"
    result.rows.append(compared(f"{what}, {label(*two)} against 1 ({sharing()}): requests/s",
                                rps[two], rps[one], "req/s", PROCESSES_TARGET, "1 process"))  # fmt: skip
    for key in CONFIGURATIONS:
        result.rows.append(info(f"{what}, {label(*key)}: requests/s", rps[key], "req/s", rps[reference]))
    for key in CONFIGURATIONS:
        result.rows.append(info(f"{what}, {label(*key)}: CPU per request (fedblog and database server)", cpu[key],
                                "µs", cpu[reference]))  # fmt: skip
    for key in CONFIGURATIONS:
        result.rows.append(info(f"{what}, {label(*key)}: p99 latency", p99[key], "ms", p99[reference]))
    for key in CONFIGURATIONS:
        for who in ("fedblog", "load generator", "idle"):
            used = median([float(r["cores"][who]) for r in runs[key]])
            result.rows.append(info(f"{what}, {label(*key)}: cores during the load, {who} (of {len(MACHINE_CPUS)})",
                                    used, "cores"))  # fmt: skip
    result.details["runs"] = {label(*key): done for key, done in runs.items()}
    return result
