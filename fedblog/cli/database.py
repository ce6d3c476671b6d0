"""`fedblog db copy --to postgresql://…`: the site's SQLite database copied into an empty PostgreSQL database."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TextIO

from fedblog.assembly import open_database
from fedblog.cli import CommandError, add_command
from fedblog.config import ConfigError, Settings, redacted_url, validate
from fedblog.store.copy import CopyError, copy_sqlite_to
from fedblog.store.db import DatabaseError

BAR_WIDTH = 30


def register(commands: argparse._SubParsersAction) -> None:
    database = commands.add_parser("db", help="the site's database")
    actions = database.add_subparsers(dest="action", metavar="ACTION", required=True)
    copy = add_command(
        actions, "copy", run_copy, "copy the SQLite database into an empty PostgreSQL database (fedblog stopped)"
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://user@host:port/dbname (the password may come from FEDBLOG_DATABASE_PASSWORD)",
    )


class ProgressBar:
    """One bar per table on a terminal (redrawn in place); nothing on a pipe or a file."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = out.isatty()

    def __call__(self, table: str, done: int, total: int) -> None:
        if not self.shown:
            return
        filled = BAR_WIDTH if total == 0 else BAR_WIDTH * done // total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        end = "\n" if done >= total else ""
        self.out.write(f"\r{table:<24} [{bar}] {done:,}/{total:,}{end}")
        self.out.flush()


async def run_copy(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    if settings.database_backend != "sqlite":
        raise CommandError("db copy: the site's database.url must name its SQLite file (the source of the copy)")
    target_settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=args.to))
    if target_settings.database_backend != "postgresql":
        raise CommandError("db copy: --to must be a postgresql:// URL")
    try:
        validate(target_settings)
    except ConfigError as error:
        raise CommandError(f"db copy: --to: {error}") from None
    shown = redacted_url(args.to)
    source = await open_database(settings)  # migrated to this code's schema before it is read
    await source.close()
    target = await open_database(target_settings)  # migrated too: the same tables, empty
    try:
        copied = await copy_sqlite_to(settings.database_path, target, progress=ProgressBar(sys.stderr))
    except (CopyError, DatabaseError) as error:
        raise CommandError(f"db copy: nothing copied: {error}") from None
    finally:
        await target.close()
    rows = sum(table.rows for table in copied)
    print(f"copied {len(copied)} tables, {rows:,} rows, to {shown}; counts checked per table")
    print(f'to run the site on it, set database.url = "{shown}" (give the password as FEDBLOG_DATABASE_PASSWORD)')
    return 0
