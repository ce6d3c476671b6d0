"""Inbox: 5,000 signed Create(Note) replies from 200 remote accounts (their keys served by a loopback key
server), POSTed to the blog's shared inbox; timed from the first request until all are stored as comments.

Ceiling: a minimal aiohttp inbox (bench/roles/inbox_ceiling.py) that verifies the same signatures with keys
already in memory and commits one row per activity, fed by the same load generator with the same concurrency.
"""

from __future__ import annotations

import asyncio
import time

from bench import site as bench_site
from bench.actors import actor_address, make_actors, save_actors
from bench.benchmarks.common import Env, free_port, summary
from bench.machine import LOAD_CPU, SERVER_CPU
from bench.results import BenchResult, Check, at_least, info
from fedblog.context import Context

NAME = "Inbox"
STORE_TIMEOUT = 300.0


async def count_comments(ctx: Context) -> int:
    return sum((await ctx.comments.count_by_status()).values())


async def wait_for_comments(ctx: Context, expected: int) -> tuple[int, float]:
    """Poll the database (read-only, from the driver) until `expected` comments exist; (count, when).

    `ctx` is opened before the clock starts: opening one (~30 ms) is the driver's time, not fedblog's."""
    deadline = time.monotonic() + STORE_TIMEOUT
    while True:
        count = await count_comments(ctx)
        now = time.monotonic()
        if count >= expected or now > deadline:
            return count, now
        await asyncio.sleep(0.02)


async def run(env: Env) -> BenchResult:
    result = BenchResult(NAME)
    sizes = env.sizes
    total = sizes.inbox_activities
    port = free_port(actor_address(0))
    actors_path = save_actors(
        env.workdir / "inbox" / "actors.json", make_actors(sizes.inbox_actors, sizes.inbox_actor_hosts, port)
    )
    keyserver = await env.group.start("keyserver", "keyserver", ["--actors", str(actors_path), "--port", str(port)],
                                      LOAD_CPU)  # fmt: skip
    load = await env.group.start("inbox-load", "inbox_load", ["--actors", str(actors_path)], LOAD_CPU)
    post_url = f"{env.site.base_url}/posts/{env.inbox_post}"
    blog_actor = f"{env.site.base_url}/actor"
    try:
        ceiling_seconds = []
        for repeat in range(sizes.repeats):
            ceiling = await env.group.start(
                f"inbox-ceiling-{repeat}", "inbox_ceiling",
                ["--actors", str(actors_path), "--database", str(env.workdir / "inbox" / f"ceiling-{repeat}.sqlite3"),
                 "--port", str(free_port())],
                SERVER_CPU,
            )  # fmt: skip
            await load.call("prepare", inbox=f"{ceiling.ready['url']}/inbox", count=total, first=0,
                            post_url=post_url, blog_actor=blog_actor)  # fmt: skip
            sent = await load.call("run", timeout=STORE_TIMEOUT, concurrency=sizes.client_concurrency)
            rows = (await ceiling.call("count"))["rows"]
            await env.group.stop(ceiling)
            result.checks.append(Check(f"ceiling, run {repeat + 1}: activities answered 202", total,
                                       sent["statuses"].get("202", 0)))  # fmt: skip
            result.checks.append(Check(f"ceiling, run {repeat + 1}: rows stored", total, rows))
            ceiling_seconds.append(sent["finished"] - sent["started"])
        async with bench_site.site_context(env.site) as poll_ctx:
            baseline = await count_comments(poll_ctx)
            await load.call("prepare", inbox=f"{env.site.base_url}/inbox", count=total, first=0,
                            post_url=post_url, blog_actor=blog_actor)  # fmt: skip
            await env.server.call("trace_start")
            cpu_before = (await env.server.call("cpu"))["cpu_seconds"]
            sent = await load.call("run", timeout=STORE_TIMEOUT, concurrency=sizes.client_concurrency)
            stored, stored_at = await wait_for_comments(poll_ctx, baseline + total)
        cpu_ms = ((await env.server.call("cpu"))["cpu_seconds"] - cpu_before) * 1000 / total
        statements = (await env.server.call("trace_stop"))["statements"]
        fedblog_seconds = max(stored_at, sent["finished"]) - sent["started"]
        result.checks.append(Check("fedblog: activities answered 202", total, sent["statuses"].get("202", 0)))
        result.checks.append(Check("fedblog: replies stored as comments", total, stored - baseline))
        fetches = await keyserver.call("report")
        result.details.update(
            fedblog_statuses=sent["statuses"], fedblog_seconds=fedblog_seconds, ceiling_seconds=ceiling_seconds,
            key_server_fetches=fetches, answered_seconds=sent["finished"] - sent["started"],
            sql_statements=statements,
        )  # fmt: skip
        ceiling_rate = total / summary("ceiling", ceiling_seconds, False)
        label = f"{total:,} replies from {sizes.inbox_actors} accounts"
        result.rows.append(at_least(f"{label}: stored/s", total / fedblog_seconds, ceiling_rate, "activities/s", 0.6))
        result.rows.append(
            info(f"{label}: answered/s", total / (sent["finished"] - sent["started"]), "activities/s", ceiling_rate)
        )
        result.rows.append(info("remote actor documents fetched", fetches["actor"], "fetches", sizes.inbox_actors))
        # What the ceiling does per activity: BEGIN, INSERT, COMMIT.
        result.rows.append(info("SQL statements per reply", sum(statements.values()) / total, "statements", 3))
        result.rows.append(info("commits per reply", statements.get("COMMIT", 0) / total, "commits", 1))
        result.rows.append(info("server CPU per reply", cpu_ms, "ms"))
    finally:
        await env.group.stop(load)
        await env.group.stop(keyserver)
    return result
