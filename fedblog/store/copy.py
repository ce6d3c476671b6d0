"""`fedblog db copy`: a whole SQLite site's database into an empty PostgreSQL database, for moving a site.

Every table of the SQLite file is copied with its ids (and SQLite's rowid where the PostgreSQL schema keeps it),
in one PostgreSQL transaction: a copy that fails leaves the target as empty as it was. The SQLite file is read in
one read transaction (a snapshot). Tables come in an order where every row's foreign keys exist already; a
table's references to itself (a comment's parent) are set in a second pass. Triggers are off while rows arrive
(the rows copied are what the triggers made on SQLite: follower events, comment publications); the columns
PostgreSQL alone has (the search document) are derived by its triggers once the rows are in. Then each table's
count is checked against the source's and every identity sequence set past the greatest id, so new rows get new
ids.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedblog.store.connection import Connection
from fedblog.store.db import Database

CHUNK_ROWS = 1000
# The schema's own bookkeeping: the target has its own rows, written by its migrations (their dates are copied).
NOT_COPIED = frozenset({"schema_migrations"})
Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table


class CopyError(Exception):
    """A copy that cannot be done or did not match; the message says why. Nothing was committed."""


@dataclass(frozen=True)
class TableCopied:
    name: str
    rows: int


@dataclass(frozen=True)
class TargetTable:
    name: str
    columns: dict[str, str]  # column → PostgreSQL data type
    self_references: tuple[str, ...]  # columns with a foreign key to this same table
    primary_key: tuple[str, ...]


async def copy_sqlite_to(
    source_path: Path, target: Database, progress: Progress | None = None, chunk_rows: int = CHUNK_ROWS
) -> list[TableCopied]:
    """Copy the SQLite database at `source_path` (migrated to this code's schema) into `target`, a PostgreSQL
    database with the same migrations applied and no rows. Returns each table and its count, in copy order."""
    if target.dialect != "postgresql":
        raise CopyError("the target must be a PostgreSQL database")
    source = await asyncio.to_thread(_open_snapshot, source_path)
    try:
        return await _copy(source, target, progress, chunk_rows)
    finally:
        await asyncio.to_thread(source.close)


def _open_snapshot(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise CopyError(f"no SQLite database at {str(path)!r}")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    connection.isolation_level = None
    connection.execute("BEGIN")  # one read transaction for the whole copy: every table as of one moment
    connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    return connection


async def _copy(
    source: sqlite3.Connection, target: Database, progress: Progress | None, chunk_rows: int
) -> list[TableCopied]:
    source_tables = await asyncio.to_thread(_source_tables, source)
    async with target.transaction() as conn:
        await _same_schema(source, conn)
        tables = await _target_tables(conn)
        missing = sorted(set(source_tables) - set(tables))
        if missing:
            raise CopyError(f"the PostgreSQL schema has no table {missing[0]!r}: are both at the same version?")
        order = await _copy_order(conn, [name for name in tables if name in source_tables])
        await _refuse_rows(conn, order)
        copied = []
        for name in order:
            await conn.execute(f'ALTER TABLE "{name}" DISABLE TRIGGER USER')
        derived: dict[str, list[str]] = {}
        for name in order:
            table = tables[name]
            columns = await asyncio.to_thread(_columns_to_copy, source, table)
            total = await asyncio.to_thread(_count, source, name)
            copied.append(TableCopied(name, total))
            await _copy_table(source, conn, table, columns, total, progress, chunk_rows)
            if set(table.columns) - set(columns) - {"rowid"}:
                derived[name] = columns
        for name in order:
            await conn.execute(f'ALTER TABLE "{name}" ENABLE TRIGGER USER')
        for name, columns in derived.items():
            # Columns PostgreSQL alone has (the posts' search document) are its triggers' work: an update of every
            # copied column fires them, as the rows' insert would have.
            same = ", ".join(f'"{column}" = "{column}"' for column in columns if column != "rowid")
            await conn.execute(f'UPDATE "{name}" SET {same}')
        for table_copied in copied:
            found = await conn.fetch_value(f'SELECT COUNT(*) FROM "{table_copied.name}"')
            if found != table_copied.rows:
                raise CopyError(f"{table_copied.name}: {table_copied.rows} rows in SQLite, {found} in PostgreSQL")
        await _set_identities(conn, order)
    return copied


def _source_tables(source: sqlite3.Connection) -> list[str]:
    """The tables holding the site's rows: not SQLite's own, nor a full-text index (rebuilt from posts)."""
    rows = source.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
    virtual = [name for name, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL TABLE")]
    return [
        name
        for name, _ in rows
        if not name.startswith("sqlite_")
        and name not in NOT_COPIED
        and name not in virtual
        and not any(name.startswith(f"{index}_") for index in virtual)
    ]


async def _same_schema(source: sqlite3.Connection, conn: Connection) -> None:
    """Both at the same migrations, whose dates are the source's: the site's age is the first one's (the actor's
    `published`)."""
    applied = await asyncio.to_thread(_fetch, source, "SELECT version, applied_at FROM schema_migrations")
    here = {version for version, _ in applied}
    there = {row[0] for row in await conn.fetch_all("SELECT version FROM schema_migrations")}
    if here != there:
        raise CopyError(
            f"the databases are at different migrations (SQLite {max(here, default=0):03d}, PostgreSQL"
            f" {max(there, default=0):03d}): run `fedblog migrate` on the SQLite site with this fedblog first"
        )
    await conn.executemany(
        "UPDATE schema_migrations SET applied_at = ? WHERE version = ?", [(str(at), version) for version, at in applied]
    )


async def _target_tables(conn: Connection) -> dict[str, TargetTable]:
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in await conn.fetch_all(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        columns.setdefault(table, {})[column] = data_type
    references: dict[str, list[str]] = {}
    for table, column in await conn.fetch_all(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.contype = 'f' AND c.conrelid = c.confrelid AND c.connamespace = current_schema()::regnamespace"
    ):
        references.setdefault(_unquoted(table), []).append(column)
    keys: dict[str, list[str]] = {}
    for table, column in await conn.fetch_all(
        "SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.contype = 'p' AND c.connamespace = current_schema()::regnamespace"
    ):
        keys.setdefault(_unquoted(table), []).append(column)
    return {
        name: TargetTable(name, found, tuple(references.get(name, ())), tuple(keys.get(name, ())))
        for name, found in columns.items()
    }


async def _copy_order(conn: Connection, names: list[str]) -> list[str]:
    """The tables, each after the tables its foreign keys point to (alphabetical among equals)."""
    needs: dict[str, set[str]] = {name: set() for name in names}
    for table, referenced in await conn.fetch_all(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid <> confrelid AND connamespace = current_schema()::regnamespace"
    ):
        table, referenced = _unquoted(table), _unquoted(referenced)
        if table in needs and referenced in needs:
            needs[table].add(referenced)
    order: list[str] = []
    while needs:
        ready = sorted(name for name, wanted in needs.items() if wanted <= set(order))
        if not ready:
            raise CopyError(f"the foreign keys of {', '.join(sorted(needs))} form a cycle")
        order.extend(ready)
        for name in ready:
            del needs[name]
    return order


async def _refuse_rows(conn: Connection, names: Iterable[str]) -> None:
    full = []
    for name in names:
        if await conn.fetch_value(f'SELECT EXISTS (SELECT 1 FROM "{name}")'):
            full.append(name)
    if full:
        shown = ", ".join(full[:5]) + (" …" if len(full) > 5 else "")
        raise CopyError(f"the PostgreSQL database is not empty (rows in {shown}): copy into an empty database")


def _columns_to_copy(source: sqlite3.Connection, table: TargetTable) -> list[str]:
    """The columns both have (SQLite's rowid too where PostgreSQL keeps one); a SQLite column PostgreSQL lacks
    would be lost: refused."""
    here = [row[1] for row in source.execute(f'PRAGMA table_info("{table.name}")').fetchall()]
    lost = [column for column in here if column not in table.columns]
    if lost:
        raise CopyError(f"{table.name}.{lost[0]} has no column in the PostgreSQL schema")
    if "rowid" in table.columns and "rowid" not in here:
        here.append("rowid")
    return here


def _count(source: sqlite3.Connection, name: str) -> int:
    return int(source.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0])


def _fetch(source: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return source.execute(sql, params).fetchall()


async def _copy_table(
    source: sqlite3.Connection,
    conn: Connection,
    table: TargetTable,
    columns: list[str],
    total: int,
    progress: Progress | None,
    chunk_rows: int,
) -> None:
    listed = ", ".join(f'"{column}"' for column in columns)
    insert = f'INSERT INTO "{table.name}" ({listed}) VALUES ({", ".join("?" for _ in columns)})'
    convert = [_converter(table.columns[column]) for column in columns]
    later = [index for index, column in enumerate(columns) if column in table.self_references]
    key = [columns.index(column) for column in table.primary_key if column in columns]
    if later and len(key) != len(table.primary_key):
        raise CopyError(f"{table.name}: a reference to itself without its primary key")
    pending: list[tuple[Any, ...]] = []  # (self-references…, key…) set once every row is in
    done = 0
    # Selected in rowid order: the order rows were written in, as SQLite reads them.
    select = f'SELECT {listed} FROM "{table.name}"' + (" ORDER BY rowid" if _has_rowid(source, table.name) else "")
    cursor = await asyncio.to_thread(source.execute, select)
    if progress is not None:
        progress(table.name, 0, total)
    while rows := await asyncio.to_thread(cursor.fetchmany, chunk_rows):
        values = [[change(value) for change, value in zip(convert, row, strict=True)] for row in rows]
        for row in values:
            if later and any(row[index] is not None for index in later):
                pending.append((*(row[index] for index in later), *(row[index] for index in key)))
                for index in later:
                    row[index] = None
        await conn.executemany(insert, values)
        done += len(rows)
        if progress is not None:
            progress(table.name, done, total)
    if pending:
        assignments = ", ".join(f'"{columns[index]}" = ?' for index in later)
        matches = " AND ".join(f'"{column}" = ?' for column in table.primary_key)
        await conn.executemany(f'UPDATE "{table.name}" SET {assignments} WHERE {matches}', pending)


def _has_rowid(source: sqlite3.Connection, name: str) -> bool:
    try:
        source.execute(f'SELECT rowid FROM "{name}" LIMIT 0')
    except sqlite3.OperationalError:  # a WITHOUT ROWID table
        return False
    return True


def _converter(data_type: str) -> Callable[[Any], Any]:
    """SQLite keeps any value in any column; PostgreSQL (and asyncpg) want the column's own type."""
    if data_type in ("bigint", "integer", "smallint"):
        return lambda value: value if value is None or type(value) is int else int(value)
    if data_type in ("double precision", "real", "numeric"):
        return lambda value: value if value is None else float(value)
    if data_type == "boolean":
        return lambda value: value if value is None else bool(value)
    if data_type == "bytea":
        return lambda value: value if value is None or isinstance(value, bytes) else str(value).encode()
    return lambda value: value if value is None or isinstance(value, str) else _text(value)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


async def _set_identities(conn: Connection, names: list[str]) -> None:
    """Each identity's next value after the greatest copied id (1 for an empty table)."""
    wanted = set(names)
    for table, column in await conn.fetch_all(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ):
        if table not in wanted:
            continue
        await conn.execute(
            f'SELECT setval(pg_get_serial_sequence(?, ?), GREATEST(COALESCE(MAX("{column}"), 0), 1),'
            f' MAX("{column}") IS NOT NULL) FROM "{table}"',
            (f'"{table}"', column),
        )


def _unquoted(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name
