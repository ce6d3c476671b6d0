"""The site's database on a PostgreSQL server: the same `Database` (write queue, group commit, a read connection)
over two asyncpg connections, each on a thread of its own (store/postgresql/raw.py).

What differs from SQLite lives here: migrations from `migrations/postgresql/` under an advisory lock, and commits by
other processes learnt through LISTEN/NOTIFY instead of the WAL file.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, TypeVar

import asyncpg

from fedblog.clock import to_text, utcnow
from fedblog.store.batches import Runners
from fedblog.store.connection import Connection, DatabaseError, ServerUnreachable, SyncConnection
from fedblog.store.db import Database, DatabaseUnreachable, SchemaTooNew, available_migrations
from fedblog.store.postgresql.batches import RUNNERS_READ, RUNNERS_WRITE
from fedblog.store.postgresql.channel import CHANGES_CHANNEL
from fedblog.store.postgresql.raw import (
    CONNECT_TIMEOUT_SECONDS,
    ConnectTarget,
    PostgresConnection,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# pg_advisory_lock's key for migrating: any fixed number no other application on the database uses.
MIGRATION_LOCK = 0x0FEDB106
LISTEN_RETRY_SECONDS = 2.0
WAKEUPS_CHANNEL = "fedblog_wakeups"


class PostgresDatabase(Database):
    # Every statement is a round trip here: the inbox's works are read and written a batch at a time.
    write_runners: ClassVar[Runners] = RUNNERS_WRITE
    read_runners: ClassVar[Runners] = RUNNERS_READ

    def __init__(self, connection: Connection, reader: Connection, target: ConnectTarget) -> None:
        super().__init__(connection, reader)
        self._target = target
        self._listener: asyncpg.Connection | None = None
        self._listening: asyncio.Task[None] | None = None
        self._closing = False
        self._wakeup_callbacks: list[Callable[[str], None]] = []
        # Other processes' commits are listened for from the first data_version() on: a process that caches
        # nothing (`fedblog worker`) is not woken by every commit of every process, its own included.
        self._hearing_changes: asyncio.Future[None] | None = None

    @classmethod
    async def connect(
        cls, url: str, password: str | None = None, statement_timeout_seconds: int = 0
    ) -> PostgresDatabase:
        """Connect, migrate and listen for other processes' commits. Raises DatabaseError (a wrong URL, a refused
        login), StorageUnavailable (the server cannot be reached) or SchemaTooNew; nothing of it shows a password.
        A statement running longer than `statement_timeout_seconds` (0: no limit) is cancelled by the server
        (migrations excepted)."""
        payload = secrets.token_hex(8)
        target = ConnectTarget(
            url, password, notify_payload=payload, statement_timeout_seconds=statement_timeout_seconds
        )
        try:
            writer = await Connection.open_with(partial(PostgresConnection.connect, target), "fedblog-db-write")
        except ServerUnreachable as error:
            raise DatabaseUnreachable(str(error)) from None
        try:
            reader_target = dataclasses.replace(target, read_only=True)
            reader = await Connection.open_with(partial(PostgresConnection.connect, reader_target), "fedblog-db-read")
        except BaseException as error:
            await writer.close()
            if isinstance(error, ServerUnreachable):
                raise DatabaseUnreachable(str(error)) from None
            raise
        database = cls(writer, reader, target)
        try:
            await database.migrate()
            await database._listen_once()
        except BaseException:
            await database.close()
            raise
        database._listening = asyncio.get_running_loop().create_task(database._keep_listening())
        return database

    async def close(self) -> None:
        self._closing = True
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listening
        await self._close_listener()
        await self.connection.close()
        await self.reader.close()

    async def migrate(self) -> int:
        """Apply every PostgreSQL migration not yet applied, each in a transaction of its own, under an advisory
        lock: a second process starting at once waits, then finds them applied. Raises SchemaTooNew as SQLite's."""
        connection = self.connection
        async with self._writes.turn():
            try:
                # Waiting for another process's migrations, and a migration itself, may take longer than the
                # statement timeout of ordinary work: none here (RESET afterwards gives the connection's own back).
                await connection.execute("SET statement_timeout = 0")
                await connection.execute("SELECT pg_advisory_lock(?)", (MIGRATION_LOCK,))
            except ServerUnreachable as error:
                raise DatabaseUnreachable(str(error)) from None
            try:
                return await self._migrate_locked(connection)
            finally:
                with contextlib.suppress(DatabaseError):
                    await connection.execute("SELECT pg_advisory_unlock(?)", (MIGRATION_LOCK,))
                    await connection.execute("RESET statement_timeout")

    async def _migrate_locked(self, connection: Connection) -> int:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        available = available_migrations("postgresql")
        applied = {row[0] for row in await connection.fetch_all("SELECT version FROM schema_migrations")}
        unknown = applied - {version for version, _ in available}
        if unknown:
            raise SchemaTooNew(max(unknown), max((version for version, _ in available), default=0))
        self.migrations_applied = []
        for version, sql in available:
            if version in applied:
                continue
            await connection.run(partial(_apply_migration, version, sql))
            self.migrations_applied.append(version)
        return int(await connection.fetch_value("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def data_version(self) -> int:
        """Changes when any process commits a change (its NOTIFY, heard by this process's listening connection),
        and with this process's own commits. While the listening connection is lost, every call is a change:
        nothing cached can be trusted until it listens again."""
        if self._hearing_changes is None:
            self._hearing_changes = asyncio.ensure_future(self._hear_changes())
        if not self._hearing_changes.done():  # every caller meanwhile waits for the LISTEN
            await asyncio.shield(self._hearing_changes)
        if self._listener is None or self._listener.is_closed():
            self._external_version += 1
        return self._external_version * 1_000_003 + self.version

    async def _hear_changes(self) -> None:
        """LISTEN for other processes' commits on the listening connection (again after it is made anew)."""
        listener = self._listener
        if listener is None or listener.is_closed():
            return  # _keep_listening listens again, for changes too
        try:
            await listener.add_listener(CHANGES_CHANNEL, self._heard)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.debug("listening for changes: %s", type(error).__name__)
            listener.terminate()  # made anew by _keep_listening; until then every call is a change
        self._external_version += 1  # what was committed before

    async def run_statement(self, work: Callable[[SyncConnection], T]) -> T:
        """One trip instead of three: the statement runs outside a transaction block, in its own turn of the write
        queue, so it commits alone (atomically, as any single statement here). No COMMIT carries the NOTIFY of
        its change: the statement sends it itself, `pg_notify` with channel.changes_notice()'s arguments, where it
        changes rows (store/postgresql/deliveries.py)."""
        self._refuse_nested("run_statement()")
        async with self._writes.turn():
            connection = self.connection
            changes_before = connection.total_changes
            try:
                result = await connection.run(partial(_alone, work))
            except DatabaseError as error:
                raise self._refused(error) from error
            finally:
                if connection.total_changes != changes_before:
                    self.version += 1
            self.storage_problem = None
            return result

    async def send_wakeup(self, message: str) -> bool:
        """NOTIFY fedblog_wakeups: every process listening (on this machine or another) hears it once committed."""
        await self.run_transaction(lambda raw: raw.execute("SELECT pg_notify(?, ?)", (WAKEUPS_CHANNEL, message)))
        return True

    def listen_wakeups(self, callback: Callable[[str], None]) -> Callable[[], None] | None:
        self._wakeup_callbacks.append(callback)
        return lambda: self._wakeup_callbacks.remove(callback)

    def _woken(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        for callback in list(self._wakeup_callbacks):
            callback(payload)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload != self._target.notify_payload:  # our own commits bumped self.version already
            self._external_version += 1

    async def _listen_once(self) -> None:
        listener = await asyncpg.connect(
            self._target.url,
            password=self._target.password,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": "fedblog-listen"},
        )
        try:
            if self._hearing_changes is not None:
                await listener.add_listener(CHANGES_CHANNEL, self._heard)
            await listener.add_listener(WAKEUPS_CHANNEL, self._woken)
        except BaseException:
            listener.terminate()
            raise
        self._listener = listener
        self._external_version += 1  # what was committed while nobody listened

    async def _keep_listening(self) -> None:
        """Listen again after the connection is lost (the server restarted), every few seconds until it answers."""
        while not self._closing:
            await asyncio.sleep(LISTEN_RETRY_SECONDS)
            if self._listener is not None and not self._listener.is_closed():
                continue
            await self._close_listener()
            try:
                await self._listen_once()
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.debug("listening for changes: %s", type(error).__name__)

    async def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            try:
                await asyncio.wait_for(listener.close(), 5)
            except Exception:  # the server is gone already: nothing to say goodbye to
                listener.terminate()


def _alone(work: Callable[[SyncConnection], T], raw: SyncConnection) -> T:
    if raw.in_transaction:  # a transaction left open would hold the statement's change uncommitted
        raise DatabaseError("run_statement() on a connection inside a transaction")
    return work(raw)


def _apply_migration(version: int, sql: str, raw: Any) -> None:
    """One migration in one transaction, on the write connection's thread (the advisory lock is held)."""
    raw.execute("BEGIN")
    try:
        raw.execute_script(sql)
        raw.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", (version, to_text(utcnow())))
        raw.execute("COMMIT")
    except BaseException:
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise
