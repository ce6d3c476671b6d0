"""The store's own connection: one sqlite3 connection owned by one thread, every call one trip to it.

Repositories' write methods take this `Connection` (what `Database.transaction()` yields) and never see the driver.
sqlite3 blocks, so each connection lives on a thread of its own and the event loop hands it work through a queue;
the result comes back through `call_soon_threadsafe`. Public sqlite3 only: no third-party driver, no private API.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

Row = sqlite3.Row
Dialect = Literal["sqlite", "postgresql"]
T = TypeVar("T")


class SyncCursor(Protocol):
    """What a statement gives back on the database thread: its rows, the last row id (SQLite only), the count."""

    @property
    def lastrowid(self) -> int | None: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def close(self) -> None: ...


class SyncConnection(Protocol):
    """The raw connection a repository's sync function gets on the database thread, whatever the backend:
    plain calls, no awaits, no I/O. `dialect` picks a statement where SQLite and PostgreSQL differ."""

    dialect: Dialect

    @property
    def in_transaction(self) -> bool: ...

    @property
    def total_changes(self) -> int: ...

    def execute(self, sql: str, parameters: Any = (), /) -> SyncCursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> SyncCursor: ...


class OwnedConnection(SyncConnection, Protocol):
    """A raw connection as its own thread holds it: what the store's `Connection` needs beyond the works' calls."""

    def set_trace_callback(self, callback: Callable[[str], object] | None, /) -> None: ...

    def close(self) -> None: ...


class SqliteConnection(sqlite3.Connection):
    """sqlite3's own connection, marked with its dialect (made by `sqlite3.connect(factory=…)`: no cost per call)."""

    dialect: Dialect = "sqlite"


# A piece of work run on the connection's thread with the raw connection: plain calls, no awaits, no I/O.
Work = Callable[[SyncConnection], Any]


class DatabaseError(Exception):
    """A statement the database refused (any driver). str() says why; `sqlite_errorcode` keeps SQLite's code."""

    sqlite_errorcode: int | None = None
    sqlstate: str | None = None  # PostgreSQL's code for the error, when it came from there


class ServerUnreachable(DatabaseError):
    """The database server cannot be reached (down, restarting, the connection lost): nothing of the statement's
    transaction was committed, and the next call connects again."""


class StatementTimedOut(DatabaseError):
    """The server cancelled a statement that ran past its statement timeout (PostgreSQL's
    `database.statement_timeout_seconds`): nothing of its transaction was committed; the connection stays usable."""


class Conflict(DatabaseError):
    """A row that would break a unique or foreign key rule (the driver's integrity error)."""


@dataclass(frozen=True, slots=True)
class Executed:
    """What a statement changed: the last inserted row id, and how many rows."""

    lastrowid: int | None
    rowcount: int


def translated(error: BaseException) -> BaseException:
    """The store's exception for a driver's error (an integrity error is a `Conflict`); any other stays."""
    if not isinstance(error, sqlite3.Error):
        return error
    ours = Conflict(str(error)) if isinstance(error, sqlite3.IntegrityError) else DatabaseError(str(error))
    ours.sqlite_errorcode = getattr(error, "sqlite_errorcode", None)
    ours.__cause__ = error
    return ours


class Connection:
    """A raw connection on its own thread. Works run there one at a time, in the order they were asked."""

    def __init__(self, raw: OwnedConnection, thread: threading.Thread, inbox: queue.SimpleQueue[Any]) -> None:
        self._raw = raw
        self._thread = thread
        self._inbox = inbox
        self._closed = False
        self.dialect: Dialect = raw.dialect

    @classmethod
    async def open(cls, path: str, pragmas: Sequence[str], name: str) -> Connection:
        """A SQLite connection on a new thread (so the thread owns it), with `pragmas` run there."""
        return await cls.open_with(partial(_connect_sqlite, path, tuple(pragmas)), name)

    @classmethod
    async def open_with(cls, connect: Callable[[], OwnedConnection], name: str) -> Connection:
        """`connect()` called on a new thread, which then owns the raw connection it returns (any backend)."""
        inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        opened: asyncio.Future[OwnedConnection] = asyncio.get_running_loop().create_future()
        thread = threading.Thread(
            target=_serve, args=(connect, inbox, asyncio.get_running_loop(), opened), name=name, daemon=True
        )
        thread.start()
        raw = await opened
        return cls(raw, thread, inbox)

    @property
    def total_changes(self) -> int:
        """Rows changed since the connection opened (0 once it is closed: the next call raises DatabaseError)."""
        return 0 if self._closed else self._raw.total_changes

    @property
    def in_transaction(self) -> bool:
        return False if self._closed else self._raw.in_transaction

    async def run(self, work: Callable[[SyncConnection], T]) -> T:
        """`work(raw connection)` on the connection's thread; its exception is raised here."""
        if self._closed:
            raise DatabaseError("the database connection is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._inbox.put((work, future, loop))
        return await future

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Executed:
        return await self.run(partial(_execute, sql, tuple(params)))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> Executed:
        return await self.run(partial(_executemany, sql, [tuple(row) for row in rows]))

    # One trip per query: the statement, its rows and closing the cursor happen together on the thread.
    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return await self.run(partial(_fetch_all, sql, tuple(params)))

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def set_trace_callback(self, callback: Callable[[str], None] | None) -> None:
        """Every statement's text to `callback`, called on the connection's thread (benchmarks count statements)."""
        await self.run(lambda _: self._raw.set_trace_callback(callback))

    async def close(self) -> None:
        """Close the connection and end its thread; works already queued run first."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._inbox.put((None, done, loop))
        await done
        await asyncio.to_thread(self._thread.join)


def _execute(sql: str, params: tuple[Any, ...], raw: SyncConnection) -> Executed:
    cursor = raw.execute(sql, params)
    try:
        return Executed(cursor.lastrowid, cursor.rowcount)
    finally:
        cursor.close()


def _executemany(sql: str, rows: list[tuple[Any, ...]], raw: SyncConnection) -> Executed:
    cursor = raw.executemany(sql, rows)
    try:
        return Executed(cursor.lastrowid, cursor.rowcount)
    finally:
        cursor.close()


def _fetch_all(sql: str, params: tuple[Any, ...], raw: SyncConnection) -> list[Row]:
    cursor = raw.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _connect_sqlite(path: str, pragmas: tuple[str, ...]) -> OwnedConnection:
    # check_same_thread off: only total_changes and in_transaction are read from the event loop's thread.
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, factory=SqliteConnection)
    try:
        raw.row_factory = sqlite3.Row
        for pragma in pragmas:
            raw.execute(pragma)
    except BaseException:
        raw.close()
        raise
    return raw


def _serve(
    connect: Callable[[], OwnedConnection],
    inbox: queue.SimpleQueue[Any],
    loop: asyncio.AbstractEventLoop,
    opened: asyncio.Future[OwnedConnection],
) -> None:
    """The connection's thread: connect, then run each work as it comes until asked to close."""
    try:
        raw = connect()
    except BaseException as error:
        loop.call_soon_threadsafe(_settle, opened, False, error)
        return
    loop.call_soon_threadsafe(_settle, opened, True, raw)
    while True:
        work, future, caller_loop = inbox.get()
        if work is None:
            raw.close()
            _answer(caller_loop, future, True, None)
            return
        try:
            result = work(raw)
        except BaseException as error:
            _answer(caller_loop, future, False, translated(error))
        else:
            _answer(caller_loop, future, True, result)


def _answer(loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    # RuntimeError: the event loop closed meanwhile (shutdown), nobody waits for this answer any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, ok, value)


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # the caller was cancelled; the work was done all the same
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
