"""Backup and restore of a PostgreSQL database with PostgreSQL's own tools: `pg_dump` in its custom format (one
file, consistent as of one moment: pg_dump reads in one transaction while the site serves), and `pg_restore`
through `psql` in ONE transaction, so a restore that fails changes nothing.

The password goes to the tools in PGPASSWORD, never on their command line (which other users of the machine can
read) nor in a message. The tools come from Debian's postgresql-client; pg_dump must be at least the server's
major version.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DUMP_TIMEOUT_SECONDS = 3600


class PostgresToolError(Exception):
    """A PostgreSQL tool that is missing or failed; the message says which and why (no password in it)."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise PostgresToolError(f"{name} is not installed (Debian: apt install postgresql-client)")
    return found


def _target(url: str, password: str | None) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that gives it to the tool."""
    parts = urlsplit(url)
    env = dict(os.environ)
    secret = parts.password or password
    if secret:
        env["PGPASSWORD"] = secret
    if parts.password is not None:
        user = parts.username or ""
        host = parts.hostname or ""
        netloc = f"{user}@{host}" if user else host
        if parts.port:
            netloc += f":{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url, env


def _failure(name: str, stderr: str, secret: str | None) -> PostgresToolError:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    message = lines[0] if lines else "no message"
    if secret:
        message = message.replace(secret, "***")
    return PostgresToolError(f"{name}: {message.removeprefix(f'{name}: ')}")


async def dump_database(url: str, password: str | None, target: Path) -> None:
    """`pg_dump --format=custom` of the database at `url` into the new file `target`."""
    dbname, env = _target(url, password)
    process = await asyncio.create_subprocess_exec(
        _tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", f"--dbname={dbname}",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=DUMP_TIMEOUT_SECONDS)
    if process.returncode != 0:
        raise _failure("pg_dump", stderr.decode("utf-8", "replace"), env.get("PGPASSWORD"))


def check_dump_file(path: Path) -> str | None:
    """Why `path` is not a pg_dump archive pg_restore can read (None when it is)."""
    done = subprocess.run(
        [_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        return str(_failure("pg_restore", done.stderr, None))
    return None


def tables_with_rows(url: str, password: str | None) -> list[str]:
    """The database's tables (in its current schema) that hold rows, its migrations' own list aside: a database
    that `fedblog migrate` made and nothing wrote to is empty."""
    answer = _psql(url, password, ["-c", (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        " AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations'"
        " AND (xpath('/row/c/text()', query_to_xml(format('SELECT COUNT(*) AS c FROM (SELECT 1 FROM %I.%I LIMIT 1) s',"
        " table_schema, table_name), false, true, '')))[1]::text::int > 0 ORDER BY table_name"
    )])  # fmt: skip
    return answer.split()


def restore_database(url: str, password: str | None, dump: Path) -> None:
    """The archive `dump` restored into the database at `url`, in one transaction: the database's tables are
    dropped first, and whatever else of the archive's it holds (functions, search configurations) replaced."""
    dbname, env = _target(url, password)
    script = subprocess.run(
        [_tool("pg_restore"), "--no-owner", "--no-privileges", "--clean", "--if-exists", "--file=-", str(dump)],
        capture_output=True, check=False, timeout=DUMP_TIMEOUT_SECONDS,
    )  # fmt: skip
    if script.returncode != 0:
        raise _failure("pg_restore", script.stderr.decode("utf-8", "replace"), None)
    drop = (
        b"DO $$ DECLARE name text; BEGIN FOR name IN SELECT tablename FROM pg_tables"
        b" WHERE schemaname = current_schema() LOOP"
        b" EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', name); END LOOP; END $$;\n"
    )
    done = subprocess.run(
        [_tool("psql"), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", f"--dbname={dbname}"],
        input=drop + script.stdout, capture_output=True, env=env, check=False, timeout=DUMP_TIMEOUT_SECONDS,
    )  # fmt: skip
    if done.returncode != 0:
        raise _failure("psql", done.stderr.decode("utf-8", "replace"), env.get("PGPASSWORD"))


def _psql(url: str, password: str | None, arguments: list[str]) -> str:
    dbname, env = _target(url, password)
    done = subprocess.run(
        [_tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", f"--dbname={dbname}", *arguments],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise _failure("psql", done.stderr, env.get("PGPASSWORD"))
    return done.stdout
