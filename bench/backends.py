"""The same site on SQLite and on PostgreSQL, and what each costs in CPU, for the benchmarks that compare the two.

PostgreSQL is a private cluster (tools/postgres_cluster.py) started for the run, pinned to the server core as the
fedblog processes are (on SQLite the database's work runs in fedblog's own threads, on that core), with fsync on
and `synchronous_commit = off`: a commit is not flushed one by one, as SQLite's WAL with `synchronous = NORMAL`
(fedblog's setting) does not flush it either; both may lose the last commits on a power cut, neither on a crash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.site import BenchSite, create_site
from tools.postgres_cluster import Cluster, start_cluster

BENCH_OPTIONS = ("-c synchronous_commit=off",)
# BENCH_PG_STATEMENTS=FILE: the server counts every statement (pg_stat_statements: calls, rows, time), written to
# FILE when the run's cluster stops. It costs the server CPU of its own: for counting, not for the timed figures.
STATEMENTS_ENV = "BENCH_PG_STATEMENTS"
STATEMENTS_OPTIONS = ("-c shared_preload_libraries=pg_stat_statements", "-c pg_stat_statements.track=all")
STATEMENTS_REPORT = (
    "SELECT d.datname, s.calls, s.rows, round(s.total_exec_time::numeric, 1) AS ms, "
    "regexp_replace(left(s.query, 160), '\\s+', ' ', 'g') "
    "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid ORDER BY d.datname, s.total_exec_time DESC"
)
SQLITE, POSTGRESQL = "SQLite", "PostgreSQL"


def process_table() -> dict[int, tuple[int, float]]:
    """Every process: pid → (parent pid, CPU seconds of its own and of the children it has waited for)."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # utime, stime, cutime, cstime: a parent counts its reaped children's time (the postmaster, its backends')
        table[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / ticks)
    return table


def tree(root: int, table: dict[int, tuple[int, float]]) -> set[int]:
    """`root` and every process below it."""
    found, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, (ppid, _) in table.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found


def tree_cpu(roots: list[int], exclude: frozenset[int] = frozenset()) -> float:
    """CPU seconds used so far by these processes and everything below them (the web processes of
    `serve --processes N`, the PostgreSQL server's backends), leaving out `exclude` (the driver's backends)."""
    table = process_table()
    pids = set().union(*(tree(root, table) for root in roots)) - exclude
    return sum(table[pid][1] for pid in pids if pid in table)


@dataclass
class Postgres:
    """The run's PostgreSQL server: one database per benchmark site."""

    cluster: Cluster

    def create_database(self, name: str) -> str:
        self.cluster.sql(f"CREATE DATABASE {name} TEMPLATE template0")
        if os.environ.get(STATEMENTS_ENV):
            self.cluster.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", name)
        return self.cluster.url(name)

    def pids(self) -> list[int]:
        return [self.cluster.server_pid()]

    def processes(self) -> set[int]:
        """The server's processes now: a set taken before and after the driver connects names its backends."""
        return tree(self.cluster.server_pid(), process_table())


@contextlib.contextmanager
def postgres_server(cpu: int | None) -> Iterator[Postgres]:
    report = os.environ.get(STATEMENTS_ENV)
    cluster = start_cluster(options=BENCH_OPTIONS + (STATEMENTS_OPTIONS if report else ()), cpu=cpu)
    try:
        yield Postgres(cluster)
    finally:
        if report:
            with contextlib.suppress(RuntimeError):
                cluster.sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                Path(report).write_text(cluster.sql(STATEMENTS_REPORT), encoding="utf-8")
        cluster.stop()


@dataclass(frozen=True)
class SitePair:
    """One site (config, key, base URL) with two databases: its SQLite file and a PostgreSQL database. The two
    never serve at once, so the followers' sinks and the remote accounts see the same blog either way."""

    sqlite: BenchSite
    postgresql: BenchSite

    def on(self, backend: str) -> BenchSite:
        return self.sqlite if backend == SQLITE else self.postgresql


def create_site_pair(directory: Path, port: int, postgres: Postgres, database: str) -> SitePair:
    site = create_site(directory, port)
    return SitePair(site, dataclasses.replace(site, database_url=postgres.create_database(database)))
