"""`fedblog backup FILE`, `fedblog restore FILE [--force]` and `fedblog migrate`."""

from __future__ import annotations

import argparse
from pathlib import Path

from fedblog.assembly import open_context, open_database
from fedblog.cli import CommandError, add_command
from fedblog.config import Settings
from fedblog.services.backup import BackupError, restore_backup, write_backup
from fedblog.store.health import schema_version


def register(commands: argparse._SubParsersAction) -> None:
    backup = add_command(
        commands, "backup", run_backup, "write the database (consistent while fedblog runs), keys and media to FILE"
    )
    backup.add_argument("file", help="the backup to write (a .tar.gz, mode 0600: it holds the private key)")
    restore = add_command(commands, "restore", run_restore, "put a backup back in place (fedblog stopped)")
    restore.add_argument("file", help="a file written by `fedblog backup`")
    restore.add_argument("--force", action="store_true", help="replace the site's existing database")
    add_command(
        commands, "migrate", run_migrate, "apply the migrations the database lacks (serve and worker do it at start)"
    )


async def run_backup(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    async with open_context(settings) as ctx:
        try:
            names = await write_backup(ctx, Path(args.file))
        except (BackupError, OSError) as error:
            raise CommandError(f"backup: {error}") from None
    print(f"backed up {', '.join(names)} to {args.file}")
    return 0


async def run_restore(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    try:
        names = restore_backup(settings, Path(args.file), force=args.force)
    except (BackupError, OSError) as error:
        raise CommandError(f"restore: {error}") from None
    print(f"restored {', '.join(names)} from {args.file}")
    return 0


async def run_migrate(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    db = await open_database(settings)  # opening applies what is missing, each migration in its own transaction
    try:
        version = await schema_version(db)
        applied = db.migrations_applied
    finally:
        await db.close()
    done = f"{len(applied)} applied now: {', '.join(f'{n:03d}' for n in applied)}" if applied else "nothing to apply"
    print(f"database at migration {version:03d} ({done})")
    return 0
