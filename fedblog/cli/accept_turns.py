"""How a web process of `serve --processes N` accepts from the listening socket it shares with the others.

Every process waiting on the shared socket is woken when a connection arrives, but the first one running takes
what is queued: asyncio's own accept loop takes up to its backlog (128) per wake-up, so a burst of keep-alive
connections (a load generator's, a proxy's pool) landed nearly all on one process while the others stayed idle.
Here a process accepts one connection at a time and, after each, leaves the socket to the others for a moment that
grows with the connections it holds (capped): an idle process takes the next ones, and the burst is shared. The
socket and its queue stay the parent's (processes.py says why), so a stopping process leaves queued connections to
the others."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket

from aiohttp import web

log = logging.getLogger("fedblog.processes")

# The pause after an accept per connection the process already holds, and its cap: short enough not to hold back a
# process serving clients that open a connection per request, long enough for an idle process to be scheduled.
PAUSE_PER_CONNECTION = 0.00005
MAX_PAUSE = 0.001
# Out of file descriptors: wait before accepting again, as asyncio does.
RESOURCE_PAUSE = 1.0


class TurnTakingSite(web.BaseSite):
    """An aiohttp site on the shared, already listening socket, accepting in turns with the other processes."""

    __slots__ = ("_accepting", "_loop", "_opening", "_resume", "_sock")

    def __init__(self, runner: web.BaseRunner, sock: socket.socket) -> None:
        super().__init__(runner)
        self._sock = sock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._resume: asyncio.TimerHandle | None = None
        self._opening: set[asyncio.Task[object]] = set()  # connections accepted, their protocol not made yet
        self._accepting = False

    @property
    def name(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        await super().start()
        self._sock.setblocking(False)
        self._loop = asyncio.get_running_loop()
        self._accepting = True
        self._listen()

    async def stop(self) -> None:
        """Stop accepting; the connections already accepted are finished by the runner."""
        self._accepting = False
        if self._resume is not None:
            self._resume.cancel()
        if self._loop is not None:
            self._loop.remove_reader(self._sock.fileno())
        await super().stop()

    def _listen(self) -> None:
        self._resume = None
        if self._accepting and self._loop is not None:
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def _pause(self, seconds: float) -> None:
        assert self._loop is not None
        self._loop.remove_reader(self._sock.fileno())
        self._resume = self._loop.call_later(seconds, self._listen)

    def _accept(self) -> None:
        assert self._loop is not None
        try:
            connection, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another process took it
        except OSError as error:
            if error.errno not in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                raise
            log.warning("cannot accept a connection (%s); trying again in %.0f s", error.strerror, RESOURCE_PAUSE)
            self._pause(RESOURCE_PAUSE)
            return
        connection.setblocking(False)
        server = self._runner.server
        assert server is not None
        task = self._loop.create_task(self._open(server, connection))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)
        held = len(server.connections) + len(self._opening)
        self._pause(min(held * PAUSE_PER_CONNECTION, MAX_PAUSE))

    async def _open(self, server: web.Server, connection: socket.socket) -> object:
        assert self._loop is not None
        try:
            return await self._loop.connect_accepted_socket(server, connection)
        except OSError:  # the client went away before its transport was made
            with contextlib.suppress(OSError):
                connection.close()
            return None
