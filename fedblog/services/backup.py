"""`fedblog backup` and `fedblog restore`: one tar file holding the database snapshot (SQLite's online backup, or
pg_dump's custom format on PostgreSQL), the site's keys (with their modes) and its uploaded media; restore puts them
back where the site's configuration says they live."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from fedblog.config import Settings, database_password
from fedblog.context import Context
from fedblog.store.backup import check_database_file, copy_database
from fedblog.store.pg_backup import (
    PostgresToolError,
    check_dump_file,
    dump_database,
    restore_database,
    tables_with_rows,
)

DATABASE_MEMBER = "database.sqlite3"
POSTGRESQL_MEMBER = "database.pgdump"  # pg_dump --format=custom
KEYS_FOLDER = "keys"
MEDIA_FOLDER = "media"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message names why, nothing was changed."""


async def write_backup(ctx: Context, target: Path) -> list[str]:
    """Write the backup to `target` (mode 0600: it holds the private key), atomically; return what it holds."""
    settings = ctx.settings
    target = target.resolve()
    if not target.parent.is_dir():
        raise BackupError(f"the folder of {str(target)!r} does not exist")
    with tempfile.TemporaryDirectory(prefix="fedblog-backup-", dir=target.parent) as scratch:
        member = POSTGRESQL_MEMBER if settings.database_backend == "postgresql" else DATABASE_MEMBER
        snapshot = Path(scratch) / member
        if member == POSTGRESQL_MEMBER:
            try:
                await dump_database(settings.database.url, database_password(settings), snapshot)
            except PostgresToolError as error:
                raise BackupError(str(error)) from None
        else:
            await copy_database(ctx.db, snapshot)
        partial = Path(scratch) / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        names = [member]
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(snapshot, arcname=member)
            keys = settings.key_path.parent
            for path in sorted(keys.iterdir()) if keys.is_dir() else []:
                if path.is_file():
                    archive.add(path, arcname=f"{KEYS_FOLDER}/{path.name}")  # tar keeps the mode (0600)
                    names.append(f"{KEYS_FOLDER}/{path.name}")
            media = settings.media_path
            if media.is_dir():
                archive.add(media, arcname=MEDIA_FOLDER)
                names.append(f"{MEDIA_FOLDER}/")
        os.replace(partial, target)
    return names


def restore_backup(settings: Settings, source: Path, force: bool = False) -> list[str]:
    """Put a backup back in place of the site's database, keys and media. Refuses a site that already has a
    database unless `force`. The fedblog processes of the site must be stopped."""
    on_postgresql = settings.database_backend == "postgresql"
    database = settings.database_path
    try:
        if on_postgresql:
            exists = bool(tables_with_rows(settings.database.url, database_password(settings)))
        else:
            exists = database.exists() and database.stat().st_size > 0
    except PostgresToolError as error:
        raise BackupError(str(error)) from None
    if exists and not force:
        where = "rows in its PostgreSQL database" if on_postgresql else f"a database ({str(database)!r})"
        raise BackupError(f"the site already has {where}; stop fedblog and add --force to replace it")
    scratch_parent = settings.root if on_postgresql else database.parent
    with tempfile.TemporaryDirectory(prefix="fedblog-restore-", dir=scratch_parent) as scratch:
        try:
            with tarfile.open(source, mode="r:*") as archive:
                archive.extractall(scratch, filter="data")  # no absolute paths, no `..`, no links out, no devices
        except (OSError, tarfile.TarError) as error:
            # tarfile's own message lists every compression it tried, over several lines
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not a tar archive"
            raise BackupError(f"{str(source)!r} is not a readable fedblog backup ({reason})") from None
        unpacked = Path(scratch)
        snapshot = _database_member(unpacked, source, on_postgresql)
        try:
            problem = check_dump_file(snapshot) if on_postgresql else check_database_file(snapshot)
        except PostgresToolError as error:
            raise BackupError(str(error)) from None
        if problem is not None:
            raise BackupError(f"the database in {str(source)!r} is not usable ({problem})")
        if on_postgresql:  # first: a restore the server refuses leaves the keys and media as they were too
            try:
                restore_database(settings.database.url, database_password(settings), snapshot)
            except PostgresToolError as error:
                raise BackupError(f"nothing restored: {error}") from None
        restored = [snapshot.name]
        keys = unpacked / KEYS_FOLDER
        if keys.is_dir():
            settings.key_path.parent.mkdir(mode=0o700, exist_ok=True)
            for path in sorted(keys.iterdir()):
                os.replace(path, settings.key_path.parent / path.name)
                restored.append(f"{KEYS_FOLDER}/{path.name}")
        media = unpacked / MEDIA_FOLDER
        if media.is_dir():
            shutil.rmtree(settings.media_path, ignore_errors=True)
            shutil.move(media, settings.media_path)
            restored.append(f"{MEDIA_FOLDER}/")
        if not on_postgresql:
            for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):
                stale.unlink(missing_ok=True)  # the old database's journal must not be replayed onto the restored one
            os.replace(snapshot, database)
    return restored


def _database_member(unpacked: Path, source: Path, on_postgresql: bool) -> Path:
    """The archive's database, of the kind the site's backend takes (a SQLite file or a pg_dump archive)."""
    wanted, other = (POSTGRESQL_MEMBER, DATABASE_MEMBER) if on_postgresql else (DATABASE_MEMBER, POSTGRESQL_MEMBER)
    if (unpacked / wanted).is_file():
        return unpacked / wanted
    if (unpacked / other).is_file():
        kinds = ("a SQLite database", "PostgreSQL") if on_postgresql else ("a PostgreSQL dump", "SQLite")
        raise BackupError(
            f"{str(source)!r} holds {kinds[0]}, and this site's database.url names {kinds[1]}"
            + (": restore it on a SQLite site, then `fedblog db copy` it" if on_postgresql else "")
        )
    raise BackupError(f"{str(source)!r} is not a fedblog backup (no {wanted} in it)")
