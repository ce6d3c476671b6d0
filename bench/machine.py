"""The machine the numbers come from, and which core runs what.

The server under test (fedblog or its ceiling) gets one core, load generators and sinks the other, so that the
same pair of cores serves fedblog and its ceiling. On a one-core machine nothing is pinned. The driver pins itself
to the load core, and a process started without a core of its own inherits that: what is meant to use several
cores (`serve --processes N`) is given them (WEB_CPUS).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from collections.abc import Sequence
from importlib import metadata

_cores = sorted(os.sched_getaffinity(0))
SERVER_CPU: int | None = _cores[0] if len(_cores) >= 2 and shutil.which("taskset") else None
LOAD_CPU: int | None = _cores[1] if SERVER_CPU is not None else None
# Every core but the load core where there are 3 or more (the load generator on a core of its own); on 2 cores
# both, the load core shared with the load generator. Read before the driver pins itself (bench/__main__.py).
MACHINE_CPUS: tuple[int, ...] = tuple(_cores)
WEB_CPUS: tuple[int, ...] | None = (
    None if SERVER_CPU is None else tuple(cpu for cpu in _cores if cpu != LOAD_CPU or len(_cores) < 3)
)


def pinned(argv: list[str], cpu: int | Sequence[int] | None) -> list[str]:
    """argv run on one core, or on these cores (taskset execs the command, so the pid stays the command's)."""
    if cpu is None:
        return argv
    cpus = str(cpu) if isinstance(cpu, int) else ",".join(str(each) for each in cpu)
    return ["taskset", "-c", cpus, *argv]


def idle_seconds(cpus: Sequence[int] = MACHINE_CPUS) -> float:
    """Idle time of these cores so far (idle and iowait in /proc/stat), seconds; 0 where /proc/stat is missing."""
    ticks = os.sysconf("SC_CLK_TCK")
    names = {f"cpu{cpu}" for cpu in cpus}
    total = 0
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            for line in handle:
                fields = line.split()
                if fields and fields[0] in names:
                    total += int(fields[4]) + int(fields[5])
    except OSError:
        return 0.0
    return total / ticks


def pin_self(cpu: int | None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe() -> dict[str, object]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "absent"

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "pinning": {"server_cpu": SERVER_CPU, "load_cpu": LOAD_CPU},
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: version(name) for name in ("aiohttp", "aiosqlite", "cryptography", "Jinja2")},
        "wrk": shutil.which("wrk") is not None,
    }


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """Resident memory of a process from /proc, KiB: VmRSS now, or VmHWM (the peak so far)."""
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


# What /proc/<pid>/smaps_rollup says of the resident pages (KiB): all of them, the anonymous ones (the heap: Python
# objects, malloc's arenas) and the rest, mapped from files (the interpreter, the shared libraries, SQLite's file).
ROLLUP_FIELDS = ("Rss", "Anonymous", "Private_Dirty", "Shared_Clean", "Private_Clean")


def resident_split(pid: int) -> dict[str, int]:
    """{"rss", "anonymous", "file", and ROLLUP_FIELDS lowercased} in KiB; {} where smaps_rollup is missing."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in ROLLUP_FIELDS:
                    found[name.lower()] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    if "rss" in found and "anonymous" in found:
        found["file"] = found["rss"] - found["anonymous"]
    return found
