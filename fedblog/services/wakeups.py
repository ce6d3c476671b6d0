"""Wake-ups between processes on one machine: a command that queued work (`fedblog post publish` queues a fan-out)
tells the running workers at once instead of leaving it to their next poll.

Each process that runs a worker binds a datagram UNIX socket `<database folder>/wakeups/<pid>.sock` (folder 0700,
socket 0600: only the site's own user can poke it). A process that queued work and runs no worker of its own
sends one datagram naming the work (b"deliveries") to every socket there, once its transaction has committed;
a process with its own worker sets that worker's event, also after the commit (woken before it, a worker reads
nothing new, since its reads see committed rows only, and sleeps until its poll). Any number of worker
processes each get the poke; a socket whose process is gone refuses it and is removed. The poll stays as the
fallback (a lost datagram, a folder that cannot be made): a poke only makes work start sooner.

On PostgreSQL the database carries the pokes instead (`Database.send_wakeup`, a NOTIFY heard by every process's
listening connection), so workers on other machines are woken too; no socket is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from fedblog.store.db import in_transaction

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

DELIVERIES = b"deliveries"
FOLDER_NAME = "wakeups"
SUFFIX = ".sock"
# AF_UNIX paths are limited to 107 bytes (Linux); a site deeper than that keeps the poll alone.
MAX_SOCKET_PATH = 107


def wakeup_folder(ctx: Context) -> Path | None:
    database = str(ctx.settings.database_path)
    if database == ":memory:":
        return None
    return Path(database).parent / FOLDER_NAME


def _events(ctx: Context) -> dict[bytes, asyncio.Event]:
    return {DELIVERIES: ctx.runtime.delivery_wakeup}


@contextlib.asynccontextmanager
async def listening(ctx: Context) -> AsyncIterator[None]:
    """While the block runs, pokes from other processes set this process's wake-up events."""
    events = _events(ctx)
    stop = ctx.db.listen_wakeups(lambda message: _set(events, message.encode()))
    if stop is not None:  # the database carries them (PostgreSQL): workers on any machine hear them
        ctx.runtime.wakeup_listening = True
        try:
            yield
        finally:
            ctx.runtime.wakeup_listening = False
            stop()
        return
    folder = wakeup_folder(ctx)
    path = folder / f"{os.getpid()}{SUFFIX}" if folder else None
    sock = _bind(path) if path else None
    if sock is None or path is None:
        yield
        return
    loop = asyncio.get_running_loop()
    loop.add_reader(sock.fileno(), _drain, sock, events)
    ctx.runtime.wakeup_listening = True
    try:
        yield
    finally:
        ctx.runtime.wakeup_listening = False
        loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _bind(path: Path) -> socket.socket | None:
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        log.info("wake-ups: the socket path %s is too long; workers notice new work at their next poll", path)
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # left by a process of the same pid that died
        old_mask = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old_mask)
        sock.setblocking(False)
    except OSError as error:
        sock.close()
        log.warning("wake-ups: cannot listen on %s (%s); workers notice new work at their next poll", path, error)
        return None
    return sock


def _drain(sock: socket.socket, events: dict[bytes, asyncio.Event]) -> None:
    while True:
        try:
            message = sock.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        _set(events, message)


def _set(events: dict[bytes, asyncio.Event], message: bytes) -> None:
    event = events.get(message)
    if event is not None:
        event.set()


def wake_after_commit(ctx: Context, message: bytes) -> None:
    """Wake the workers for `message` once the caller's transaction has committed: this process's own (its event)
    and, when none runs here, those of the other processes (their sockets). Woken before the commit, a worker
    finds nothing new (its reads see committed rows only) and sleeps until its next poll."""
    if not in_transaction():
        _wake_now(ctx, message)
        return
    # A fresh context: the task must not inherit "inside a transaction" from its caller, it waits for it to end.
    task = asyncio.get_running_loop().create_task(_wake_after_commit(ctx, message), context=contextvars.Context())
    _track(ctx, task)


def _track(ctx: Context, task: asyncio.Task[None]) -> None:
    """Kept until done, and awaited when the context closes (a CLI command's pokes leave before it exits)."""
    ctx.runtime.wakeup_pokes.add(task)
    task.add_done_callback(ctx.runtime.wakeup_pokes.discard)
    if not ctx.runtime.wakeup_closer_added:
        ctx.runtime.wakeup_closer_added = True
        ctx.closers.append(lambda: _finish_pokes(ctx))


async def _send_through_database(ctx: Context, message: bytes) -> None:
    try:
        await ctx.db.send_wakeup(message.decode())
    except Exception as error:  # the database is away: the workers find the work at their next poll
        log.info("wake-ups: could not notify the workers (%s)", error)


async def _wake_after_commit(ctx: Context, message: bytes) -> None:
    try:
        # Joins the write queue behind the transaction that queued the work: returns once that one has ended.
        await ctx.db.run_transaction(lambda _raw: None)
    except Exception as error:  # the storage refused even an empty write: the workers are woken all the same
        log.debug("wake-ups: waiting for the commit failed (%s)", error)
    _wake_now(ctx, message)


def _wake_now(ctx: Context, message: bytes) -> None:
    event = _events(ctx).get(message)
    if event is not None:
        event.set()
    if ctx.runtime.wakeup_listening:
        return  # this process's own worker does it
    if ctx.db.dialect == "postgresql":  # through the database, to the workers of every machine
        _track(ctx, asyncio.get_running_loop().create_task(_send_through_database(ctx, message)))
        return
    folder = wakeup_folder(ctx)
    if folder is not None and folder.is_dir():  # else no worker ever listened on this site
        poke(folder, message)


async def _finish_pokes(ctx: Context) -> None:
    """On close (a CLI command ending): the pokes queued are sent before the process exits."""
    tasks = list(ctx.runtime.wakeup_pokes)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


def poke(folder: Path, message: bytes) -> int:
    """Send `message` to every worker socket in `folder`; remove the sockets nobody listens on. Returns how many
    processes were poked."""
    try:
        paths = [entry for entry in folder.iterdir() if entry.name.endswith(SUFFIX)]
    except OSError:
        return 0
    poked = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for path in paths:
            try:
                sock.sendto(message, str(path))
                poked += 1
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()  # its process is gone
            except BlockingIOError:
                poked += 1  # its queue is full of pokes already: it will look
            except OSError as error:
                log.info("wake-ups: could not poke %s (%s)", path, error)
    return poked
