"""The machine the numbers come from, and which core runs what.

The server under test (fedblog or its ceiling) gets one core, load generators and sinks the other, so that the
same pair of cores serves fedblog and its ceiling. On a one-core machine nothing is pinned.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from importlib import metadata

_cores = sorted(os.sched_getaffinity(0))
SERVER_CPU: int | None = _cores[0] if len(_cores) >= 2 and shutil.which("taskset") else None
LOAD_CPU: int | None = _cores[1] if SERVER_CPU is not None else None


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """argv run on one core (taskset execs the command, so the pid stays the command's)."""
    return argv if cpu is None else ["taskset", "-c", str(cpu), *argv]


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
