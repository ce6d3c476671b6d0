"""The tests' PostgreSQL: the private cluster of tools/postgres_cluster.py (initdb in a temporary folder, a
loopback port, no system service), with a fresh database for each test.

Started once per test process (each pytest-xdist worker has its own), the first time a test needs it
(`FEDBLOG_TEST_BACKEND=postgresql`, or a test marked `postgresql_only`), and stopped when the process's session ends
(`stop_cluster()`, called by tests/conftest.py).
Each test gets a fresh database, made from an already-migrated template (CREATE DATABASE … TEMPLATE: a file copy,
much faster than migrating again) and dropped after the test. fsync off (a test server need not survive a power
cut).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from fedblog.store.db import Database
from fedblog.store.postgresql.database import PostgresDatabase
from fedblog.store.postgresql.raw import ConnectTarget, PostgresConnection
from tools import postgres_cluster

BACKEND_ENV = "FEDBLOG_TEST_BACKEND"
TEMPLATE = "fedblog_template"
T = TypeVar("T")


def backend() -> str:
    """ "postgresql" when the suite runs on PostgreSQL (FEDBLOG_TEST_BACKEND), else "sqlite"."""
    chosen = os.environ.get(BACKEND_ENV, "sqlite").strip().lower()
    return "postgresql" if chosen in ("postgresql", "postgres") else "sqlite"


@dataclass
class Cluster(postgres_cluster.Cluster):
    """The private cluster (tools/postgres_cluster.py) and the tests' databases on it."""

    made: list[str] = field(default_factory=list)  # databases made for the current test
    _names: itertools.count[int] = field(default_factory=itertools.count)
    # One connection kept for CREATE/DROP DATABASE (a psql process each was most of a test's set-up), on a thread
    # of its own: the callers are often inside an event loop.
    _admin: PostgresConnection | None = None
    _admin_thread: concurrent.futures.ThreadPoolExecutor | None = None

    # The session's cluster keeps the next test database ready, copied on the admin thread while a test runs
    # (a copy costs ~0.15 s, most of a PostgreSQL test's set-up); a cluster of a test's own, whose server the test
    # stops and starts, makes each when asked.
    prepare_next: bool = False
    _next: concurrent.futures.Future[str] | None = None

    def admin(self, statement: str) -> None:
        """One statement without a transaction (CREATE/DROP DATABASE) on the kept connection."""
        self._submit(self._admin_run, statement).result()

    def _submit(self, call: Callable[..., T], *args: object) -> concurrent.futures.Future[T]:
        if self._admin_thread is None:
            self._admin_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="fedblog-pg-admin")
        return self._admin_thread.submit(call, *args)

    def _admin_run(self, statement: str) -> None:
        if self._admin is None:
            self._admin = PostgresConnection.connect(ConnectTarget(self.url("postgres")))
        self._admin.execute_script(statement)

    def _close_admin(self) -> None:
        if self._admin_thread is not None:
            if self._admin is not None:
                self._admin_thread.submit(self._admin.close).result()
                self._admin = None
            self._admin_thread.shutdown()
            self._admin_thread = None

    def fresh_database(self) -> str:
        """A new database with every migration applied (a copy of the template); its URL. Dropped by
        drop_made() after the test."""
        ready, self._next = self._next, None
        name = (ready or self._submit(self._copy_template)).result()
        if self.prepare_next:
            self._next = self._submit(self._copy_template)
        self.made.append(name)
        return self.url(name)

    def _copy_template(self) -> str:
        name = f"fedblog_test_{os.getpid()}_{next(self._names)}"
        self._admin_run(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        return name

    def empty_database(self) -> str:
        """A new database without any table (for tests of migrating itself); dropped by drop_made()."""
        name = f"fedblog_empty_{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0")
        self.made.append(name)
        return self.url(name)

    def drop_made(self) -> None:
        made, self.made = self.made, []
        for name in made:
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # the server may be gone already
            self._close_admin()
        super().stop()


_cluster: Cluster | None = None
_lock = threading.Lock()


def cluster() -> Cluster:
    """The session's cluster, started (and its template migrated) on first use."""
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = _start()
            _cluster.prepare_next = True
        return _cluster


def drop_test_databases() -> None:
    """Drop what the last test made (nothing when no cluster was started)."""
    with _lock:
        if _cluster is not None and _cluster.made:
            _cluster.drop_made()


def id_column() -> str:
    """An auto-numbered id column in the suite's dialect, for tables a test makes itself."""
    return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if backend() == "postgresql" else "INTEGER PRIMARY KEY"


async def open_database(path: Path) -> Database:
    """A migrated database for a store test: the SQLite file `path`, or on PostgreSQL a fresh database."""
    if backend() == "postgresql":
        return await PostgresDatabase.connect(cluster().fresh_database())
    return await Database.open(path)


def stop_cluster() -> None:
    global _cluster
    with _lock:
        if _cluster is not None:
            _cluster.stop()
            _cluster = None


@contextlib.contextmanager
def own_cluster() -> Iterator[Cluster]:
    """A cluster of the caller's own (a test that stops and starts its server; the session's is shared)."""
    cluster = _start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _start() -> Cluster:
    started = postgres_cluster.start_cluster(Cluster)
    try:
        started.sql(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0")
        _migrate(started.url(TEMPLATE))
    except BaseException:
        started.stop()
        raise
    return started


def _migrate(url: str) -> None:
    """Every migration applied to the template, on an event loop of its own (the caller may be inside one)."""

    async def migrate() -> None:
        database = await PostgresDatabase.connect(url)
        await database.close()

    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(migrate())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run, name="fedblog-pg-template")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
