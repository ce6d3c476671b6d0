"""The inbox on PostgreSQL against SQLite: the inbox benchmark's load (signed Create(Note) replies from 200
accounts whose keys a loopback key server serves, 32 senders), POSTed to the same site on either database, runs
alternating, timed until every reply is stored as a comment (held for moderation, the default).

The cost of a stored reply is the CPU of the fedblog server process, and on PostgreSQL of the database server's
processes (not the backend of the driver's own connections, which counts the comments), divided by the replies.
"""

from __future__ import annotations

from statistics import median

from bench import site as bench_site
from bench.actors import actor_address, make_actors, save_actors
from bench.backends import POSTGRESQL, SQLITE
from bench.benchmarks.backends_common import BackendEnv
from bench.benchmarks.common import free_port
from bench.benchmarks.inbox import count_comments, probe_count, wait_for_comments
from bench.machine import LOAD_CPU, SERVER_CPU
from bench.procs import Child
from bench.results import BenchResult, Check, compared, info
from bench.site import BenchSite
from fedblog.context import Context

NAME = "PostgreSQL: inbox"
COST_LIMIT = 1.3
POST = "inbox-target"


async def store_replies(
    env: BackendEnv, site: BenchSite, backend: str, load: Child, first: int, probe: int = 0
) -> dict[str, float]:
    """`inbox_activities` replies numbered from `first`, sent to a fresh server process on `site`; then, untimed,
    `probe` more with every SQL statement counted (each one a round trip to the server on PostgreSQL)."""
    total = env.sizes.inbox_activities
    before = env.postgres.processes()
    async with bench_site.site_context(site) as poll_ctx:
        baseline = await count_comments(poll_ctx)
        # The backends of the driver's own connections, opened before any fedblog process runs: not its cost.
        drivers = frozenset(env.postgres.processes() - before)
        server = await env.group.start(
            f"inbox-{backend.lower()}-{first}", "fedblog_server",
            ["--config", str(site.config), "--port", str(site.port)], SERVER_CPU, env=site.child_env(),
        )  # fmt: skip
        try:
            await load.call("prepare", inbox=f"{site.base_url}/inbox", count=total, first=first,
                            post_url=f"{site.base_url}/posts/{POST}", blog_actor=f"{site.base_url}/actor")  # fmt: skip
            fedblog_before, database_before = env.cpu(backend, [server.pid], drivers)
            sent = await load.call("run", timeout=300, concurrency=env.sizes.client_concurrency)
            stored, stored_at = await wait_for_comments(poll_ctx, baseline + total)
            fedblog_after, database_after = env.cpu(backend, [server.pid], drivers)
            counted = await count_statements(site, server, load, poll_ctx, baseline + total, first + total, probe,
                                             env.sizes.client_concurrency)  # fmt: skip
        finally:
            await env.group.stop(server)
    return {
        **counted,
        "answered_202": sent["statuses"].get("202", 0),
        "stored": stored - baseline,
        "seconds": max(stored_at, sent["finished"]) - sent["started"],
        "fedblog_cpu": fedblog_after - fedblog_before,
        "database_cpu": database_after - database_before,
    }


async def count_statements(
    site: BenchSite,
    server: Child,
    load: Child,
    poll_ctx: Context,
    stored: int,
    first: int,
    probe: int,
    concurrency: int,
) -> dict[str, float]:
    """`probe` more replies with the server's SQL statements counted by verb: per reply, statements and commits."""
    if not probe:
        return {}
    await load.call("prepare", inbox=f"{site.base_url}/inbox", count=probe, first=first,
                    post_url=f"{site.base_url}/posts/{POST}", blog_actor=f"{site.base_url}/actor")  # fmt: skip
    await server.call("trace_start")
    await load.call("run", timeout=300, concurrency=concurrency)  # as the timed run: batches shared alike
    probe_stored, _ = await wait_for_comments(poll_ctx, stored + probe)
    traced = await server.call("trace_stop")
    statements = traced["statements"]
    counted = {
        "probe_stored": probe_stored - stored,
        "statements_per_reply": sum(statements.values()) / probe,
        "commits_per_reply": statements.get("COMMIT", 0) / probe,
    }
    if traced.get("round_trips") is not None:  # PostgreSQL: statements held and sent together are one trip
        counted["round_trips_per_reply"] = traced["round_trips"] / probe
    return counted


async def run(env: BackendEnv) -> BenchResult:
    result = BenchResult(NAME)
    sizes = env.sizes
    total = sizes.inbox_activities
    pair = env.site_pair("inbox")
    for backend in (SQLITE, POSTGRESQL):
        async with bench_site.site_context(pair.on(backend)) as ctx:
            await bench_site.publish_post(ctx, POST, "The post that fediverse replies answer")
    port = free_port(actor_address(0))
    actors = save_actors(env.workdir / "inbox-backends" / "actors.json",
                         make_actors(sizes.inbox_actors, sizes.inbox_actor_hosts, port))  # fmt: skip
    keyserver = await env.group.start("keyserver", "keyserver", ["--actors", str(actors), "--port", str(port)],
                                      LOAD_CPU)  # fmt: skip
    load = await env.group.start("inbox-load", "inbox_load", ["--actors", str(actors)], LOAD_CPU)
    runs: dict[str, list[dict[str, float]]] = {SQLITE: [], POSTGRESQL: []}
    try:
        for repeat in range(sizes.repeats):
            for backend in (SQLITE, POSTGRESQL):
                last = repeat == sizes.repeats - 1
                probe = probe_count(total) if last else 0
                done = await store_replies(env, pair.on(backend), backend, load, repeat * total, probe)
                runs[backend].append(done)
                who = f"{backend}, run {repeat + 1}"
                if probe:
                    result.checks.append(Check(f"{who}: counted replies stored", probe, int(done["probe_stored"])))
                result.checks.append(Check(f"{who}: activities answered 202", total, int(done["answered_202"])))
                result.checks.append(Check(f"{who}: replies stored as comments", total, int(done["stored"])))
    finally:
        await env.group.stop(load)
        await env.group.stop(keyserver)
    cost = {backend: median([per_reply_ms(done, total) for done in done_runs]) for backend, done_runs in runs.items()}
    rate = {backend: median([total / done["seconds"] for done in done_runs]) for backend, done_runs in runs.items()}
    what = f"{total:,} replies from {sizes.inbox_actors} accounts"
    result.rows.append(compared(
        f"{what}: CPU per stored reply on PostgreSQL (fedblog and database server) against SQLite",
        cost[POSTGRESQL], cost[SQLITE], "ms", COST_LIMIT, SQLITE,
    ))  # fmt: skip
    database = median([done["database_cpu"] * 1000 / total for done in runs[POSTGRESQL]])
    result.rows.append(info(f"{what}: of which the PostgreSQL server", database, "ms"))
    result.rows.append(info(f"{what}: stored/s on PostgreSQL against SQLite", rate[POSTGRESQL], "activities/s",
                            rate[SQLITE]))  # fmt: skip
    counted = {backend: done_runs[-1] for backend, done_runs in runs.items()}
    per_reply = f"per reply ({probe_count(total):,} more, counted after the timed run)"
    result.rows.append(info(f"SQL statements {per_reply} on PostgreSQL against SQLite",
                            counted[POSTGRESQL]["statements_per_reply"], "statements",
                            counted[SQLITE]["statements_per_reply"]))  # fmt: skip
    result.rows.append(info(f"commits {per_reply} on PostgreSQL against SQLite",
                            counted[POSTGRESQL]["commits_per_reply"], "commits",
                            counted[SQLITE]["commits_per_reply"]))  # fmt: skip
    if "round_trips_per_reply" in counted[POSTGRESQL]:
        result.rows.append(info(f"round trips to the PostgreSQL server {per_reply}",
                                counted[POSTGRESQL]["round_trips_per_reply"], "trips"))  # fmt: skip
    result.details["runs"] = runs
    return result


def per_reply_ms(done: dict[str, float], total: int) -> float:
    return (done["fedblog_cpu"] + done["database_cpu"]) * 1000 / total
