"""Closed-loop HTTP load from the load core: `wrk` when installed (C, so it outruns any Python server),
else a Python aiohttp generator in its own process. Both report the same numbers."""

from __future__ import annotations

import asyncio
import json
import resource
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.machine import LOAD_CPU, pinned
from bench.procs import Children

WRK_SCRIPT = """
local requests = {requests}
local counter = 0
request = function()
  counter = counter + 1
  local item = requests[(counter % #requests) + 1]
  return wrk.format("GET", item[1], item[2])
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class Target:
    path: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LoadResult:
    loader: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    bad_status: int  # answers >= 400 (wrk) / != 200 (Python)
    loader_cpu_seconds: float = 0.0  # the load generator's own CPU (wrk's; 0 for the Python one: not counted)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid Lua string literal for ASCII text


def wrk_script(targets: list[Target]) -> str:
    items = []
    for target in targets:
        headers = ", ".join(f"[{lua_string(name)}] = {lua_string(value)}" for name, value in target.headers)
        items.append(f"{{{lua_string(target.path)}, {{{headers}}}}}")
    return WRK_SCRIPT.replace("{requests}", "{" + ", ".join(items) + "}")


async def run_wrk(base_url: str, targets: list[Target], connections: int, seconds: float, workdir: Path) -> LoadResult:
    script = workdir / "wrk-script.lua"
    script.write_text(wrk_script(targets), encoding="utf-8")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(script),
            base_url]  # fmt: skip
    before = children_cpu()
    process = await asyncio.create_subprocess_exec(
        *pinned(argv, LOAD_CPU), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=seconds + 120)
    loader_cpu = children_cpu() - before  # wrk, reaped by communicate()
    line = next((line for line in stdout.decode().splitlines() if line.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {stdout.decode()[-500:]} {stderr.decode()[-500:]}")
    data = json.loads(line.removeprefix("WRKJSON "))
    elapsed = data["duration_us"] / 1e6
    return LoadResult(
        loader="wrk",
        requests=data["requests"],
        seconds=elapsed,
        rps=data["requests"] / elapsed,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        bad_status=data["status"],
        loader_cpu_seconds=loader_cpu,
    )


def children_cpu() -> float:
    """CPU seconds of the driver's children it has waited for (wrk once it exits)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run_python(
    group: Children, base_url: str, targets: list[Target], connections: int, seconds: float
) -> LoadResult:
    loader = await group.start("http-load", "http_load", [], LOAD_CPU)
    try:
        data = await loader.call(
            "run",
            timeout=seconds + 120,
            base_url=base_url,
            targets=[[t.path, dict(t.headers)] for t in targets],
            connections=connections,
            seconds=seconds,
        )
    finally:
        await group.stop(loader)
    return LoadResult(loader="python", **data)


async def closed_loop(
    group: Children, base_url: str, targets: list[Target], connections: int, seconds: float
) -> LoadResult:
    """`connections` clients, each sending the next request as soon as the last is answered, for `seconds`."""
    if shutil.which("wrk"):
        return await run_wrk(base_url, targets, connections, seconds, group.workdir)
    return await run_python(group, base_url, targets, connections, seconds)
