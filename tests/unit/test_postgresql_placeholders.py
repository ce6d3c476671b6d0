"""The PostgreSQL connection's rewrite of the store's `?` placeholders to `$1…`: only those outside quotes and
comments, and its rowcount read from a statement's status."""

from __future__ import annotations

import pytest

from fedblog.store.postgresql.raw import Cursor, numbered_placeholders, rowcount_of


@pytest.mark.parametrize(
    ("sql", "numbered"),
    [
        ("SELECT 1", "SELECT 1"),
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"),
        ("SELECT '?' , ? FROM t", "SELECT '?' , $1 FROM t"),
        ("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"),
        ('SELECT "odd?name" FROM t WHERE x = ?', 'SELECT "odd?name" FROM t WHERE x = $1'),
        ("SELECT ? -- why?\nFROM t WHERE y = ?", "SELECT $1 -- why?\nFROM t WHERE y = $2"),
        ("SELECT /* ? */ ?", "SELECT /* ? */ $1"),
        ("INSERT INTO t VALUES (?, ?, ?) RETURNING id", "INSERT INTO t VALUES ($1, $2, $3) RETURNING id"),
        ("SELECT 'unterminated ?", "SELECT 'unterminated ?"),
    ],
)
def test_numbered_placeholders__only_those_outside_quotes_and_comments(sql: str, numbered: str) -> None:
    assert numbered_placeholders(sql) == numbered


@pytest.mark.parametrize(
    ("status", "count"),
    [("INSERT 0 1", 1), ("UPDATE 3", 3), ("DELETE 0", 0), ("SELECT 5", -1), ("CREATE TABLE", -1), ("MERGE 2", 2)],
)
def test_rowcount__from_the_status_of_a_statement(status: str, count: int) -> None:
    assert rowcount_of(status) == count


def test_cursor__fetchone_then_fetchall_as_sqlite3_gives_them() -> None:
    cursor = Cursor([(1,), (2,), (3,)], -1)
    assert cursor.fetchone() == (1,)
    assert cursor.fetchall() == [(2,), (3,)]
    assert cursor.fetchone() is None
    assert cursor.lastrowid is None
