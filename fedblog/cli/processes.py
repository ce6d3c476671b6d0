"""`fedblog serve --processes N`: the parent binds the listening socket once and starts N web processes that
inherit it (and, unless --no-worker, one worker process); it restarts a process that dies and, on SIGTERM or
Ctrl-C, stops them all gracefully.

Why one inherited socket rather than SO_REUSEPORT: with SO_REUSEPORT each process has its own accept queue, and
the connections waiting in the queue of a process that dies or restarts are reset; with one shared socket the
queue belongs to the socket, so a connection waits until any living process accepts it. A restart then loses no
connection, and the address is bound (and a bind error reported) once, before any process starts. How the web
processes share the accepting (in turns, not the first one awake taking a whole burst): accept_turns.py.

The children are fresh interpreters (`fedblog serve --no-worker --socket-fd FD`, `fedblog worker`), not forks of
this process: nothing of the parent's state (threads, an event loop, database connections) is copied into them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger("fedblog.processes")

# A process that dies sooner than this after its start waits before the next start, doubling up to the cap, so a
# process that cannot start (a broken database) does not spin.
QUICK_DEATH_SECONDS = 5.0
FIRST_RESTART_DELAY = 0.5
MAX_RESTART_DELAY = 30.0
# How long the parent waits for its children after passing on SIGTERM before it kills them: their own grace
# (in-flight requests, then in-flight deliveries bounded by the delivery timeout) and a margin.
STOP_MARGIN_SECONDS = 15.0
# Prometheus' multi-process mode: each process writes its samples to files in this folder (set by the parent).
METRICS_FOLDER_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def bind_socket(host: str, port: int) -> socket.socket:
    """The listening socket every web process shares; inheritable, so the children get it through pass_fds."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass
class Child:
    """One slot the parent keeps filled: its command line and the process running it now."""

    name: str
    argv: list[str]
    process: asyncio.subprocess.Process | None = None
    started_at: float = 0.0
    delay: float = FIRST_RESTART_DELAY
    restarts: int = 0


@dataclass
class Supervisor:
    children: list[Child]
    pass_fds: tuple[int, ...]
    env: dict[str, str]
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _start(self, child: Child) -> asyncio.subprocess.Process:
        child.started_at = time.monotonic()
        child.process = await asyncio.create_subprocess_exec(
            *child.argv, pass_fds=self.pass_fds, env=self.env, stdin=asyncio.subprocess.DEVNULL
        )
        log.info("started %s (pid %d)", child.name, child.process.pid)
        return child.process

    async def keep_filled(self, child: Child) -> None:
        """Start the child, and start it again whenever it exits, until the parent stops."""
        while not self.stopping.is_set():
            process = await self._start(child)
            if self.stopping.is_set():  # started while stop_all was signalling the others
                process.send_signal(signal.SIGTERM)
            code = await process.wait()
            forget_metrics_of(self.env, process.pid)
            if self.stopping.is_set():
                return
            lived = time.monotonic() - child.started_at
            quick = lived < QUICK_DEATH_SECONDS
            child.delay = min(child.delay * 2, MAX_RESTART_DELAY) if quick else FIRST_RESTART_DELAY
            child.restarts += 1
            log.warning("%s (pid %d) exited with %s; starting it again", child.name, process.pid, describe_exit(code))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=child.delay)

    async def stop_all(self, grace: float) -> None:
        """SIGTERM to every child, then wait; a child still running after `grace` is killed."""
        self.stopping.set()
        running = [child.process for child in self.children if child.process and child.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        waits = [asyncio.ensure_future(process.wait()) for process in running]
        if not waits:
            return
        _, late = await asyncio.wait(waits, timeout=grace)
        for process in running:
            if process.returncode is None:
                log.warning("pid %d did not stop within %.0f s; killing it", process.pid, grace)
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def describe_exit(code: int) -> str:
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"signal {signal.Signals(-code).name}"
        return f"signal {-code}"
    return f"code {code}"


def forget_metrics_of(env: dict[str, str], pid: int) -> None:
    """A dead process's live gauges must not be summed with the living ones' (prometheus-client's own rule)."""
    if env.get(METRICS_FOLDER_VARIABLE):
        from prometheus_client import multiprocess  # only when metrics are on

        multiprocess.mark_process_dead(pid, env[METRICS_FOLDER_VARIABLE])


def child_commands(
    config: str, processes: int, with_worker: bool, socket_fd: int, log_format: str | None
) -> list[Child]:
    base = [sys.executable, "-m", "fedblog", "--config", config, *(["--log-format", log_format] if log_format else [])]
    parent = ["--parent-pid", str(os.getpid())]  # a child stops when this process is gone, even after a kill -9
    children = [
        Child(f"web process {n}", [*base, "serve", "--no-worker", "--socket-fd", str(socket_fd), *parent])
        for n in range(1, processes + 1)
    ]
    if with_worker:
        children.append(Child("worker process", [*base, "worker", *parent]))
    return children


async def run_processes(
    sock: socket.socket,
    config: str,
    processes: int,
    with_worker: bool,
    grace: float,
    log_format: str | None = None,
    metrics: bool = False,
    announce: Sequence[str] = (),
) -> int:
    """The parent's life: start the children, keep them running, stop them on SIGTERM or Ctrl-C."""
    env = dict(os.environ)
    with contextlib.ExitStack() as stack:
        if metrics:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="fedblog-metrics-"))
            env[METRICS_FOLDER_VARIABLE] = folder
        supervisor = Supervisor(
            child_commands(config, processes, with_worker, sock.fileno(), log_format), (sock.fileno(),), env
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        tasks = [asyncio.create_task(supervisor.keep_filled(child)) for child in supervisor.children]
        for line in announce:
            print(line, flush=True)
        await stop.wait()
        log.info("stopping %d processes", len(supervisor.children))
        await supervisor.stop_all(grace)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    sock.close()
    return 0
