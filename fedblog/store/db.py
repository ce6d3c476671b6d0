"""The site's database: two SQLite connections (WAL), numbered migrations, one write path.

SQLite allows one writer at a time; the CLI and the server share the file, so every connection uses WAL and a busy
timeout. Writes go through one queue (`Batcher`) on the write connection: `transaction()` takes a turn of its own,
`run_transaction()` works share one. Reads outside a transaction go to a second connection, which sees committed
rows only: a page rendered while a transaction is open never shows what that transaction may still undo.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextvars import ContextVar
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from fedblog.store import checkpoints
from fedblog.store.batches import Alone, Runner, Runners, runs
from fedblog.store.connection import (
    Conflict,
    Connection,
    DatabaseError,
    Dialect,
    Row,
    ServerUnreachable,
    StatementTimedOut,
    SyncConnection,
    SyncCursor,
    Work,
    translated,
)

__all__ = [
    "Conflict",
    "Connection",
    "Database",
    "DatabaseError",
    "Dialect",
    "Row",
    "ServerUnreachable",
    "StatementTimedOut",
    "SyncConnection",
    "SyncCursor",
    "Work",
]

T = TypeVar("T")

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
# The write connection of a database file: its checkpoints are another connection's (store/checkpoints.py).
_FILE_WRITE_PRAGMAS = (*_PRAGMAS, checkpoints.WRITE_PRAGMA)
# The read connection refuses writes: one sent there by mistake would commit outside the write path.
_READ_PRAGMAS = ("PRAGMA busy_timeout=5000", "PRAGMA query_only=ON")

# SQLite's answers that mean the storage refuses writes (not a wrong statement): what an operator must fix.
_STORAGE_PROBLEMS = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_READONLY: "the database is read-only",
    sqlite3.SQLITE_CANTOPEN: "the database file cannot be opened",
    sqlite3.SQLITE_IOERR: "the disk reported an I/O error",
}
# PostgreSQL's (SQLSTATE), the same kind of problem on the server's side.
_SERVER_STORAGE_PROBLEMS = {
    "53100": "the database server's disk is full",
    "25006": "the database server is read-only",
    "53300": "the database server has too many connections",
}


class StorageUnavailable(Exception):
    """A write the storage refused (disk full, read-only file…): nothing of it was committed. str() says why."""


class DatabaseUnreachable(StorageUnavailable):
    """The database server cannot be reached (PostgreSQL down or restarting): nothing was read or committed, and
    the next call connects again. str() says why."""


class DatabaseTimedOut(DatabaseUnreachable):
    """A statement ran past the statement timeout and was cancelled (a lock held too long, a runaway query): the
    request answers 503 as when the server is down, and the next one may well succeed. str() says why."""


def unavailable(error: ServerUnreachable | StatementTimedOut) -> DatabaseUnreachable:
    """What a read that could not be answered raises above the store."""
    return DatabaseTimedOut(str(error)) if isinstance(error, StatementTimedOut) else DatabaseUnreachable(str(error))


def storage_problem_of(error: BaseException) -> str | None:
    """The operator-facing reason when `error` is the storage refusing a write, else None."""
    if isinstance(error, ServerUnreachable):
        return str(error)
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return _SERVER_STORAGE_PROBLEMS.get(sqlstate)
    code = getattr(error, "sqlite_errorcode", None)
    return _STORAGE_PROBLEMS.get(code & 0xFF) if isinstance(code, int) else None


def check_writable(path: Path) -> None:
    """Refuse to start on a database that cannot be written: the folder (SQLite writes its -wal and -shm files
    there) and the file itself. Raises StorageUnavailable naming what to fix."""
    folder = path.parent
    if not folder.is_dir():
        raise StorageUnavailable(f"the database folder {folder} does not exist")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise StorageUnavailable(f"the database folder {folder} is not writable ({error.strerror})") from None
    if path.exists():
        try:
            with path.open("r+b"):
                pass
        except OSError as error:
            raise StorageUnavailable(f"the database {path} is not writable ({error.strerror})") from None


class SchemaTooNew(StorageUnavailable):
    """The database holds a migration this code does not know: a newer fedblog wrote it. str() says which."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the database holds migration {found:03d}, newer than this fedblog knows (its newest is {known:03d}):"
            " run the fedblog that wrote it, or restore a backup made before the upgrade"
        )
        self.found = found
        self.known = known


class NestedWrite(RuntimeError):
    """The write path was entered from inside one of its own transactions: it would wait for itself."""


# The database whose transaction the running code is inside (set for the body of transaction()): a second
# write from there would wait for the turn its own caller holds, and network I/O there would hold every writer.
# Reads from there go to the write connection, so the body sees its own rows.
_writing: ContextVar[Database | None] = ContextVar("fedblog_writing", default=None)


def in_transaction() -> bool:
    """True inside the body of a transaction(): no network I/O, no other write may start from here."""
    return _writing.get() is not None


class Database:
    # Works the backend runs several at once in the group commit and in the read batch (store/batches.py).
    write_runners: ClassVar[Runners] = {}
    read_runners: ClassVar[Runners] = {}

    def __init__(self, connection: Connection, reader: Connection | None = None) -> None:
        self.connection = connection  # the write connection: only the write queue's turns and batches use it
        self.reader = reader or connection  # committed rows only (the same connection for ":memory:")
        self.version = 0  # bumped after every committed write: caches key on it
        # Set by open(): the WAL file whose changes reveal commits by other processes (the CLI).
        self.wal_path: Path | None = None
        self._wal_stamp: tuple[int, int, bytes] | None = None
        self._wal_fd: int | None = None  # kept open: an open() per cached page was a tenth of a page hit
        self._external_version = 0
        self._wal_checked_this_turn = False
        # The one write queue: transaction() takes a turn, run_transaction()'s works queued meanwhile share a batch.
        self._writes = Batcher(self._commit_batch)
        self._checkpoints: checkpoints.Checkpointer | None = None  # a SQLite file's WAL checkpoints (open())
        # Why the last write failed when the storage refused it (disk full…); None once a write commits again.
        self.storage_problem: str | None = None
        self.migrations_applied: list[int] = []  # the numbers the last migrate() applied itself

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        name = str(path)
        in_memory = name == ":memory:"
        if not in_memory:
            check_writable(Path(path))
        connection = await Connection.open(name, _PRAGMAS if in_memory else _FILE_WRITE_PRAGMAS, "fedblog-db-write")
        reader = None
        if not in_memory:  # a second connection to ":memory:" would be another, empty database
            try:
                reader = await Connection.open(name, _READ_PRAGMAS, "fedblog-db-read")
            except BaseException:
                await connection.close()
                raise
        database = cls(connection, reader)
        database.wal_path = Path(f"{path}-wal")
        try:
            if not in_memory:
                database._checkpoints = await checkpoints.Checkpointer.open(name)
            await database.migrate()
        except BaseException:
            await database.close()
            raise
        return database

    @property
    def dialect(self) -> Dialect:
        """The backend, "sqlite" or "postgresql": where a statement must differ, the repository picks it by this."""
        return self.connection.dialect

    async def close(self) -> None:
        self._close_wal()
        if self._checkpoints is not None:
            await self._checkpoints.close()
        await self.connection.close()
        await self.reader.close()

    def _committed(self) -> None:
        """After a commit that changed rows: caches see a new version, and the WAL is checkpointed soon."""
        self.version += 1
        if self._checkpoints is not None:
            self._checkpoints.committed()

    # Wake-ups between processes through the database (PostgreSQL's NOTIFY, to workers on any machine); SQLite's
    # processes use UNIX sockets beside the file instead (services/wakeups.py), so these say "not here".
    async def send_wakeup(self, message: str) -> bool:
        """Tell every process listening for wake-ups; False when this backend has no such channel."""
        return False

    def listen_wakeups(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        """`callback(message)` for every wake-up sent by any process, until the returned function is called;
        None when this backend has no such channel."""
        return None

    def _read_connection(self) -> Connection:
        """The write connection inside this database's transaction (the body reads its own rows), else the
        read connection (committed rows only)."""
        return self.connection if _writing.get() is self else self.reader

    # Reads take one trip to the database thread each (statement, rows and cursor together). A database server
    # that cannot be reached is StorageUnavailable, as a refused write is: pages answer 503, not 500.
    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        try:
            return await self._read_connection().fetch_all(sql, params)
        except (ServerUnreachable, StatementTimedOut) as error:
            raise unavailable(error) from None

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        """The first row; for queries of one or a few rows (by key, LIMIT, aggregates): all rows are read."""
        try:
            return await self._read_connection().fetch_one(sql, params)
        except (ServerUnreachable, StatementTimedOut) as error:
            raise unavailable(error) from None

    async def fetch_value(self, sql: str, params: Iterable[Any] = ()) -> Any:
        try:
            return await self._read_connection().fetch_value(sql, params)
        except (ServerUnreachable, StatementTimedOut) as error:
            raise unavailable(error) from None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """BEGIN IMMEDIATE … COMMIT, a turn of the write queue. Raises NestedWrite inside another."""
        self._refuse_nested("transaction()")
        async with self._writes.turn():
            connection = self.connection
            changes_before = connection.total_changes
            try:
                await self._begin()
            except DatabaseError as error:
                raise self._refused(error) from error
            writing = _writing.set(self)
            try:
                yield connection
            except BaseException as error:
                # SQLite may have rolled back already (a full disk ends the transaction).
                with contextlib.suppress(DatabaseError):
                    await connection.execute("ROLLBACK")
                if connection.total_changes != changes_before:
                    self.version += 1
                if isinstance(error, DatabaseError):
                    raise self._refused(error) from error
                raise
            else:
                try:
                    await connection.execute("COMMIT")
                except DatabaseError as error:
                    with contextlib.suppress(DatabaseError):
                        await connection.execute("ROLLBACK")
                    self.version += 1
                    raise self._refused(error) from error
                # Only a commit that changed rows invalidates caches: the delivery worker's idle polls
                # (an empty claim every few seconds) must not throw away every cached page.
                if connection.total_changes != changes_before:
                    self._committed()
                    self.storage_problem = None
            finally:
                _writing.reset(writing)

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, even when cancelled meanwhile: the statement runs on the database thread all the same,
        so a cancelled caller waits for it and rolls it back (else the connection stays inside a transaction that
        nobody ends, and every later BEGIN fails)."""
        begin = asyncio.ensure_future(self.connection.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
                await self.connection.execute("ROLLBACK")
            raise

    def _refuse_nested(self, what: str) -> None:
        if _writing.get() is self:
            raise NestedWrite(
                f"{what} called inside a transaction of the same database: it would wait for the write turn its"
                " own caller holds (do that work before the transaction, or as a job after the commit)"
            )

    def _refused(self, error: BaseException) -> BaseException:
        """The storage refusing a write becomes StorageUnavailable (and is remembered for /readyz); an integrity
        error becomes Conflict; any other database error stays what it is. A statement timed out is no lasting
        problem of the storage (/readyz stays ready): that request alone answers 503."""
        if isinstance(error, StatementTimedOut):
            return DatabaseTimedOut(str(error))
        problem = storage_problem_of(error)
        if problem is None:
            return translated(error)
        self.storage_problem = problem
        return DatabaseUnreachable(problem) if isinstance(error, ServerUnreachable) else StorageUnavailable(problem)

    async def run(self, work: Callable[[SyncConnection], T]) -> T:
        """`work(raw connection)` in one trip to the read connection's thread (the write connection's
        inside a transaction): several reads for the price of one. Plain reads only, from store/ code;
        writes go through run_transaction() or transaction()."""
        try:
            return await self._read_connection().run(work)
        except (ServerUnreachable, StatementTimedOut) as error:
            raise unavailable(error) from None

    async def run_transaction(self, work: Callable[[SyncConnection], T]) -> T:
        """`work(raw connection)` inside BEGIN IMMEDIATE … COMMIT, in ONE trip to the write thread.

        For hot write paths (the inbox): each awaited statement is a thread wake-up, a dozen per reply were
        more than the SQL itself. `work` runs on that thread: plain calls only, no awaits, no I/O.
        Group commit: works queued while a transaction is under way share the next one (one trip, one commit),
        each in a savepoint of its own: one that raises is undone alone and raises to its caller. Returns once
        committed.
        """
        self._refuse_nested("run_transaction()")
        return await self._writes.submit(work)

    async def run_statement(self, work: Callable[[SyncConnection], T]) -> T:
        """`work(raw connection)`, which runs ONE statement, committed as a transaction of its own. Here it is
        run_transaction(work). A backend where BEGIN and COMMIT are round trips of their own may run the statement
        alone, outside a transaction block (PostgreSQL commits a single statement atomically): then the statement
        also says its change to other processes (store/postgresql/database.py)."""
        return await self.run_transaction(work)

    async def _commit_batch(self, works: list[Work]) -> list[tuple[bool, Any]]:
        """One transaction for the batch, run by the write queue in its turn."""
        changes_before = self.connection.total_changes
        try:
            outcomes = await self.connection.run(
                partial(_in_group_transaction, works=works, runners=self.write_runners)
            )
        except Exception as error:  # BEGIN or COMMIT failed: none of the batch is committed
            return [(False, self._refused(error))] * len(works)
        else:
            outcomes = [(False, self._refused(value)) if not ok else (ok, value) for ok, value in outcomes]
            if any(ok for ok, _ in outcomes):
                self.storage_problem = None
            return outcomes
        finally:
            if self.connection.total_changes != changes_before:
                self._committed()

    async def data_version(self) -> int:
        """Changes when any connection (the CLI too) commits; lets caches notice outside writes.

        Asking SQLite (`PRAGMA data_version`) costs a trip to the database thread on every cached page, so it is asked
        only when the WAL file changed: every commit in WAL mode appends to it (size, mtime) or restarts it (new salt
        in its header). Our own commits bump `self.version` as well.

        Under load, many requests resume in one turn of the event loop: the WAL file is looked at once per turn
        (two system calls were a tenth of a cached Note's cost in the stampede); a commit made by another process
        during that turn shows from the next one."""
        if not self._wal_checked_this_turn:
            stamp = self._read_wal_stamp()
            if stamp is None or stamp != self._wal_stamp:
                self._external_version = int(await self.fetch_value("PRAGMA data_version"))
                self._wal_stamp = stamp
            self._wal_checked_this_turn = True
            asyncio.get_running_loop().call_soon(self._next_turn)
        return self._external_version * 1_000_003 + self.version

    def _next_turn(self) -> None:
        self._wal_checked_this_turn = False

    def _read_wal_stamp(self) -> tuple[int, int, bytes] | None:
        """(size, mtime, header) of the WAL file: an fstat and a 32-byte pread on a descriptor kept open."""
        if self.wal_path is None:
            return None
        try:
            if self._wal_fd is None:
                self._wal_fd = os.open(self.wal_path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            info = os.fstat(self._wal_fd)
            if info.st_nlink == 0:  # deleted (every connection closed once): follow the new file
                self._close_wal()
                return None
            header = os.pread(self._wal_fd, 32, 0)  # the checkpoint sequence and salts change when the WAL restarts
        except OSError:
            self._close_wal()
            return None
        return (info.st_size, info.st_mtime_ns, header)

    def _close_wal(self) -> None:
        if self._wal_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._wal_fd)
            self._wal_fd = None

    async def migrate(self) -> int:
        """Apply every numbered migration not yet applied, each in a transaction of its own; return the schema
        version. Raises SchemaTooNew when the database holds a migration this code does not know (a newer fedblog
        wrote it). Several processes may start at once on a new file: each migration is looked for again under the
        write lock (BEGIN IMMEDIATE), so only one of them applies it."""
        await self.connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        available = available_migrations()
        applied = {row[0] for row in await self.connection.fetch_all("SELECT version FROM schema_migrations")}
        unknown = applied - {version for version, _ in available}
        if unknown:
            raise SchemaTooNew(max(unknown), max((version for version, _ in available), default=0))
        self.migrations_applied = []
        for version, sql in available:
            if version in applied:
                continue
            async with self._writes.turn():
                await self.connection.execute("BEGIN IMMEDIATE")
                try:
                    found = await self.connection.fetch_value(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", (version,)
                    )
                    if found is None:  # another process may have applied it since we looked
                        for statement in split_statements(sql):
                            await self.connection.execute(statement)
                        await self.connection.execute(
                            "INSERT INTO schema_migrations VALUES (?, datetime('now'))", (version,)
                        )
                        self.migrations_applied.append(version)
                except BaseException:
                    await self.connection.execute("ROLLBACK")
                    raise
                await self.connection.execute("COMMIT")
        return int(await self.connection.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))


class Batcher:
    """The one queue-and-settle of the write path and the read batch.

    Works submitted while a batch runs go together in the next one (one trip to the database thread), and each
    caller gets its own outcome. A turn (`turn()`, what transaction() takes) is a place in the same queue that
    has the connection to itself until it ends: batches and turns follow one another in the order they came, and
    one of them at a time holds the connection.
    """

    def __init__(self, run_batch: Callable[[list[Work]], Awaitable[list[tuple[bool, Any]]]]) -> None:
        self._run_batch = run_batch  # [(True, result) or (False, exception)], one per work, in order
        # (work, future) in arrival order; a work of None is a turn waiting for the connection.
        self._queued: collections.deque[tuple[Work | None, asyncio.Future[Any]]] = collections.deque()
        self._busy = False  # a batch or a turn holds the connection
        self._flusher: asyncio.Task[None] | None = None  # kept: the loop holds tasks only weakly

    async def submit(self, work: Callable[[SyncConnection], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queued.append((work, future))
        self._start()
        return await future

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """The connection to the caller alone for the body, after what was queued before it."""
        if not self._busy and not self._queued:
            self._busy = True  # nobody waits: no trip through the queue
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._queued.append((None, future))
            self._start()
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():  # given the turn as it was cancelled: pass it on
                    self._release()
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        self._busy = False
        self._start()

    def _start(self) -> None:
        if not self._busy and self._queued:
            self._busy = True
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        """Run queued batches until the queue is empty or a turn is next (which then holds the connection)."""
        batch: list[tuple[Work | None, asyncio.Future[Any]]] = []
        try:
            while self._queued:
                if self._queued[0][0] is None:
                    _, future = self._queued.popleft()
                    if future.done():  # its caller was cancelled while waiting
                        continue
                    future.set_result(None)
                    return  # the turn releases the connection when it ends
                while self._queued and self._queued[0][0] is not None:
                    batch.append(self._queued.popleft())
                outcomes = await self._run_batch([work for work, _ in batch if work is not None])
                settle(batch, outcomes)  # a cancelled caller's work was done all the same
                batch = []
            self._busy = False
        except BaseException:  # cancelled (shutdown): nobody may wait forever
            for _, future in [*batch, *self._queued]:
                future.cancel()
            self._queued.clear()
            self._busy = False
            raise


def _in_group_transaction(raw: SyncConnection, works: list[Work], runners: Runners | None = None) -> list[Any]:
    """One transaction for all; [(True, result) or (False, exception)] in order. Runs of works a backend batches
    (`runners`, store/batches.py) go to their runner in one savepoint, each work alone if the runner fails."""
    outcomes: list[tuple[bool, Any]] = []
    runners = runners or {}
    raw.execute("BEGIN IMMEDIATE")
    try:
        if len(works) == 1 and type(works[0]) not in runners:  # no savepoint needed
            try:
                outcomes.append((True, works[0](raw)))
            except Exception as error:
                if raw.in_transaction:
                    raw.execute("ROLLBACK")
                return [(False, error)]
        else:
            alone = partial(_alone_in_savepoint, raw)
            for runner, run in runs(works, runners):
                done = [alone(run[0])] if runner is None else _batched_in_savepoint(raw, runner, run, alone)
                if not raw.in_transaction:  # SQLite ended the whole transaction (a full disk): none committed
                    ended = (False, DatabaseError("the transaction ended"))
                    return [next((outcome for outcome in done if not outcome[0]), ended)] * len(works)
                outcomes.extend(done)
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
    return outcomes


def _alone_in_savepoint(raw: SyncConnection, work: Work) -> tuple[bool, Any]:
    raw.execute("SAVEPOINT work")
    try:
        outcome: tuple[bool, Any] = (True, work(raw))
    except Exception as error:
        if not raw.in_transaction:
            return (False, error)
        raw.execute("ROLLBACK TO work")
        outcome = (False, error)
    raw.execute("RELEASE work")
    return outcome


def _batched_in_savepoint(raw: SyncConnection, runner: Runner, run: list[Work], alone: Alone) -> list[tuple[bool, Any]]:
    """A run of works through the backend's runner; if it raises, none of it stays and each work runs alone."""
    raw.execute("SAVEPOINT batch")
    try:
        outcomes = runner(raw, run, alone)
    except Exception:
        if not raw.in_transaction:
            raise
        raw.execute("ROLLBACK TO batch")
        outcomes = []
        for work in run:
            outcomes.append(alone(work))
            if not raw.in_transaction:
                return outcomes
    if raw.in_transaction:
        raw.execute("RELEASE batch")
    return outcomes


def available_migrations(dialect: Dialect = "sqlite") -> list[tuple[int, str]]:
    """(number, SQL) of every migration file of the dialect, in order (PostgreSQL's twins in their own folder)."""
    folder = resources.files("fedblog.store") / "migrations"
    if dialect == "postgresql":
        folder = folder / "postgresql"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    return sorted(found)


def settle(batch: list[tuple[Any, asyncio.Future[Any]]], outcomes: list[tuple[bool, Any]]) -> None:
    """Hand each caller of a batch its own outcome (ok, result or exception); a cancelled caller gets nothing."""
    for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def split_statements(sql: str) -> list[str]:
    """Split a migration file into statements, line by line, where SQLite itself says one is complete
    (`sqlite3.complete_statement`): a trigger's body, with its inner ';', stays one statement."""
    statements: list[str] = []
    pending = ""
    for line in sql.splitlines(keepends=True):
        if not pending and (not line.strip() or line.strip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())  # a last statement without ';': SQLite reports it if it is wrong
    return statements
