"""Real `fedblog` commands (`serve`, `worker`) run as an operator runs them, for the benchmarks that measure
processes: started with the site's environment, their output in <workdir>/logs/<name>.log, ready when their log
says so, stopped with SIGTERM (then SIGKILL), every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bench.machine import pinned
from bench.procs import REPO_ROOT, ChildError
from bench.site import BenchSite

FEDBLOG = str(Path(sys.executable).with_name("fedblog"))
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
# What each command logs once it is ready: a web process once it serves, a worker once it runs.
SERVING = "serving http"
WORKING = "fedblog worker is running"


class Command:
    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path, log_start: int) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.log_start = log_start  # the log is appended to by every run of the same name: this run's part

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        with self.log_path.open("rb") as log:
            log.seek(self.log_start)
            return log.read().decode("utf-8", errors="replace")

    async def wait_logged(self, words: str, times: int = 1) -> None:
        """Until the log holds `words` `times` times (N web processes each log that they serve)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while self.log_text().count(words) < times:
            if self.process.returncode is not None:
                raise ChildError(f"{self.name} exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise ChildError(f"{self.name}: not ready within {READY_TIMEOUT:.0f} s: {self.log_text()[-2000:]}")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        for signal_method in (self.process.terminate, self.process.kill):
            if self.process.returncode is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                signal_method()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)


async def start(site: BenchSite, workdir: Path, name: str, args: list[str], cpu: int | Sequence[int] | None) -> Command:
    log_path = workdir / "logs" / f"{name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        log_start = log.tell()
        process = await asyncio.create_subprocess_exec(
            *pinned([FEDBLOG, "--config", str(site.config), *args], cpu),
            cwd=REPO_ROOT, env=site.environ(), stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    return Command(name, process, log_path, log_start)


@contextlib.asynccontextmanager
async def running(
    site: BenchSite,
    workdir: Path,
    name: str,
    args: list[str],
    cpu: int | Sequence[int] | None,
    ready: str,
    times: int = 1,
) -> AsyncIterator[Command]:
    """The command started and ready (its log says `ready`, `times` times), always stopped after the block."""
    command = await start(site, workdir, name, args, cpu)
    try:
        await command.wait_logged(ready, times)
        yield command
    finally:
        await command.stop()
