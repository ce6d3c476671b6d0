"""`fedblog backup` and `fedblog restore`: one tar file holding the database snapshot, the site's keys (with their
modes) and its uploaded media; restore puts them back where the site's configuration says they live."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from fedblog.config import Settings
from fedblog.context import Context
from fedblog.store.backup import check_database_file, copy_database

DATABASE_MEMBER = "database.sqlite3"
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
        snapshot = Path(scratch) / DATABASE_MEMBER
        await copy_database(ctx.db, snapshot)
        partial = Path(scratch) / "backup.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        names = [DATABASE_MEMBER]
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
            archive.add(snapshot, arcname=DATABASE_MEMBER)
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
    database = settings.database_path
    if database.exists() and database.stat().st_size > 0 and not force:
        raise BackupError(
            f"the site already has a database ({str(database)!r}); stop fedblog and add --force to replace it"
        )
    with tempfile.TemporaryDirectory(prefix="fedblog-restore-", dir=database.parent) as scratch:
        try:
            with tarfile.open(source, mode="r:*") as archive:
                archive.extractall(scratch, filter="data")  # no absolute paths, no `..`, no links out, no devices
        except (OSError, tarfile.TarError) as error:
            # tarfile's own message lists every compression it tried, over several lines
            reason = error.strerror if isinstance(error, OSError) and error.strerror else "not a tar archive"
            raise BackupError(f"{str(source)!r} is not a readable fedblog backup ({reason})") from None
        unpacked = Path(scratch)
        snapshot = unpacked / DATABASE_MEMBER
        if not snapshot.is_file():
            raise BackupError(f"{str(source)!r} is not a fedblog backup (no {DATABASE_MEMBER} in it)")
        problem = check_database_file(snapshot)
        if problem is not None:
            raise BackupError(f"the database in {str(source)!r} is not usable ({problem})")
        restored = [DATABASE_MEMBER]
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
        for stale in (Path(f"{database}-wal"), Path(f"{database}-shm")):
            stale.unlink(missing_ok=True)  # the old database's journal must not be replayed onto the restored one
        os.replace(snapshot, database)
    return restored
