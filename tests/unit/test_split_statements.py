"""Migration files are split where SQLite says a statement is complete, so triggers survive whole."""

from __future__ import annotations

import sqlite3

from fedblog.store.db import split_statements

MIGRATION = """-- a migration with a trigger whose body holds several statements
CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL DEFAULT ';');
CREATE TABLE log (note_id INTEGER, what TEXT);

CREATE TRIGGER notes_logged AFTER INSERT ON notes BEGIN
  INSERT INTO log VALUES (new.id, 'inserted');  -- one;
  INSERT INTO log VALUES (new.id, 'twice');
END;
"""


def test_split_statements__keeps_a_trigger_body_whole_and_runs() -> None:
    statements = split_statements(MIGRATION)
    assert len(statements) == 3 and statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    connection = sqlite3.connect(":memory:")
    for statement in statements:
        connection.execute(statement)
    connection.execute("INSERT INTO notes (text) VALUES ('hello')")
    assert connection.execute("SELECT what FROM log ORDER BY rowid").fetchall() == [("inserted",), ("twice",)]
