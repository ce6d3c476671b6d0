"""Preview stampede: right after a post is published, many servers fetch the Note (AS2), the actor and the HTML
page at once. Every answer must succeed; throughput and p99 are compared with aiohttp serving the same three
responses from memory (the read-path ceiling), under the same load generator.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bench import site as bench_site
from bench.benchmarks.common import AS2_ACCEPT, Env, fetch, free_port, median, summary, with_cpu, write_json
from bench.load import LoadResult, Target, closed_loop
from bench.machine import SERVER_CPU
from bench.results import BenchResult, Check, at_least, info

NAME = "Stampede"
ACTIVITY_JSON = "application/activity+json"


def targets_for(post_path: str) -> list[Target]:
    return [
        Target(post_path, (("Accept", ACTIVITY_JSON),)),
        Target("/actor", (("Accept", AS2_ACCEPT),)),
        Target(post_path, (("Accept", "text/html"),)),
    ]


async def run(env: Env) -> BenchResult:
    result = BenchResult(NAME)
    sizes = env.sizes
    seconds = max(1.0, sizes.read_seconds / 2)
    runs: dict[str, list[LoadResult]] = {"fedblog": [], "ceiling": []}
    cpu_us: dict[str, list[float]] = {"fedblog": [], "ceiling": []}
    post_path = ""
    for repeat in range(sizes.repeats):
        published = await env.server.call(
            "publish", slug=f"stampede-{repeat}", title=f"Everybody fetches this one ({repeat})",
            body=bench_site.POST_MARKDOWN,
        )  # fmt: skip
        post_path = urlsplit(published["url"]).path
        load, cpu = await with_cpu(
            env.server.pid,
            closed_loop(env.group, env.site.base_url, targets_for(post_path), sizes.stampede_clients, seconds),
        )
        runs["fedblog"].append(load)
        cpu_us["fedblog"].append(cpu * 1e6 / max(1, load.requests))
    pages = []
    for n, target in enumerate(targets_for(post_path)):
        accept = dict(target.headers)["Accept"]
        status, body, content_type = await fetch(env.site.base_url + target.path, accept)
        result.checks.append(Check(f"GET {target.path} ({accept.split(';')[0]}) answers 200", 200, status))
        path = env.workdir / "pages" / f"stampede-{n}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        as2 = "json" in accept
        pages.append({"path": target.path, "as2": as2, "content_type": content_type, "file": str(path)})
    spec = write_json(env.workdir / "pages" / "stampede-spec.json", pages)
    ceiling = await env.group.start("stampede-ceiling", "memory_server",
                                    ["--spec", str(spec), "--port", str(free_port())], SERVER_CPU)  # fmt: skip
    try:
        for _ in range(sizes.repeats):
            load, cpu = await with_cpu(
                ceiling.pid,
                closed_loop(env.group, ceiling.ready["url"], targets_for(post_path), sizes.stampede_clients, seconds),
            )
            runs["ceiling"].append(load)
            cpu_us["ceiling"].append(cpu * 1e6 / max(1, load.requests))
    finally:
        await env.group.stop(ceiling)
    for who, loads in runs.items():
        for n, load in enumerate(loads):
            result.checks.append(Check(f"{who}, run {n + 1}: failed requests", 0, load.bad_status + load.socket_errors))
    result.details["runs"] = {who: [r.as_dict() for r in loads] for who, loads in runs.items()}
    rps = {who: summary(who, [r.rps for r in loads], True) for who, loads in runs.items()}
    p99 = {who: summary(who, [r.p99_ms for r in loads], False) for who, loads in runs.items()}
    env.measured["stampede_ceiling_p99_ms"] = p99["ceiling"]
    label = f"{sizes.stampede_clients:,} clients fetching Note, actor and page"
    result.rows.append(at_least(f"{label}: requests/s", rps["fedblog"], rps["ceiling"], "req/s", 0.5))
    result.rows.append(info(f"{label}: p99 latency", p99["fedblog"], "ms", p99["ceiling"]))
    cpu_per_request = {who: median(values) for who, values in cpu_us.items()}
    result.rows.append(
        info(f"{label}: server CPU per request", cpu_per_request["fedblog"], "µs", cpu_per_request["ceiling"])
    )
    errors = sum(r.bad_status + r.socket_errors for r in runs["fedblog"])
    result.rows.append(info("failed requests (target 0)", errors, "requests"))
    return result
