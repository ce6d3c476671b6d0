"""Starting, talking to and always stopping the benchmark's child processes (driver side)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.machine import pinned

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


class ChildError(RuntimeError):
    pass


class Child:
    """One role process: `call()` sends a command and waits for its reply; `stop()` ends it."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path
        self.ready: dict[str, Any] = {}
        self._replies: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read_stdout())

    @property
    def pid(self) -> int:
        return self.process.pid

    async def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            tag, _, payload = line.decode().rstrip("\n").partition(" ")
            if tag in ("READY", "OK", "ERR"):
                await self._replies.put((tag, json.loads(payload)))
        await self._replies.put(("EXIT", {}))

    async def _reply(self, timeout: float) -> tuple[str, dict[str, Any]]:
        try:
            return await asyncio.wait_for(self._replies.get(), timeout)
        except TimeoutError:
            raise ChildError(f"{self.name}: no answer within {timeout:.0f} s{self.log_tail()}") from None

    async def wait_ready(self, timeout: float = READY_TIMEOUT) -> dict[str, Any]:
        tag, payload = await self._reply(timeout)
        if tag != "READY":
            raise ChildError(f"{self.name} did not start{self.log_tail()}")
        self.ready = payload
        return payload

    async def call(self, cmd: str, timeout: float = 120.0, **args: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"cmd": cmd, **args}) + "\n").encode())
        await self.process.stdin.drain()
        tag, payload = await self._reply(timeout)
        if tag != "OK":
            raise ChildError(f"{self.name} {cmd}: {payload.get('error', 'exited')}{self.log_tail()}")
        return payload

    def log_tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return ("\n--- " + str(self.log_path) + "\n" + "\n".join(text)) if text else ""

    async def stop(self, timeout: float = 10.0) -> None:
        """Close stdin (the child exits by itself), then terminate, then kill: bounded in time."""
        if self.process.returncode is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            for signal_method in (None, self.process.terminate, self.process.kill):
                if signal_method is not None:
                    with contextlib.suppress(ProcessLookupError):
                        signal_method()
                try:
                    await asyncio.wait_for(self.process.wait(), timeout)
                    break
                except TimeoutError:
                    continue
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Children:
    """Every child started through it is stopped when the block ends, whatever happened."""

    def __init__(self, workdir: Path, profile: frozenset[str] = frozenset()) -> None:
        self.workdir = workdir
        self.started: list[Child] = []
        # Children named here run under py-spy; their folded stacks land in <workdir>/profiles/<name>.txt.
        self.profile = profile

    async def start(
        self, name: str, role: str, args: list[str], cpu: int | None, env: dict[str, str] | None = None
    ) -> Child:
        log_dir = self.workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{name}.log"
        argv = pinned([sys.executable, "-m", f"bench.roles.{role}", *args], cpu)
        if name in self.profile:
            (self.workdir / "profiles").mkdir(exist_ok=True)
            output = self.workdir / "profiles" / f"{name}.txt"
            argv = [py_spy(), "record", "--rate", "250", "--format", "raw", "--output", str(output), "--", *argv]
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
        with open(log_path, "ab") as log:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                cwd=REPO_ROOT,
                env=environment,
                limit=1 << 24,
            )
        child = Child(name, process, log_path)
        self.started.append(child)
        await child.wait_ready()
        return child

    async def stop(self, child: Child) -> None:
        await child.stop()
        if child in self.started:
            self.started.remove(child)

    async def stop_all(self) -> None:
        for child in reversed(self.started):
            await child.stop()
        self.started.clear()


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise ChildError("--profile needs py-spy (pip install py-spy)")
    return found


@contextlib.asynccontextmanager
async def children(workdir: Path, profile: frozenset[str] = frozenset()) -> AsyncIterator[Children]:
    group = Children(workdir, profile)
    try:
        yield group
    finally:
        await group.stop_all()
