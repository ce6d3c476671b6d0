"""A private PostgreSQL cluster for the tests: initdb in a temporary folder, a loopback port, no system service.

Started once per test session, the first time a test needs it (`FEDBLOG_TEST_BACKEND=postgresql`, or a test
marked `postgresql_only`), and stopped when the session ends (`stop_cluster()`, called by tests/conftest.py).
Each test gets a fresh database, made from an already-migrated template (CREATE DATABASE … TEMPLATE: a file copy,
much faster than migrating again) and dropped after the test. As root (the CI), the server runs as the `postgres`
user, in folders it owns; otherwise as the current user. Trust authentication, loopback only; fsync off (a test
server need not survive a power cut).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fedblog.store.db import Database
from fedblog.store.postgresql.database import PostgresDatabase
from fedblog.store.postgresql.raw import ConnectTarget, PostgresConnection

BACKEND_ENV = "FEDBLOG_TEST_BACKEND"
TEMPLATE = "fedblog_template"
SUPERUSER = "postgres"


def backend() -> str:
    """"postgresql" when the suite runs on PostgreSQL (FEDBLOG_TEST_BACKEND), else "sqlite"."""
    chosen = os.environ.get(BACKEND_ENV, "sqlite").strip().lower()
    return "postgresql" if chosen in ("postgresql", "postgres") else "sqlite"


def binaries() -> Path | None:
    """Debian's PostgreSQL programs (the newest installed), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class Cluster:
    folder: Path
    port: int
    bin: Path
    run_as: str | None  # the user the server runs as, when we are root
    made: list[str] = field(default_factory=list)  # databases made for the current test
    _names: itertools.count[int] = field(default_factory=itertools.count)
    # One connection kept for CREATE/DROP DATABASE (a psql process each was most of a test's set-up), on a thread
    # of its own: the callers are often inside an event loop.
    _admin: PostgresConnection | None = None
    _admin_thread: concurrent.futures.ThreadPoolExecutor | None = None

    def admin(self, statement: str) -> None:
        """One statement without a transaction (CREATE/DROP DATABASE) on the kept connection."""
        if self._admin_thread is None:
            self._admin_thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="fedblog-pg-admin")
        self._admin_thread.submit(self._admin_run, statement).result()

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

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql (no driver needed), its output as text; raises on an error."""
        done = subprocess.run(
            [
                str(self.bin / "psql"),
                "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database,
                "-c", statement,
            ],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr.strip()}")
        return done.stdout

    def fresh_database(self) -> str:
        """A new database with every migration applied (a copy of the template); its URL. Dropped by
        drop_made() after the test."""
        name = f"fedblog_test_{os.getpid()}_{next(self._names)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
        self.made.append(name)
        return self.url(name)

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

    def start_server(self) -> None:
        options = " ".join(
            [
                "-h 127.0.0.1", f"-p {self.port}", f"-k {self.folder}",
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                "-c max_connections=200", "-c shared_buffers=32MB",
            ]
        )  # fmt: skip
        _as(self.run_as, [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                          str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", "start"])  # fmt: skip

    def stop_server(self, mode: str = "fast") -> None:
        """The server stopped (its connections cut), the data kept: start_server() brings it back. "fast" writes
        what was committed first; "immediate" is a crash (with fsync off, the last commits may be lost)."""
        _as(self.run_as, [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"])

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # the server may be gone already
            self._close_admin()
        with contextlib.suppress(RuntimeError):  # stopped already
            self.stop_server("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


_cluster: Cluster | None = None
_lock = threading.Lock()


def cluster() -> Cluster:
    """The session's cluster, started (and its template migrated) on first use."""
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = _start()
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


def _as(user: str | None, command: list[str]) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", user, "--", *command] if user else command
    done = subprocess.run(full, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name}: {(done.stderr or done.stdout).strip()}")
    return done


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_cluster() -> Cluster:
    """A cluster of the caller's own (a test that stops and starts its server); the caller stops it."""
    return _start()


def _start() -> Cluster:
    bin_folder = binaries()
    if bin_folder is None:
        raise RuntimeError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): run `make postgresql-deps`")
    run_as = SUPERUSER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="fedblog-pg-"))
    if run_as:
        shutil.chown(folder, user=run_as)
    folder.chmod(0o700)
    data = folder / "data"
    _as(run_as, [str(bin_folder / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
    started = Cluster(folder, _free_port(), bin_folder, run_as)
    try:
        started.start_server()
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
