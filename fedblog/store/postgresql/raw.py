"""The PostgreSQL raw connection: asyncpg driven from the database thread's own event loop, so that a repository's
sync function (`*_sync(raw, …)`, written for sqlite3's blocking calls) runs on it unchanged.

Each call is `loop.run_until_complete(…)` on a loop private to the thread; statements are prepared once per text and
kept (named prepared statements: the server parses and plans each text once per connection), their `?`
placeholders rewritten to `$1…` once per text. A lost server is
`ServerUnreachable` and the next call connects again.

Every exchange with the server is a round trip that costs both processes a wake-up, more than most statements' own
work. BEGIN, SAVEPOINT, RELEASE and ROLLBACK TO answer nothing a caller reads, so they are held and sent with the
next statement that goes (several in one simple query, or alone just before a prepared statement): a group commit's
BEGIN and SAVEPOINT go in one trip, its last RELEASE with the NOTIFY and the COMMIT in another, and a transaction
that sent nothing else sends nothing at all. `round_trips` counts the exchanges.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from fedblog.store.connection import (
    Conflict,
    DatabaseError,
    Dialect,
    ServerUnreachable,
    StatementTimedOut,
)
from fedblog.store.postgresql.channel import CHANGES_CHANNEL

UNREACHABLE = "the database server is unreachable"
CONNECT_TIMEOUT_SECONDS = 10.0
_PREPARED_KEPT = 512  # statement texts kept prepared per connection (the store has a few hundred)

# Statements that cannot, or need not, be prepared: sent as they are (simple protocol), their status kept.
_UNPREPARED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "RESET ", "NOTIFY", "LISTEN", "UNLISTEN")
# Of those, the ones held until the next statement that goes to the server (see the module's docstring).
_HELD = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK TO")
# SQLite's BEGIN IMMEDIATE takes the write lock at once; PostgreSQL's row locks need no such thing.
_BEGIN_IMMEDIATE = re.compile(r"\s*BEGIN\s+IMMEDIATE\s*;?\s*$", re.IGNORECASE)
_CHANGED_ROWS = ("INSERT", "UPDATE", "DELETE", "MERGE")
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)

# What a lost connection raises, beyond the server's own "shutting down" errors (SQLSTATE class 57P, 08).
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)


@dataclass(frozen=True)
class ConnectTarget:
    """Where and how to connect. `password` is used when the URL has none; repr() never shows it."""

    url: str
    password: str | None = field(default=None, repr=False)
    read_only: bool = False
    # Sent with every NOTIFY of a commit: this process's own commits are known without it.
    notify_payload: str = ""
    # The server cancels a statement running longer (PostgreSQL's statement_timeout); 0: no limit.
    statement_timeout_seconds: int = 0


def numbered_placeholders(sql: str) -> str:
    """`sql` with each `?` outside quotes and comments as `$1`, `$2`…: PostgreSQL's placeholders."""
    if "?" not in sql:
        return sql
    out: list[str] = []
    number = 0
    i = 0
    length = len(sql)
    while i < length:
        char = sql[i]
        if char in ("'", '"'):  # a literal or a quoted name, '' or "" inside it included
            end = i + 1
            while end < length:
                if sql[end] == char:
                    if end + 1 < length and sql[end + 1] == char:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif char == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = length if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif char == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = length if end < 0 else end + 2
            out.append(sql[i:end])
            i = end
        elif char == "?":
            number += 1
            out.append(f"${number}")
            i += 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


class Cursor:
    """A statement's rows, read at once (as the sqlite3 cursor is used: fetchone, fetchall, iteration)."""

    lastrowid: int | None = None  # PostgreSQL has none: the store's statements say RETURNING id

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest = self._rows[self._next :]
        self._next = len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())

    def close(self) -> None:
        self._rows = []


def rowcount_of(status: str) -> int:
    """Rows a statement changed, from its status ("UPDATE 3", "INSERT 0 1"); -1 for others, as sqlite3 says."""
    verb, _, rest = status.partition(" ")
    if verb not in _CHANGED_ROWS:
        return -1
    last = rest.rpartition(" ")[2]
    return int(last) if last.isdigit() else -1


def counting(sql: str) -> str | None:
    """`sql` (an INSERT, UPDATE or DELETE) returning one row per row it changes, so that executemany counts what
    it changed as sqlite3 does (asyncpg's executemany counts nothing: every row given was counted as changed, and a
    commit of UPDATEs that matched nothing retired every process's cached pages); None for other statements."""
    words = sql.split(None, 1)
    if not words or words[0].upper() not in ("INSERT", "UPDATE", "DELETE") or _RETURNING.search(sql):
        return None
    return sql.rstrip().rstrip(";") + " RETURNING 1"


def translated(error: BaseException) -> BaseException:
    """The store's exception for an asyncpg error; a lost server is ServerUnreachable."""
    if isinstance(error, asyncpg.exceptions.IntegrityConstraintViolationError):
        ours: DatabaseError = Conflict(_message(error))
    elif isinstance(error, asyncpg.exceptions.QueryCanceledError):  # before _CONNECTION_LOST: the same class 57
        ours = StatementTimedOut(f"{error} (database.statement_timeout_seconds)")
    elif isinstance(error, _CONNECTION_LOST):
        ours = ServerUnreachable(UNREACHABLE)
    elif isinstance(error, asyncpg.exceptions.PostgresError):
        ours = DatabaseError(_message(error))
    else:
        return error
    ours.sqlstate = getattr(error, "sqlstate", None)
    ours.__cause__ = error
    return ours


def _message(error: BaseException) -> str:
    detail = getattr(error, "detail", None)
    return f"{error} ({detail})" if detail else str(error)


class PostgresConnection:
    """One asyncpg connection owned by the thread that made it (see the module's docstring)."""

    dialect: Dialect = "postgresql"

    def __init__(self, target: ConnectTarget) -> None:
        self._target = target
        self._loop = asyncio.new_event_loop()
        self._connection: asyncpg.Connection | None = None
        self._prepared: collections.OrderedDict[str, Any] = collections.OrderedDict()
        self._numbered: dict[str, str] = {}
        self._names = itertools.count(1)  # of the statements prepared on the server
        self._trace: Callable[[str], object] | None = None
        self._changes_at_begin = 0
        self.total_changes = 0
        self._held: list[str] = []  # BEGIN, SAVEPOINT…: sent with the next statement that goes (module docstring)
        self.round_trips = 0  # exchanges with the server so far

    @classmethod
    def connect(cls, target: ConnectTarget) -> PostgresConnection:
        """Connected now: a wrong URL or an unreachable server raises here (DatabaseError, ServerUnreachable)."""
        raw = cls(target)
        try:
            raw._live()
        except BaseException:
            raw.close()
            raise
        return raw

    @property
    def notify_payload(self) -> str:
        """What this process's notifications of its commits carry (its own are known without them)."""
        return self._target.notify_payload

    @property
    def in_transaction(self) -> bool:
        if self._held[:1] == ["BEGIN"]:
            return True
        connection = self._connection
        return connection is not None and not connection.is_closed() and connection.is_in_transaction()

    def set_trace_callback(self, callback: Callable[[str], object] | None, /) -> None:
        self._trace = callback

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        if self._trace is not None:
            self._trace(sql)
        if _BEGIN_IMMEDIATE.match(sql):
            sql = "BEGIN"
        head = sql.lstrip()[:12].upper()
        if head.startswith("ROLLBACK") and not head.startswith("ROLLBACK TO") and self._connection is None:
            self._held.clear()
            return Cursor([], -1)  # the server ended the transaction with the connection it lost
        try:
            connection = self._live()
            if head.startswith(_UNPREPARED) and not parameters:
                return self._unprepared(connection, sql, head)
            self._send_held(connection)
            statement = self._statement(connection, sql)
            self.round_trips += 1
            rows = self._loop.run_until_complete(statement.fetch(*parameters))
        except BaseException as error:
            raise self._failed(error) from None
        count = rowcount_of(statement.get_statusmsg())
        if count > 0:
            self.total_changes += count
        return Cursor(rows, count)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        rows = [tuple(row) for row in parameters]
        if self._trace is not None:
            self._trace(sql)
        if not rows:
            return Cursor([], 0)
        counted = counting(sql)
        try:
            connection = self._live()
            self._send_held(connection)
            statement = self._statement(connection, sql if counted is None else counted)
            self.round_trips += 1
            if counted is None:
                self._loop.run_until_complete(statement.executemany(rows))
            else:
                changed = len(self._loop.run_until_complete(statement.fetchmany(rows)))
        except BaseException as error:
            raise self._failed(error) from None
        if counted is None:
            self.total_changes += len(rows)  # not counted: at most one row each, as the store uses it
            return Cursor([], -1)
        self.total_changes += changed
        return Cursor([], changed)

    def execute_script(self, sql: str) -> None:
        """Several statements at once, without parameters (a migration file): PostgreSQL's simple protocol."""
        try:
            connection = self._live()
            script, self._held = "; ".join([*self._held, sql]), []
            self.round_trips += 1
            self._loop.run_until_complete(connection.execute(script))
        except BaseException as error:
            raise self._failed(error) from None
        self._prepared.clear()  # tables may have changed under the prepared statements

    def close(self) -> None:
        self._drop_connection(gracefully=True)
        self._loop.close()

    def _unprepared(self, connection: asyncpg.Connection, sql: str, head: str) -> Cursor:
        if head.startswith(_HELD):
            if head.startswith("BEGIN"):
                self._changes_at_begin = self.total_changes
            self._hold(sql)
            return Cursor([], -1)
        ending = head.startswith(("COMMIT", "ROLLBACK"))  # the whole transaction (ROLLBACK TO is held, above)
        if ending and self._held[:1] == ["BEGIN"]:
            self._held.clear()  # nothing of this transaction reached the server: nothing to end there
            return Cursor([], -1)
        if head.startswith("ROLLBACK"):
            # Undone by it anyway; and in a failed transaction a held RELEASE would fail, the ROLLBACK after it unrun.
            self._held.clear()
        elif head.startswith("COMMIT") and self.total_changes != self._changes_at_begin:
            # Other processes retire their cached pages when told (their LISTEN); the same trip as the COMMIT.
            payload = self._target.notify_payload.replace("'", "''")
            sql = f"NOTIFY {CHANGES_CHANNEL}, '{payload}'; {sql}"
        sql, self._held = "; ".join([*self._held, sql]), []
        self.round_trips += 1
        status = self._loop.run_until_complete(connection.execute(sql))
        return Cursor([], rowcount_of(status))

    def _hold(self, sql: str) -> None:
        """Keep a BEGIN, SAVEPOINT, RELEASE or ROLLBACK TO for the next trip; a savepoint released with nothing
        done inside it is dropped with its RELEASE."""
        words = sql.upper().split()
        if words[0] == "BEGIN":
            self._held = ["BEGIN"]
            return
        if words[0] == "RELEASE" and self._held and self._held[-1].upper().split() == ["SAVEPOINT", words[-1]]:
            self._held.pop()
            return
        self._held.append(sql.strip())

    def _send_held(self, connection: asyncpg.Connection) -> None:
        """What is held goes now, in one trip, before a statement that cannot carry it (a prepared one)."""
        if self._held:
            held, self._held = "; ".join(self._held), []
            self.round_trips += 1
            self._loop.run_until_complete(connection.execute(held))

    def _statement(self, connection: asyncpg.Connection, sql: str) -> Any:
        statement = self._prepared.get(sql)
        if statement is not None:
            self._prepared.move_to_end(sql)
            return statement
        numbered = self._numbered.get(sql)
        if numbered is None:
            numbered = self._numbered[sql] = numbered_placeholders(sql)
        self.round_trips += 1
        # Named: the server parses and plans the text once per connection. asyncpg's prepare() without a name,
        # its statement cache being off, makes the unnamed statement, which it parses again at every execution.
        name = f"fedblog_{next(self._names)}"
        statement = self._loop.run_until_complete(connection.prepare(numbered, name=name))
        self._prepared[sql] = statement
        if len(self._prepared) > _PREPARED_KEPT:
            self._prepared.popitem(last=False)
        return statement

    def _live(self) -> asyncpg.Connection:
        """The connection, made again when the last one was lost."""
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        # A transaction of which nothing reached the lost connection yet (only its BEGIN, held) begins on the new one.
        held = self._held if self._held[:1] == ["BEGIN"] else []
        self._drop_connection(gracefully=False)
        self._held = held
        settings = {"application_name": "fedblog"}
        if self._target.read_only:  # as SQLite's query_only: a write sent here by mistake fails
            settings["default_transaction_read_only"] = "on"
        if self._target.statement_timeout_seconds:
            settings["statement_timeout"] = f"{self._target.statement_timeout_seconds}s"
        try:
            self._connection = self._loop.run_until_complete(
                asyncpg.connect(
                    self._target.url,
                    password=self._target.password,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    statement_cache_size=0,  # ours is kept above: one prepared statement per text
                    server_settings=settings,
                )
            )
        except BaseException as error:
            raise _connect_failed(error, self._target) from None
        return self._connection

    def _failed(self, error: BaseException) -> BaseException:
        if isinstance(error, ServerUnreachable | DatabaseError):  # from _live(): already ours
            return error
        lost = self._connection is None or self._connection.is_closed()
        ours: BaseException
        if lost and not isinstance(error, asyncpg.PostgresError):
            ours = ServerUnreachable(UNREACHABLE)
        else:
            ours = translated(error)
        if isinstance(ours, ServerUnreachable):
            self._drop_connection(gracefully=False)
        elif isinstance(error, asyncpg.exceptions.InvalidCachedStatementError):
            self._prepared.clear()
        return ours

    def _drop_connection(self, gracefully: bool) -> None:
        connection, self._connection = self._connection, None
        self._prepared.clear()
        self._held = []
        if connection is None or connection.is_closed():
            return
        if gracefully:
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.wait_for(connection.close(), 5))
                return
        connection.terminate()


def _connect_failed(error: BaseException, target: ConnectTarget) -> BaseException:
    """One line for an operator: what was refused, never the password."""
    ours = _connect_error(error)
    secrets = [secret for secret in (target.password, urlsplit(target.url).password) if secret]
    text = str(ours)
    if any(secret in text for secret in secrets):
        for secret in secrets:
            text = text.replace(secret, "***")
        masked = type(ours)(text)
        masked.__cause__ = None
        return masked
    return ours


def _connect_error(error: BaseException) -> BaseException:
    if isinstance(error, asyncpg.exceptions.InvalidAuthorizationSpecificationError):
        return DatabaseError(f"the server refused the login ({_message(error)})")
    if isinstance(error, asyncpg.exceptions.InvalidCatalogNameError):
        return DatabaseError(f"no such database ({_message(error)})")
    if isinstance(error, _CONNECTION_LOST):
        reason = getattr(error, "strerror", None) or type(error).__name__
        unreachable = ServerUnreachable(f"{UNREACHABLE} ({reason})")
        unreachable.__cause__ = error
        return unreachable
    if isinstance(error, ValueError):  # asyncpg's own check of the URL
        return DatabaseError(f"not a usable PostgreSQL URL ({error})")
    return translated(error)
