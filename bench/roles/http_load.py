"""A closed-loop HTTP load generator in Python, used when wrk is not installed."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench.roles.child import serve_commands


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def run(request: dict[str, Any]) -> dict[str, Any]:
    targets = [(request["base_url"] + path, headers) for path, headers in request["targets"]]
    connections, seconds = request["connections"], request["seconds"]
    latencies: list[float] = []
    counters = {"socket_errors": 0, "bad_status": 0, "next": 0}
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + seconds

        async def client() -> None:
            while time.perf_counter() < deadline:
                url, headers = targets[counters["next"] % len(targets)]
                counters["next"] += 1
                sent = time.perf_counter()
                try:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        if response.status != 200:
                            counters["bad_status"] += 1
                except (aiohttp.ClientError, TimeoutError):
                    counters["socket_errors"] += 1
                    continue
                latencies.append(time.perf_counter() - sent)

        await asyncio.gather(*(client() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "seconds": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else 0.0) * 1000,
        "socket_errors": counters["socket_errors"],
        "bad_status": counters["bad_status"],
    }


async def main() -> None:
    await serve_commands({"run": run}, {})


if __name__ == "__main__":
    asyncio.run(main())
