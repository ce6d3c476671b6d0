"""Inbox: 5,000 signed Create(Note) replies from 200 remote accounts (their keys served by a loopback key
server), POSTed to the blog's shared inbox; timed from the first request until all are stored as comments.

Ceiling: a minimal aiohttp inbox (bench/roles/inbox_ceiling.py) that verifies the same signatures with keys
already in memory and commits one row per activity, fed by the same load generator with the same concurrency.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from bench import site as bench_site
from bench.actors import actor_address, make_actors, save_actors
from bench.benchmarks.common import Env, fetch, free_port, summary, write_json
from bench.load import Target, closed_loop
from bench.machine import LOAD_CPU, SERVER_CPU
from bench.procs import Child
from bench.results import BenchResult, Check, Row, at_least, info
from fedblog.context import Context

NAME = "Inbox"
STORE_TIMEOUT = 300.0
# Replies published as they arrive (moderation open): what a popular post's regulars get. Against the same ceiling.
PUBLISHED_TARGET = 0.7
PUBLISHED_POST = "inbox-published"
REGULARS_POST = "inbox-regulars"
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
        following = await published_replies(env, load, result, ceiling_rate, total + probe, PUBLISHED_POST, "open",
                                            "replies published (moderation open)")  # fmt: skip
        await thread_page(env, result, PUBLISHED_POST)
        # The regulars of a popular post: one comment of each account approved (as the admin's bulk approval
        # does), then their replies are published under the default first_time moderation.
        approved = await env.server.call("approve_regulars")
        result.checks.append(Check("regulars approved (one comment each)", sizes.inbox_actors, approved["approved"]))
        await published_replies(env, load, result, ceiling_rate, following, REGULARS_POST, None,
                                "replies from trusted regulars (first_time)")  # fmt: skip
    finally:
        await env.group.stop(load)
        await env.group.stop(keyserver)
    return result


def chunk_seconds(answered_at: list[float], size: int) -> tuple[int, float, float]:
    """(n, seconds taken by the first n answers, by the last n): n is `size`, or half of a smaller run."""
    size = max(2, min(size, len(answered_at) // 2))
    return size, answered_at[size - 1] - answered_at[0], answered_at[-1] - answered_at[-size]


async def published_replies(
    env: Env,
    load: Child,
    result: BenchResult,
    ceiling_rate: float,
    first: int,
    slug: str,
    policy: str | None,
    label: str,
) -> int:
    """The same replies, published as they arrive into a thread of their own that grows from 0 to
    `inbox_activities` comments during the run: with moderation `policy` (open), or under the site's own policy
    (first_time) from accounts already trusted. Returns the next reply number."""
    total = env.sizes.inbox_activities
    published = await env.server.call(
        "publish", slug=slug, title="A post whose replies are published", body=bench_site.POST_MARKDOWN
    )
    previous = (await env.server.call("moderation", policy=policy))["previous"] if policy else None
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
        if previous is not None:
            await env.server.call("moderation", policy=previous)
    seconds = max(stored_at, sent["finished"]) - sent["started"]
    who = f"fedblog, {label}"
    result.checks.append(Check(f"{who}: answered 202", total, sent["statuses"].get("202", 0)))
    result.checks.append(Check(f"{who}: stored", total, stored - baseline))
    result.checks.append(Check(f"{who}: published", total, shown - shown_before))
    result.checks.append(Check(f"{who}, counted: stored", probe, probe_stored - stored))
    result.checks.append(Check(f"{who}, counted: answered 202", probe, probed["statuses"].get("202", 0)))
    result.details[slug] = {"seconds": seconds, "statuses": sent["statuses"], "sql_statements": statements,
                            "shown": shown}  # fmt: skip
    row = f"{total:,} {label} into a thread growing from 0 to {total:,}"
    result.rows.append(at_least(f"{row}: stored/s", total / seconds, ceiling_rate, "activities/s",
                                PUBLISHED_TARGET))  # fmt: skip
    chunk, early, late = chunk_seconds(sent["answered_at"], FLAT_CHUNK)
    spread = late / early if early > 0 else float("inf")
    result.rows.append(Row(f"{row}: last {chunk:,} replies' time / first {chunk:,}'s", spread, "×",
                           None, None, f"≤ {FLAT_SPREAD:g}", spread <= FLAT_SPREAD))  # fmt: skip
    per_reply = f"per reply, {label} ({probe:,} more, counted after the timed run)"
    result.rows.append(info(f"SQL statements {per_reply}", sum(statements.values()) / probe, "statements", 3))
    result.rows.append(info(f"commits {per_reply}", statements.get("COMMIT", 0) / probe, "commits", 1))
    result.rows.append(info(f"server CPU per reply, {label}", cpu_ms, "ms"))
    return first + total + probe


async def thread_page(env: Env, result: BenchResult, slug: str) -> None:
    """The post page of the thread the published replies made (thousands of comments): its first read after the
    last reply (rendered), then reads under load against the same bytes served from memory."""
    url = f"{env.site.base_url}/posts/{slug}"
    started = time.monotonic()
    status, body, content_type = await fetch(url)
    render_ms = (time.monotonic() - started) * 1000
    # One more comment (a commit from another process, as the CLI's), then the next read: only it is rendered.
    async with bench_site.site_context(env.site) as ctx:
        await bench_site.add_comments(ctx, slug, 1, start=900_000)
    started = time.monotonic()
    status, body, content_type = await fetch(url)
    next_ms = (time.monotonic() - started) * 1000
    result.checks.append(Check(f"the page of the thread of {slug} answers 200", 200, status))
    comments = body.count(b'class="comment"') + body.count(b'class="comment ')
    page = env.workdir / "pages" / f"{slug}.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_bytes(body)
    spec = write_json(
        env.workdir / "pages" / f"{slug}-spec.json",
        [{"path": urlsplit(url).path, "as2": False, "content_type": content_type, "file": str(page)}],
    )
    ceiling = await env.group.start(f"{slug}-ceiling", "memory_server", ["--spec", str(spec), "--port",
                                    str(free_port())], SERVER_CPU)  # fmt: skip
    runs: dict[str, list[float]] = {"fedblog": [], "ceiling": []}
    p99: dict[str, list[float]] = {"fedblog": [], "ceiling": []}
    try:
        target = [Target(urlsplit(url).path)]
        for _ in range(env.sizes.repeats):
            for who, base in (("fedblog", env.site.base_url), ("ceiling", ceiling.ready["url"])):
                loaded = await closed_loop(env.group, base, target, env.sizes.read_connections, env.sizes.read_seconds)
                runs[who].append(loaded.rps)
                p99[who].append(loaded.p99_ms)
                result.checks.append(Check(f"{who}, thread page: answers other than 200", 0,
                                           loaded.bad_status + loaded.socket_errors))  # fmt: skip
    finally:
        await env.group.stop(ceiling)
    rps = {who: summary(who, values, True) for who, values in runs.items()}
    latency = {who: summary(who, values, False) for who, values in p99.items()}
    label = f"post page with {comments:,} published comments ({len(body) // 1024:,} KB)"
    result.details["thread_page"] = {"bytes": len(body), "comments": comments, "render_ms": render_ms,
                                     "next_ms": next_ms, "rps": runs, "p99": p99}  # fmt: skip
    result.rows.append(info(f"{label}: first read (the whole thread rendered)", render_ms, "ms"))
    result.rows.append(info(f"{label}: read after one more comment (the others' fragments reused)", next_ms, "ms"))
    result.rows.append(at_least(f"{label}: requests/s", rps["fedblog"], rps["ceiling"], "req/s", 0.5))
    result.rows.append(info(f"{label}: p99 latency", latency["fedblog"], "ms", latency["ceiling"]))
