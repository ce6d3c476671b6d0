"""Fan-out on PostgreSQL against SQLite: a post published to 10,000 followers on 1,000 hosts (the fan-out
benchmark's headline size), its deliveries sent by `fedblog worker` processes — one on SQLite, one and then two on
PostgreSQL — while the server that published it runs no worker (as `fedblog serve --no-worker`).

The cost of a delivery is the CPU of every process doing the site's work (the server that published, the workers,
and on PostgreSQL the database server's processes) divided by the deliveries the sinks verified; on SQLite the
database's work runs in fedblog's own threads and is counted there. Everything runs on the server core, so two
workers share one core: their row shows what claiming from one queue costs and that no job goes out twice, not a
speed-up. Time to the last delivery is shown beside it.
"""

from __future__ import annotations

import asyncio
import math
import time
from statistics import median

from bench import commands
from bench import site as bench_site
from bench.backends import POSTGRESQL, SQLITE
from bench.benchmarks.backends_common import BackendEnv
from bench.benchmarks.common import free_port
from bench.benchmarks.fanout import DELIVERY_TIMEOUT, reset, start_sinks_for, wait_for_deliveries
from bench.hosts import host_address
from bench.machine import SERVER_CPU
from bench.procs import Child
from bench.results import BenchResult, Check, compared, info
from bench.site import BenchSite
from fedblog.store.deliveries import DeliveryStore

NAME = "PostgreSQL: fan-out"
COST_LIMIT = 1.3
# Configurations measured: (backend, worker processes); the first is the reference.
CONFIGURATIONS = ((SQLITE, 1), (POSTGRESQL, 1), (POSTGRESQL, 2))
# After the last verified delivery, the workers still record the results: counted in the cost.
SETTLE_SECONDS = 0.5


def label(backend: str, workers: int) -> str:
    return f"{backend}, {workers} worker{'s' if workers > 1 else ''}"


async def seed(site: BenchSite, followers: int, hosts: int, port: int) -> list[str]:
    async with bench_site.site_context(site) as ctx:
        return await bench_site.replace_followers(ctx, followers, hosts, port)


async def drained(site: BenchSite) -> None:
    """Until no delivery is waiting: a worker's first start on a site sends the profile's Update to every
    follower host, which must not be counted as the post's deliveries."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    async with bench_site.site_context(site) as ctx:
        store = DeliveryStore(ctx.db)
        while (counts := await store.counts()).get("pending", 0) + counts.get("retrying", 0):
            if time.monotonic() > deadline:
                raise RuntimeError(f"deliveries still queued after {DELIVERY_TIMEOUT:.0f} s: {counts}")
            await asyncio.sleep(0.05)


async def deliver(
    env: BackendEnv, site: BenchSite, backend: str, workers: int, sinks: list[Child], expected: int, repeat: int
) -> dict[str, object]:
    """One post published by a server without a worker, delivered by `workers` `fedblog worker` processes."""
    name = label(backend, workers).replace(", ", "-").replace(" ", "-").lower()
    server = await env.group.start(
        f"{name}-server", "fedblog_server", ["--config", str(site.config), "--port", str(site.port), "--no-worker"],
        SERVER_CPU, env=site.child_env(),
    )  # fmt: skip
    started_workers: list[commands.Command] = []
    try:
        for n in range(workers):
            worker = await commands.start(site, env.workdir, f"{name}-worker-{n + 1}", ["worker"], SERVER_CPU)
            started_workers.append(worker)
            await worker.wait_logged(commands.WORKING)
        pids = [server.pid, *(worker.pid for worker in started_workers)]
        await drained(site)
        await reset(sinks)
        fedblog_before, database_before = env.cpu(backend, pids)
        published = await server.call(
            "publish", slug=f"compare-{name}-{repeat}", title=f"Fan-out on {label(backend, workers)} ({repeat})",
            body=bench_site.POST_MARKDOWN,
        )  # fmt: skip
        tally = await wait_for_deliveries(sinks, expected, published["started"])
        await asyncio.sleep(SETTLE_SECONDS)
        fedblog_after, database_after = env.cpu(backend, pids)
    finally:
        for worker in started_workers:
            await worker.stop()
        await env.group.stop(server)
    tally["publish_seconds"] = published["committed"] - published["started"]  # the post and its jobs committed
    tally["fedblog_cpu"] = fedblog_after - fedblog_before
    tally["database_cpu"] = database_after - database_before
    return tally


async def run(env: BackendEnv) -> BenchResult:
    result = BenchResult(NAME)
    sizes = env.sizes
    hosts = sizes.fanout_headline_hosts
    port = free_port(host_address(0))
    pair = env.site_pair("fanout")
    inboxes = []
    for backend in (SQLITE, POSTGRESQL):
        inboxes = await seed(pair.on(backend), sizes.fanout_followers, hosts, port)
    sinks = await start_sinks_for(env.group, env.workdir / "fanout-backends", pair.sqlite, hosts, port)
    runs: dict[tuple[str, int], list[dict[str, object]]] = {configuration: [] for configuration in CONFIGURATIONS}
    try:
        for repeat in range(sizes.repeats):
            for backend, workers in CONFIGURATIONS:
                tally = await deliver(env, pair.on(backend), backend, workers, sinks, len(inboxes), repeat)
                runs[(backend, workers)].append(tally)
                who = f"{label(backend, workers)}, run {repeat + 1}"
                result.checks.append(Check(f"{who}: verified deliveries (each once)", len(inboxes),
                                           int(tally["verified"])))  # type: ignore[call-overload]  # fmt: skip
                result.checks.append(Check(f"{who}: rejected signatures", 0, int(tally["rejected"])))  # type: ignore[call-overload]
    finally:
        for sink in sinks:
            await env.group.stop(sink)
    deliveries = len(inboxes)
    cost = {key: median([cost_ms(t, deliveries) for t in done]) for key, done in runs.items()}
    seconds = {key: median([float(t["seconds"] or math.inf) for t in done]) for key, done in runs.items()}
    reference = CONFIGURATIONS[0]
    what = f"{sizes.fanout_followers:,} followers on {hosts:,} hosts"
    for key in CONFIGURATIONS[1:]:
        result.rows.append(compared(
            f"{what}, {label(*key)}: CPU per delivery (fedblog and database server) against {label(*reference)}",
            cost[key], cost[reference], "ms", COST_LIMIT, label(*reference),
        ))  # fmt: skip
    for key in CONFIGURATIONS:
        database = median([float(t["database_cpu"]) * 1000 / deliveries for t in runs[key]])  # type: ignore[arg-type]
        result.rows.append(info(f"{what}, {label(*key)}: of which the database server", database, "ms"))
    for key in CONFIGURATIONS:
        result.rows.append(info(f"{what}, {label(*key)}: deliveries/s", deliveries / seconds[key], "deliveries/s",
                                deliveries / seconds[reference]))  # fmt: skip
    result.details["runs"] = {label(*key): done for key, done in runs.items()}
    result.details["cost_ms"] = {label(*key): value for key, value in cost.items()}
    return result


def cost_ms(tally: dict[str, object], deliveries: int) -> float:
    return (float(tally["fedblog_cpu"]) + float(tally["database_cpu"])) * 1000 / deliveries  # type: ignore[arg-type]
