"""What every benchmark gets from the runner, and small helpers they share."""

from __future__ import annotations

import json
import os
import socket
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.procs import Child, Children
from bench.site import BenchSite
from bench.sizes import Sizes

AS2_ACCEPT = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@dataclass
class Env:
    sizes: Sizes
    site: BenchSite
    group: Children
    server: Child  # fedblog under test, pinned to the server core
    workdir: Path
    # Slugs of the posts seeded for the read path, by comment count; and the post the inbox replies go to.
    read_posts: dict[int, str] = field(default_factory=dict)
    inbox_post: str = ""
    notes: list[str] = field(default_factory=list)
    # Figures one benchmark measures and a later one compares with (the stampede ceiling's p99, for the
    # stampede during the fan-out).
    measured: dict[str, float] = field(default_factory=dict)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summary(who: str, values: list[float], higher_is_better: bool) -> float:
    """fedblog's median; the ceiling's best run. A ceiling is the most this machine did: a run slowed by a
    neighbour (these machines are shared) must not lower the bar fedblog is measured against."""
    if who != "ceiling" or not values:
        return median(values)
    return max(values) if higher_is_better else min(values)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads, from /proc (any child: fedblog or a ceiling)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def with_cpu(pid: int, run: Any) -> tuple[Any, float]:
    """(what `await run` gives, CPU seconds the process `pid` used meanwhile): the server's cost per request,
    which other tenants of the machine disturb far less than its throughput."""
    before = cpu_seconds(pid)
    value = await run
    return value, cpu_seconds(pid) - before


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def fetch(url: str, accept: str = "text/html") -> tuple[int, bytes, str]:
    """One GET from the driver: status, body, content type (to check answers and copy bytes for ceilings)."""
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, headers={"Accept": accept}) as r:
        return r.status, await r.read(), r.headers.get("Content-Type", "")


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
    return path
