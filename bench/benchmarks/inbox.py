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
from bench.procs import Child
from bench.results import BenchResult, Check, Row, at_least, info
from fedblog.context import Context

NAME = "Inbox"
STORE_TIMEOUT = 300.0
# Replies published as they arrive (moderation open): what a popular post's regulars get. Against the same ceiling.
PUBLISHED_TARGET = 0.7
PUBLISHED_POST = "inbox-published"
# "The cost per reply flat": the last thousand replies take at most this much longer than the first thousand.
FLAT_CHUNK = 1_000
FLAT_SPREAD = 1.25


def probe_count(total: int) -> int:
    """Replies sent after the timed run, with SQL statements counted: the sqlite trace callback costs ~4 % of the
    server's CPU per reply, so it must not run while fedblog is timed against a ceiling that has none."""
    return max(1, total // 20)


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
            cpu_before = (await env.server.call("cpu"))["cpu_seconds"]
            sent = await load.call("run", timeout=STORE_TIMEOUT, concurrency=sizes.client_concurrency)
            stored, stored_at = await wait_for_comments(poll_ctx, baseline + total)
            cpu_ms = ((await env.server.call("cpu"))["cpu_seconds"] - cpu_before) * 1000 / total
            # Untimed: a few more replies (new ids, same accounts) with every SQL statement counted.
            probe = probe_count(total)
            await load.call("prepare", inbox=f"{env.site.base_url}/inbox", count=probe, first=total,
                            post_url=post_url, blog_actor=blog_actor)  # fmt: skip
            await env.server.call("trace_start")
            probed = await load.call("run", timeout=STORE_TIMEOUT, concurrency=sizes.client_concurrency)
            probe_stored, _ = await wait_for_comments(poll_ctx, stored + probe)
            statements = (await env.server.call("trace_stop"))["statements"]
        fedblog_seconds = max(stored_at, sent["finished"]) - sent["started"]
        result.checks.append(Check("fedblog: activities answered 202", total, sent["statuses"].get("202", 0)))
        result.checks.append(Check("fedblog: replies stored as comments", total, stored - baseline))
        result.checks.append(Check("fedblog, counted replies: stored", probe, probe_stored - stored))
        result.checks.append(Check("fedblog, counted replies: answered 202", probe, probed["statuses"].get("202", 0)))
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
        per_reply = f"per reply ({probe:,} more, counted after the timed run)"
        result.rows.append(info(f"SQL statements {per_reply}", sum(statements.values()) / probe, "statements", 3))
        result.rows.append(info(f"commits {per_reply}", statements.get("COMMIT", 0) / probe, "commits", 1))
        result.rows.append(info("server CPU per reply", cpu_ms, "ms"))
        await published_replies(env, load, result, ceiling_rate, first=total + probe)
    finally:
        await env.group.stop(load)
        await env.group.stop(keyserver)
    return result


def chunk_seconds(answered_at: list[float], size: int) -> tuple[int, float, float]:
    """(n, seconds taken by the first n answers, by the last n): n is `size`, or half of a smaller run."""
    size = max(2, min(size, len(answered_at) // 2))
    return size, answered_at[size - 1] - answered_at[0], answered_at[-1] - answered_at[-size]


async def published_replies(env: Env, load: Child, result: BenchResult, ceiling_rate: float, first: int) -> None:
    """The same replies, published as they arrive (moderation open) into a thread of their own that grows from 0
    to `inbox_activities` comments during the run."""
    total = env.sizes.inbox_activities
    published = await env.server.call(
        "publish", slug=PUBLISHED_POST, title="A post whose replies are published", body=bench_site.POST_MARKDOWN
    )
    previous = (await env.server.call("moderation", policy="open"))["previous"]
    blog_actor = f"{env.site.base_url}/actor"
    try:
        async with bench_site.site_context(env.site) as poll_ctx:
            baseline = await count_comments(poll_ctx)
            shown_before = (await poll_ctx.comments.count_by_status()).get("approved", 0)
            await load.call("prepare", inbox=f"{env.site.base_url}/inbox", count=total, first=first,
                            post_url=published["url"], blog_actor=blog_actor)  # fmt: skip
            cpu_before = (await env.server.call("cpu"))["cpu_seconds"]
            sent = await load.call("run", timeout=STORE_TIMEOUT, concurrency=env.sizes.client_concurrency)
            stored, stored_at = await wait_for_comments(poll_ctx, baseline + total)
            cpu_ms = ((await env.server.call("cpu"))["cpu_seconds"] - cpu_before) * 1000 / total
            shown = (await poll_ctx.comments.count_by_status()).get("approved", 0)
            probe = probe_count(total)
            await load.call("prepare", inbox=f"{env.site.base_url}/inbox", count=probe, first=first + total,
                            post_url=published["url"], blog_actor=blog_actor)  # fmt: skip
            await env.server.call("trace_start")
            probed = await load.call("run", timeout=STORE_TIMEOUT, concurrency=env.sizes.client_concurrency)
            probe_stored, _ = await wait_for_comments(poll_ctx, stored + probe)
            statements = (await env.server.call("trace_stop"))["statements"]
    finally:
        await env.server.call("moderation", policy=previous)
    seconds = max(stored_at, sent["finished"]) - sent["started"]
    result.checks.append(Check("fedblog, published replies: answered 202", total, sent["statuses"].get("202", 0)))
    result.checks.append(Check("fedblog, published replies: stored", total, stored - baseline))
    result.checks.append(Check("fedblog, published replies: published", total, shown - shown_before))
    result.checks.append(Check("fedblog, counted published replies: stored", probe, probe_stored - stored))
    result.checks.append(Check("fedblog, counted published replies: answered 202", probe,
                               probed["statuses"].get("202", 0)))  # fmt: skip
    result.details.update(published_seconds=seconds, published_statuses=sent["statuses"],
                          published_sql_statements=statements, published_shown=shown)  # fmt: skip
    label = f"{total:,} replies published into a thread growing from 0 to {total:,}"
    result.rows.append(at_least(f"{label}: stored/s", total / seconds, ceiling_rate, "activities/s",
                                PUBLISHED_TARGET))  # fmt: skip
    chunk, early, late = chunk_seconds(sent["answered_at"], FLAT_CHUNK)
    spread = late / early if early > 0 else float("inf")
    result.rows.append(Row(f"{label}: last {chunk:,} replies' time / first {chunk:,}'s", spread, "×",
                           None, None, f"≤ {FLAT_SPREAD:g}", spread <= FLAT_SPREAD))  # fmt: skip
    per_reply = f"per published reply ({probe:,} more, counted after the timed run)"
    result.rows.append(info(f"SQL statements {per_reply}", sum(statements.values()) / probe, "statements", 3))
    result.rows.append(info(f"commits {per_reply}", statements.get("COMMIT", 0) / probe, "commits", 1))
    result.rows.append(info("server CPU per published reply", cpu_ms, "ms"))
