"""What the benchmarks comparing SQLite and PostgreSQL get from the runner (bench/backends.py has the sites and the
CPU accounting): each makes its own site pair, so nothing another benchmark left changes what it measures."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.backends import SQLITE, Postgres, SitePair, create_site_pair, postgres_server, tree_cpu
from bench.benchmarks.common import free_port
from bench.machine import SERVER_CPU
from bench.procs import Children
from bench.sizes import Sizes


@dataclass
class BackendEnv:
    sizes: Sizes
    group: Children
    workdir: Path
    postgres: Postgres
    notes: list[str] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def starting(cls, sizes: Sizes, group: Children, workdir: Path, notes: list[str]) -> Iterator[BackendEnv]:
        """The environment with the run's PostgreSQL cluster, pinned to the server core, stopped after it."""
        with postgres_server(SERVER_CPU) as postgres:
            yield cls(sizes, group, workdir, postgres, notes)

    def site_pair(self, name: str) -> SitePair:
        """A fresh site in <workdir>/<name>, on its SQLite file and on a database `bench_<name>` of its own."""
        return create_site_pair(self.workdir / name, free_port(), self.postgres, f"bench_{name}")

    def cpu(self, backend: str, pids: list[int], exclude: frozenset[int] = frozenset()) -> tuple[float, float]:
        """CPU seconds so far: (fedblog's processes `pids` and their children, the database server). On SQLite the
        database's work runs in fedblog's threads: 0 for the server. On PostgreSQL every server process (backends,
        WAL writer, …) but the driver's own backends `exclude`."""
        if backend == SQLITE:
            return tree_cpu(pids), 0.0
        return tree_cpu(pids), tree_cpu(self.postgres.pids(), exclude)
