"""Read path: the post page with 10 / 200 / 1,000 comments under a closed-loop load generator.

Ceiling: aiohttp serving the very bytes fedblog returned, from memory, on the same core, under the same load.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bench.benchmarks.common import Env, fetch, free_port, median, summary, with_cpu, write_json
from bench.load import LoadResult, Target, closed_loop
from bench.machine import SERVER_CPU
from bench.results import BenchResult, Check, at_least, at_most, info

NAME = "Read path"


async def run(env: Env) -> BenchResult:
    result = BenchResult(NAME)
    pages = []
    for count, slug in env.read_posts.items():
        url = f"{env.site.base_url}/posts/{slug}"
        status, body, content_type = await fetch(url)
        result.checks.append(Check(f"post page with {count} comments answers 200", 200, status))
        path = env.workdir / "pages" / f"read-{count}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        pages.append({"path": urlsplit(url).path, "as2": False, "content_type": content_type, "file": str(path)})
        result.details[f"page_bytes_{count}"] = len(body)
    port = free_port()
    spec = write_json(env.workdir / "pages" / "read-spec.json", pages)
    ceiling = await env.group.start("read-ceiling", "memory_server", ["--spec", str(spec), "--port", str(port)],
                                    SERVER_CPU)  # fmt: skip
    try:
        for count, slug in env.read_posts.items():
            target = [Target(f"/posts/{slug}")]
            runs: dict[str, list[LoadResult]] = {"fedblog": [], "ceiling": []}
            cpu_us: dict[str, list[float]] = {"fedblog": [], "ceiling": []}
            servers = (("fedblog", env.site.base_url, env.server.pid), ("ceiling", ceiling.ready["url"], ceiling.pid))
            for _ in range(env.sizes.repeats):
                for who, base, pid in servers:
                    load, cpu = await with_cpu(
                        pid, closed_loop(env.group, base, target, env.sizes.read_connections, env.sizes.read_seconds)
                    )
                    runs[who].append(load)
                    cpu_us[who].append(cpu * 1e6 / max(1, load.requests))
                    result.checks.append(
                        Check(f"{who}, {count} comments: answers other than 200", 0,
                              load.bad_status + load.socket_errors)
                    )  # fmt: skip
            result.details[f"runs_{count}"] = {who: [r.as_dict() for r in loads] for who, loads in runs.items()}
            rps = {who: summary(who, [r.rps for r in loads], True) for who, loads in runs.items()}
            p50 = {who: summary(who, [r.p50_ms for r in loads], False) for who, loads in runs.items()}
            p99 = {who: summary(who, [r.p99_ms for r in loads], False) for who, loads in runs.items()}
            label = f"{count:,} comments"
            if count == env.sizes.read_headline_comments:
                result.rows.append(at_least(f"{label}: requests/s", rps["fedblog"], rps["ceiling"], "req/s", 0.5))
                result.rows.append(at_most(f"{label}: p99 latency", p99["fedblog"], p99["ceiling"], "ms", 3.0))
            else:
                result.rows.append(info(f"{label}: requests/s", rps["fedblog"], "req/s", rps["ceiling"]))
                result.rows.append(info(f"{label}: p99 latency", p99["fedblog"], "ms", p99["ceiling"]))
            result.rows.append(info(f"{label}: p50 latency", p50["fedblog"], "ms", p50["ceiling"]))
            cpu = {who: median(values) for who, values in cpu_us.items()}
            result.rows.append(info(f"{label}: server CPU per request", cpu["fedblog"], "µs", cpu["ceiling"]))
    finally:
        await env.group.stop(ceiling)
    return result
