"""Fan-out: a post published to 10,000 followers spread over 100 / 1,000 / 10,000 hosts (one shared inbox each),
received by sink processes that verify every signature. Measured from the moment PostService.publish starts to
the last verified delivery.

Ceiling: a minimal sender (bench/roles/fanout_ceiling.py) signing and POSTing the same activity to the same
inboxes with the same concurrency, timed the same way (start to last verified delivery at the sinks).
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit

from bench import site as bench_site
from bench.benchmarks.common import Env, free_port, summary, with_cpu, write_json
from bench.benchmarks.stampede import targets_for
from bench.hosts import host_address
from bench.load import closed_loop
from bench.machine import LOAD_CPU, SERVER_CPU, pinned
from bench.procs import Child, Children
from bench.results import BenchResult, Check, Row, at_least, at_most, info
from bench.site import BenchSite
from fedblog.protocol.keys import load_private_key, public_key_pem

NAME = "Fan-out"
HOSTS_PER_SINK = 2_500  # each sink process holds ≤ 2,500 listening sockets plus their connections
DELIVERY_TIMEOUT = 300.0
FLAT_SPREAD = 1.5  # "cost per host flat": the largest per-host cost at most 1.5× the smallest
# A post published from the command line: timed from the command returning (as its author sees it).
CLI_TARGET = 0.8
CLI_FIRST_MS = 50.0
# The stampede while the fan-out runs: its p99 at most this many times the stampede ceiling's.
STAMPEDE_P99_SPREAD = 3.0
FEDBLOG = str(Path(sys.executable).with_name("fedblog"))


async def start_sinks(env: Env, hosts: int, port: int) -> list[Child]:
    return await start_sinks_for(env.group, env.workdir / "fanout", env.site, hosts, port)


async def start_sinks_for(group: Children, folder: Path, site: BenchSite, hosts: int, port: int) -> list[Child]:
    """Sinks for `hosts` follower hosts that accept what `site` signs (its key and key id)."""
    key = load_private_key(site.key_path.read_bytes())
    pem_path = folder / "blog-public.pem"
    pem_path.parent.mkdir(parents=True, exist_ok=True)
    pem_path.write_text(public_key_pem(key), encoding="utf-8")
    sinks = []
    for shard in range(math.ceil(hosts / HOSTS_PER_SINK)):
        addresses = [host_address(i) for i in range(shard * HOSTS_PER_SINK, min(hosts, (shard + 1) * HOSTS_PER_SINK))]
        spec = write_json(folder / f"sink-{shard}.json", addresses)
        sinks.append(
            await group.start(
                f"sink-{shard}", "sink",
                ["--addresses", str(spec), "--port", str(port), "--public-key", str(pem_path),
                 "--key-id", f"{site.base_url}/actor#main-key"],
                LOAD_CPU,
            )
        )  # fmt: skip
    return sinks


async def wait_for_deliveries(sinks: list[Child], expected: int, started: float) -> dict[str, object]:
    """Poll the sinks until `expected` hosts got a verified delivery (or time runs out); sum their tallies."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        reports = [await sink.call("report") for sink in sinks]
        hosts = sum(int(r["hosts"]) for r in reports)
        if hosts >= expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # let duplicates, if any, arrive and be counted
    reports = [await sink.call("report") for sink in sinks]
    last = max((r["last_at"] for r in reports if r["last_at"]), default=None)
    first = min((r["first_at"] for r in reports if r["first_at"]), default=None)
    reasons: dict[str, int] = {}
    for r in reports:
        for reason, count in r["reasons"].items():
            reasons[reason] = reasons.get(reason, 0) + count
    return {
        "hosts": sum(int(r["hosts"]) for r in reports),
        "verified": sum(int(r["verified"]) for r in reports),
        "rejected": sum(int(r["rejected"]) for r in reports),
        "reasons": reasons,
        "seconds": (last - started) if last else None,
        "first_seconds": (first - started) if first else None,
    }


async def reset(sinks: list[Child]) -> None:
    for sink in sinks:
        await sink.call("reset")


async def sample_body(sinks: list[Child]) -> str:
    for sink in sinks:
        body = (await sink.call("report", body=True)).get("sample_body")
        if body:
            return str(body)
    raise RuntimeError("no delivery reached the sinks")


async def run(env: Env) -> BenchResult:
    result = BenchResult(NAME)
    sizes = env.sizes
    port = free_port(host_address(0))
    sinks = await start_sinks(env, max(sizes.fanout_hosts), port)
    ceiling = await env.group.start(
        "fanout-ceiling", "fanout_ceiling",
        ["--key", str(env.site.key_path), "--key-id", f"{env.site.base_url}/actor#main-key"], SERVER_CPU,
    )  # fmt: skip
    per_host: dict[str, dict[int, float]] = {"fedblog": {}, "ceiling": {}}
    try:
        for hosts in sizes.fanout_hosts:
            async with bench_site.site_context(env.site) as ctx:
                inboxes = await bench_site.replace_followers(ctx, sizes.fanout_followers, hosts, port)
            runs: dict[str, list[dict[str, object]]] = {"fedblog": [], "ceiling": []}
            for repeat in range(sizes.repeats):
                await reset(sinks)
                cpu_before = (await env.server.call("cpu"))["cpu_seconds"]
                published = await env.server.call(
                    "publish", slug=f"fanout-{hosts}-{repeat}", title=f"Fan-out to {hosts} hosts ({repeat})",
                    body=bench_site.POST_MARKDOWN,
                )  # fmt: skip
                tally = await wait_for_deliveries(sinks, len(inboxes), published["started"])
                tally["cpu_seconds"] = (await env.server.call("cpu"))["cpu_seconds"] - cpu_before
                tally["committed_to_first"] = first_after(tally, published["committed"] - published["started"])
                runs["fedblog"].append(tally)
                body = await sample_body(sinks)
                await reset(sinks)
                sent = await ceiling.call(
                    "run", timeout=DELIVERY_TIMEOUT, inboxes=inboxes, body=body, concurrency=sizes.client_concurrency
                )
                tally = await wait_for_deliveries(sinks, len(inboxes), sent["started"])
                tally["cpu_seconds"] = sent["cpu_seconds"]
                runs["ceiling"].append(tally)
            for who, done in runs.items():
                for n, tally in enumerate(done):
                    result.checks.append(
                        Check(
                            f"{who}, {hosts} hosts, run {n + 1}: verified deliveries",
                            len(inboxes),
                            int(tally["verified"]),
                        )
                    )  # type: ignore[call-overload]
                    result.checks.append(
                        Check(f"{who}, {hosts} hosts, run {n + 1}: rejected signatures", 0, int(tally["rejected"]))
                    )  # type: ignore[call-overload]
            headline = hosts == sizes.fanout_headline_hosts
            cli = await cli_runs(env, sinks, hosts, len(inboxes), result) if headline else []
            result.details[f"runs_{hosts}"] = runs
            seconds = {
                who: summary(who, [float(t["seconds"] or math.inf) for t in done], False) for who, done in runs.items()
            }
            rate = {who: len(inboxes) / s for who, s in seconds.items()}
            for who, s in seconds.items():
                per_host[who][hosts] = s / len(inboxes) * 1000
            label = f"{sizes.fanout_followers:,} followers on {hosts:,} hosts"
            if hosts == sizes.fanout_headline_hosts:
                result.rows.append(at_least(f"{label}: deliveries/s", rate["fedblog"], rate["ceiling"],
                                            "deliveries/s", 0.7))  # fmt: skip
            else:
                result.rows.append(info(f"{label}: deliveries/s", rate["fedblog"], "deliveries/s", rate["ceiling"]))
            result.rows.append(info(f"{label}: time to last delivery", seconds["fedblog"], "s", seconds["ceiling"]))
            first_ms = median([float(t["committed_to_first"]) for t in runs["fedblog"]]) * 1000
            result.rows.append(info(f"{label}: publish committed → first delivery", first_ms, "ms"))
            if cli:
                result.details[f"runs_{hosts}_from_the_cli"] = cli
                # Deliveries may all be done before the command has exited (it pokes the worker, then closes).
                cli_seconds = max(0.001, median([float(t["seconds"] or math.inf) for t in cli]))
                result.rows.append(at_least(
                    f"{label}, `fedblog post publish` returned → last delivery: deliveries/s",
                    len(inboxes) / cli_seconds, rate["ceiling"], "deliveries/s", CLI_TARGET,
                ))  # fmt: skip
                cli_first_ms = median([float(t["returned_to_first"]) for t in cli]) * 1000
                result.rows.append(Row(
                    f"{label}, `fedblog post publish` returned → first delivery", cli_first_ms, "ms", None, None,
                    f"≤ {CLI_FIRST_MS:g} ms", cli_first_ms <= CLI_FIRST_MS,
                ))  # fmt: skip
            cpu = {
                who: summary(who, [float(t["cpu_seconds"]) for t in done], False) * 1000 / len(inboxes)
                for who, done in runs.items()
            }
            result.rows.append(info(f"{label}: sender CPU per delivery", cpu["fedblog"], "ms", cpu["ceiling"]))
            if headline:
                await stampede_during_fanout(env, sinks, hosts, len(inboxes), seconds["fedblog"], result)
        result.rows.append(flatness(per_host))
        result.details["ms_per_host"] = per_host
    finally:
        await env.group.stop(ceiling)
        for sink in sinks:
            await env.group.stop(sink)
    return result


async def stampede_during_fanout(
    env: Env, sinks: list[Child], hosts: int, expected: int, fanout_seconds: float, result: BenchResult
) -> None:
    """A post published in-process, and at once the stampede (Note, actor, page) on it while its fan-out runs,
    for about as long as a fan-out takes: every answer must succeed, p99 within 3× the stampede ceiling's."""
    await reset(sinks)
    seconds = max(1.0, fanout_seconds if math.isfinite(fanout_seconds) else 1.0)
    published = await env.server.call(
        "publish", slug=f"fanout-stampede-{hosts}", title="Everybody fetches this one while it is delivered",
        body=bench_site.POST_MARKDOWN,
    )  # fmt: skip
    targets = targets_for(urlsplit(published["url"]).path)
    clients = env.sizes.stampede_clients
    (load, cpu), tally = await asyncio.gather(
        with_cpu(env.server.pid, closed_loop(env.group, env.site.base_url, targets, clients, seconds)),
        wait_for_deliveries(sinks, expected, published["started"]),
    )
    result.checks.append(Check(f"fedblog, {hosts} hosts, during the stampede: verified deliveries", expected,
                               int(tally["verified"])))  # type: ignore[call-overload]  # fmt: skip
    result.checks.append(Check("stampede during the fan-out: failed requests", 0, load.bad_status + load.socket_errors))
    result.details[f"stampede_during_fanout_{hosts}"] = {"load": load.as_dict(), "fanout": tally, "cpu": cpu}
    label = f"{clients:,} clients fetching Note, actor and page while it is delivered to {hosts:,} hosts"
    ceiling_p99 = env.measured.get("stampede_ceiling_p99_ms")
    if ceiling_p99:
        result.rows.append(at_most(f"{label}: p99 latency", load.p99_ms, ceiling_p99, "ms", STAMPEDE_P99_SPREAD))
    else:  # the stampede benchmark did not run (--only fanout): no ceiling to compare with
        result.rows.append(info(f"{label}: p99 latency", load.p99_ms, "ms"))
    result.rows.append(info(f"{label}: requests/s", load.rps, "req/s"))
    result.rows.append(info(f"{label}: failed requests (target 0)", load.bad_status + load.socket_errors,
                            "requests"))  # fmt: skip
    fanout_s = float(tally["seconds"] or math.inf)
    result.rows.append(info(f"{label}: time to last delivery", fanout_s, "s", fanout_seconds))


def first_after(tally: dict[str, object], offset: float) -> float:
    """Seconds from `offset` (after the tally's start) to the first verified delivery; 0 if it came before."""
    first = tally.get("first_seconds")
    return max(0.0, float(first) - offset) if isinstance(first, int | float) else math.inf


async def cli_runs(env: Env, sinks: list[Child], hosts: int, expected: int, result: BenchResult) -> list[dict]:
    """`fedblog post publish FILE` run as its author runs it, beside the running server; timed from its return."""
    runs: list[dict[str, object]] = []
    for repeat in range(env.sizes.repeats):
        await reset(sinks)
        slug = f"fanout-cli-{hosts}-{repeat}"
        source = env.workdir / "fanout" / f"{slug}.md"
        front_matter = f"---\ntitle: From the command line ({repeat})\nslug: {slug}\n---\n"
        source.write_text(front_matter + bench_site.POST_MARKDOWN + "\n", encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            *pinned([FEDBLOG, "--config", str(env.site.config), "post", "publish", str(source)], LOAD_CPU),
            env=env.site.environ(), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await asyncio.wait_for(process.communicate(), DELIVERY_TIMEOUT)
        returned = time.monotonic()
        if process.returncode != 0:
            raise RuntimeError(f"fedblog post publish failed: {err.decode(errors='replace')[-500:]}")
        tally = await wait_for_deliveries(sinks, expected, returned)
        tally["returned_to_first"] = first_after(tally, 0.0)
        runs.append(tally)
        result.checks.append(Check(f"fedblog from the CLI, {hosts} hosts, run {repeat + 1}: verified deliveries",
                                   expected, int(tally["verified"])))  # type: ignore[call-overload]  # fmt: skip
    return runs


def flatness(per_host: dict[str, dict[int, float]]) -> Row:
    """Largest over smallest per-host cost across the host counts; the ceiling's spread shown beside it."""

    def spread(costs: dict[int, float]) -> float:
        return max(costs.values()) / min(costs.values()) if costs else math.inf

    mine, theirs = spread(per_host["fedblog"]), spread(per_host["ceiling"])
    sizes = sorted(per_host["fedblog"])
    label = f"cost per host, largest/smallest over {', '.join(f'{h:,}' for h in sizes)} hosts"
    return Row(label, mine, "×", theirs, mine / theirs if theirs else None, f"≤ {FLAT_SPREAD:g}", mine <= FLAT_SPREAD)
