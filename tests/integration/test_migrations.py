"""Migrations: each applied once even when processes start together on a new file, a database newer than the
code stops it with one line, and `fedblog migrate` applies what is missing (database.url names the file).
PostgreSQL's own: tests/integration/test_postgresql.py."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from fedblog.store.db import Database, SchemaTooNew, available_migrations
from tests.conftest import make_site
from tests.helpers import FEDBLOG, Result, clean_env, run


def one_error_line(result: Result) -> str:
    assert result.code != 0
    assert "Traceback" not in result.err
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1, result.err
    return lines[0]


@pytest.mark.sqlite_only  # PostgreSQL's: tests/integration/test_postgresql.py
async def test_migrate__several_openers_of_a_new_file_apply_each_migration_once(tmp_path: Path) -> None:
    # Given a new database file, When four openers start at once (as `serve --processes 4` does)
    path = tmp_path / "new.sqlite3"
    databases = await asyncio.gather(*(Database.open(path) for _ in range(4)))
    try:
        # Then every migration is there, once, and each was applied by exactly one of them
        rows = await databases[0].fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        expected = [version for version, _ in available_migrations()]
        assert [row[0] for row in rows] == expected
        applied = sorted(version for db in databases for version in db.migrations_applied)
        assert applied == expected
    finally:
        for db in databases:
            await db.close()


@pytest.mark.sqlite_only
async def test_migrate__a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    db = await Database.open(path)
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO schema_migrations VALUES (999, datetime('now'))")
    await db.close()
    with pytest.raises(SchemaTooNew, match="migration 999"):
        await Database.open(path)


@pytest.mark.sqlite_only
async def test_cli__a_newer_database_stops_serve_and_commands_with_one_line(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    database = tmp_path / "site" / "fedblog.sqlite3"
    assert (await run(FEDBLOG, "--config", str(config), "migrate")).code == 0
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO schema_migrations VALUES (999, datetime('now'))")
    for command in (("post", "list"), ("migrate",), ("serve", "--port", "9")):
        line = one_error_line(await run(FEDBLOG, "--config", str(config), *command))
        assert "migration 999" in line and "newer" in line, command


async def test_cli_migrate__applies_what_is_missing_then_nothing(tmp_path: Path) -> None:
    # Given a site whose database.url names a file that does not exist yet
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    env = clean_env(FEDBLOG_DATABASE_URL="sqlite:///data/blog.sqlite3")
    (tmp_path / "site" / "data").mkdir()
    newest = max(version for version, _ in available_migrations())

    # When `fedblog migrate` runs twice, Then the first applies every migration and the second nothing
    first = await run(FEDBLOG, "--config", str(config), "migrate", env=env)
    assert first.code == 0, first.err
    assert f"database at migration {newest:03d} ({len(available_migrations())} applied now: 001," in first.out
    assert (tmp_path / "site" / "data" / "blog.sqlite3").is_file()
    second = await run(FEDBLOG, "--config", str(config), "migrate", env=env)
    assert second.out.strip() == f"database at migration {newest:03d} (nothing to apply)"


async def test_cli__an_unreachable_postgresql_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "http://127.0.0.1:9")
    env = clean_env(FEDBLOG_DATABASE_URL="postgresql://blog:hunter2@127.0.0.1:1/blog")
    line = one_error_line(await run(FEDBLOG, "--config", str(config), "migrate", env=env))
    assert "database.url" in line and "unreachable" in line and "blog:***@127.0.0.1:1/blog" in line
    assert "hunter2" not in line
