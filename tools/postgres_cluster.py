"""A private PostgreSQL cluster: Debian's initdb in a temporary folder, a free loopback port, no system service.

Used by the tests (tests/postgres.py adds the per-test databases) and by the benchmarks (bench/backends.py).
As root (the CI), the server runs as the `postgres` user, in folders it owns; otherwise as the current user.
Trust authentication, loopback only. Only PostgreSQL's own programs are run (psql for statements): no driver.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

SUPERUSER = "postgres"
# A test server need not survive a power cut: no fsync at all.
TEST_OPTIONS = ("-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off")


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
    options: tuple[str, ...] = TEST_OPTIONS
    cpu: int | None = None  # the server's processes pinned to this core (taskset), when set

    def url(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql (no driver needed), its output as text; raises on an error."""
        done = subprocess.run(  # noqa: S603  (an argument list, PostgreSQL's own psql)
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

    def start_server(self) -> None:
        options = " ".join(
            [
                "-h 127.0.0.1", f"-p {self.port}", f"-k {self.folder}",
                "-c max_connections=200", "-c shared_buffers=32MB", *self.options,
            ]
        )  # fmt: skip
        pin = ["taskset", "-c", str(self.cpu)] if self.cpu is not None else []
        _as(self.run_as, [*pin, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                          str(self.folder / "server.log"), "-o", options, "-w", "-t", "60", "start"])  # fmt: skip

    def stop_server(self, mode: str = "fast") -> None:
        """The server stopped (its connections cut), the data kept: start_server() brings it back. "fast" writes
        what was committed first; "immediate" is a crash (with fsync off, the last commits may be lost)."""
        _as(self.run_as, [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "-w", "stop"])

    def server_pid(self) -> int:
        """The postmaster's pid (the first line of postmaster.pid): its children are the server's processes."""
        return int((self.folder / "data" / "postmaster.pid").read_text(encoding="ascii").split()[0])

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError):  # stopped already
            self.stop_server("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


ClusterKind = TypeVar("ClusterKind", bound=Cluster)


def start_cluster(
    kind: type[ClusterKind] = Cluster,  # type: ignore[assignment]  # a subclass adds what its users need
    options: tuple[str, ...] = TEST_OPTIONS,
    cpu: int | None = None,
) -> ClusterKind:
    """initdb in a fresh temporary folder and the server started; the caller stops it (Cluster.stop)."""
    bin_folder = binaries()
    if bin_folder is None:
        raise RuntimeError("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): run `make postgresql-deps`")
    run_as = SUPERUSER if os.geteuid() == 0 else None  # initdb refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="fedblog-pg-"))
    if run_as:
        shutil.chown(folder, user=run_as)
    folder.chmod(0o700)
    _as(run_as, [str(bin_folder / "initdb"), "-D", str(folder / "data"), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
    started = kind(folder, free_port(), bin_folder, run_as, options, cpu)
    try:
        started.start_server()
    except BaseException:
        started.stop()
        raise
    return started


def _as(user: str | None, command: list[str]) -> subprocess.CompletedProcess[str]:
    full = ["runuser", "-u", user, "--", *command] if user else command
    done = subprocess.run(full, capture_output=True, text=True, check=False, timeout=120)  # noqa: S603
    if done.returncode != 0:
        program = next(Path(part).name for part in command if "/" in part)  # pg_ctl, not taskset
        raise RuntimeError(f"{program}: {(done.stderr or done.stdout).strip()}")
    return done


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
